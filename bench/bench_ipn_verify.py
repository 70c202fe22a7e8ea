"""How long verifying one NowPayments IPN takes (parse, canonicalise, two HMACs, read).

The webhook must answer within the provider's 3000 ms; this shows the signature work
is a negligible part of that. Prints figures; it is not a test.
"""

from __future__ import annotations

import hashlib
import hmac
import statistics
import time
from decimal import Decimal

from adapters.outbound.nowpayments.ipn import IpnVerifier
from core.ports.security import Secret
from sandbox.nowpayments.js_form import sign

ROUNDS = 5
PER_ROUND = 4000


def _body() -> tuple[bytes, dict[str, str]]:
    payload: dict[str, object] = {
        "payment_id": 5077125051,
        "parent_payment_id": None,
        "invoice_id": 4522625843,
        "payment_status": "finished",
        "pay_address": "bc1qexampleaddressexampleaddressexample",
        "payin_extra_id": None,
        "price_amount": Decimal("12.5"),
        "price_currency": "usd",
        "pay_amount": Decimal("0.00020125"),
        "actually_paid": Decimal("0.00020125"),
        "actually_paid_at_fiat": Decimal(0),
        "pay_currency": "btc",
        "order_id": "AbC123xyz_tagtagtagtagtagtagtag",
        "order_description": "Tier 1, 30 days",
        "purchase_id": "6084744717",
        "outcome_amount": Decimal("0.00020024"),
        "outcome_currency": "btc",
        "payment_extra_ids": None,
        "fee": {
            "currency": "btc",
            "depositFee": 0,
            "withdrawalFee": 0,
            "serviceFee": Decimal("0.00000101"),
        },
        "updated_at": 1681218150131,
    }
    body, signature = sign(payload, "previous-secret")
    return body, {"x-nowpayments-sig": signature}


def main() -> None:
    body, headers = _body()
    # The worst case: the signature matches only the previous secret (rotation).
    verifier = IpnVerifier(Secret("current-secret"), previous=Secret("previous-secret"))
    assert verifier.verify(body, headers).payment_id == "5077125051"
    per_call = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(PER_ROUND):
            verifier.verify(body, headers)
        per_call.append((time.perf_counter() - start) / PER_ROUND)
    hmac_start = time.perf_counter()
    for _ in range(PER_ROUND):
        hmac.new(b"previous-secret", body, hashlib.sha512).digest()
    hmac_only = (time.perf_counter() - hmac_start) / PER_ROUND
    best, median = min(per_call), statistics.median(per_call)
    print(f"IPN body: {len(body)} bytes; {ROUNDS} rounds of {PER_ROUND} verifications")  # noqa: T201
    print(f"verify (two secrets): best {best * 1e6:.1f} us, median {median * 1e6:.1f} us")  # noqa: T201
    print(f"one HMAC-SHA512 alone: {hmac_only * 1e6:.1f} us")  # noqa: T201
    print(f"throughput: {1 / median:,.0f} verifications/s on one core")  # noqa: T201


if __name__ == "__main__":
    main()
