"""IPN verification: the signature first, then the fields.

Bodies are signed with the emulator's own JavaScript-form writer or with canonical
strings written out by hand, never with the canonicaliser under test.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from multidict import CIMultiDict

from adapters.outbound.nowpayments.ipn import IpnVerifier
from core.domain.intent_state import IntentStatus
from core.domain.money import Money
from core.ports.payments import InvalidSignature, MalformedNotification
from core.ports.security import Secret
from sandbox.nowpayments.js_form import js_json

SECRET = "current-ipn-secret"
PREVIOUS = "previous-ipn-secret"
GOLDEN = Path(__file__).parents[2] / "golden" / "nowpayments_canonical.json"


def hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha512).hexdigest()


def payment(**changes: object) -> dict[str, object]:
    """A finished payment as the provider reports it; ``None`` removes a field."""
    base: dict[str, object] = {
        "payment_id": 5077125051,
        "parent_payment_id": None,
        "invoice_id": 4522625843,
        "payment_status": "finished",
        "pay_address": "bc1qexampleaddress",
        "price_amount": Decimal("12.5"),
        "price_currency": "usd",
        "pay_amount": Decimal("0.00020125"),
        "actually_paid": Decimal("0.00020125"),
        "pay_currency": "btc",
        "order_id": "AbC123_tagtagtagtagtagtagtag",
        "order_description": "Tier 1, 30 days",
        "purchase_id": "6084744717",
        "outcome_amount": Decimal("0.00020024"),
        "outcome_currency": "btc",
        "fee": {"currency": "btc", "depositFee": 0, "withdrawalFee": 0, "serviceFee": 0},
        "updated_at": 1681218150131,
    }
    for key, value in changes.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    return base


def signed(payload: dict[str, object], secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = js_json(payload, sort_keys=True).encode()
    return body, {"x-nowpayments-sig": hmac_hex(secret, body)}


@pytest.fixture
def verifier() -> IpnVerifier:
    return IpnVerifier(Secret(SECRET), previous=Secret(PREVIOUS))


# ------------------------------------------------------------------ the signature


def test_a_correctly_signed_notification_is_read_with_exact_amounts(verifier: IpnVerifier) -> None:
    body, headers = signed(payment())
    notification = verifier.verify(body, headers)
    assert notification.provider == "nowpayments"
    assert notification.payment_id == "5077125051"
    assert notification.order_id == "AbC123_tagtagtagtagtagtagtag"
    assert notification.status is IntentStatus.FINISHED
    assert notification.price == Money(Decimal("12.5"), "USD")
    assert notification.pay_amount == Money(Decimal("0.00020125"), "BTC")
    assert notification.actually_paid == Money(Decimal("0.00020125"), "BTC")
    assert notification.outcome == Money(Decimal("0.00020024"), "BTC")
    assert notification.invoice_id == "4522625843"
    assert notification.parent_payment_id is None


def test_the_signature_covers_the_sorted_javascript_form_not_the_wire_bytes(
    verifier: IpnVerifier,
) -> None:
    wire = b'{"price_amount":12.50,"payment_status":"finished","fee":{"serviceFee":1.0,'
    wire += b'"currency":"btc"},"payment_id":7,"order_id":"o1","price_currency":"usd"}'
    sorted_js = (
        b'{"fee":{"currency":"btc","serviceFee":1},"order_id":"o1","payment_id":7,'
        b'"payment_status":"finished","price_amount":12.5,"price_currency":"usd"}'
    )
    notification = verifier.verify(wire, {"x-nowpayments-sig": hmac_hex(SECRET, sorted_js)})
    assert notification.price == Money(Decimal("12.50"), "USD")
    with pytest.raises(InvalidSignature):
        verifier.verify(wire, {"x-nowpayments-sig": hmac_hex(SECRET, wire)})


def test_the_provider_example_signed_by_node_verifies() -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    vector = next(v for v in golden["vectors"] if v["name"] == "nowpayments_ipn_example")
    verifier = IpnVerifier(Secret(golden["secret"]))
    notification = verifier.verify(
        vector["raw"].encode(), {"x-nowpayments-sig": vector["hmac_sha512"]}
    )
    assert notification.pay_amount == Money(Decimal("155.38559757"), "MANA")
    assert notification.outcome == Money(Decimal("1131.7812095"), "TRX")


def test_upper_case_hex_and_surrounding_spaces_are_accepted(verifier: IpnVerifier) -> None:
    body, headers = signed(payment())
    notification = verifier.verify(
        body, {"X-NOWPAYMENTS-SIG": f" {headers['x-nowpayments-sig'].upper()} "}
    )
    assert notification.status is IntentStatus.FINISHED


def test_the_previous_secret_is_still_accepted_during_rotation(verifier: IpnVerifier) -> None:
    body, headers = signed(payment(), secret=PREVIOUS)
    assert verifier.verify(body, headers).payment_id == "5077125051"


def test_a_retired_secret_is_refused_once_rotation_is_over() -> None:
    body, headers = signed(payment(), secret=PREVIOUS)
    with pytest.raises(InvalidSignature):
        IpnVerifier(Secret(SECRET)).verify(body, headers)


def test_a_signature_made_with_another_secret_is_refused(verifier: IpnVerifier) -> None:
    body, headers = signed(payment(), secret="attacker-guess")
    with pytest.raises(InvalidSignature, match="does not verify"):
        verifier.verify(body, headers)


def test_an_edited_amount_breaks_the_signature(verifier: IpnVerifier) -> None:
    body, headers = signed(payment())
    tampered = body.replace(b'"actually_paid":0.00020125', b'"actually_paid":0.00040125')
    assert tampered != body
    with pytest.raises(InvalidSignature):
        verifier.verify(tampered, headers)


def test_a_missing_signature_header_is_refused(verifier: IpnVerifier) -> None:
    body, _ = signed(payment())
    with pytest.raises(InvalidSignature, match="missing"):
        verifier.verify(body, {"content-type": "application/json"})


@pytest.mark.parametrize(
    "value",
    ["", "abc", "z" * 128, "ab" * 63, "ab" * 65, "sha512=" + "ab" * 64],
    ids=["empty", "short", "not_hex", "too_short", "too_long", "prefixed"],
)
def test_a_signature_that_is_not_128_hex_digits_is_refused(
    verifier: IpnVerifier, value: str
) -> None:
    body, _ = signed(payment())
    with pytest.raises(InvalidSignature, match="not a hex"):
        verifier.verify(body, {"x-nowpayments-sig": value})


def test_two_signature_headers_are_refused(verifier: IpnVerifier) -> None:
    body, headers = signed(payment())
    good = headers["x-nowpayments-sig"]
    both = CIMultiDict([("x-nowpayments-sig", good), ("X-Nowpayments-Sig", "00" * 64)])
    with pytest.raises(InvalidSignature, match="more than one"):
        verifier.verify(body, both)


def test_a_body_that_is_not_json_is_an_invalid_signature(verifier: IpnVerifier) -> None:
    body = b"payment_id=1&payment_status=finished"
    with pytest.raises(InvalidSignature, match="not JSON"):
        verifier.verify(body, {"x-nowpayments-sig": hmac_hex(SECRET, body)})


def test_the_signature_is_checked_before_any_field_is_read(verifier: IpnVerifier) -> None:
    # Unusable fields and a bad signature: the answer is about the signature.
    body = b'{"payment_status":"no-such-status"}'
    with pytest.raises(InvalidSignature):
        verifier.verify(body, {"x-nowpayments-sig": "00" * 64})


def test_an_empty_secret_is_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        IpnVerifier(Secret(""))
    with pytest.raises(ValueError, match="must not be empty"):
        IpnVerifier(Secret(SECRET), previous=Secret(""))


# ------------------------------------------------------------------ the fields


@pytest.mark.parametrize(
    ("provider_status", "ours"),
    [
        ("waiting", IntentStatus.WAITING),
        ("confirming", IntentStatus.CONFIRMING),
        ("confirmed", IntentStatus.CONFIRMED),
        ("sending", IntentStatus.SENDING),
        ("partially_paid", IntentStatus.PARTIALLY_PAID),
        ("finished", IntentStatus.FINISHED),
        ("failed", IntentStatus.FAILED),
        ("refunded", IntentStatus.REFUNDED),
        ("expired", IntentStatus.EXPIRED),
        ("cancelled", IntentStatus.FAILED),
    ],
)
def test_provider_statuses_map_to_ours(
    verifier: IpnVerifier, provider_status: str, ours: IntentStatus
) -> None:
    body, headers = signed(payment(payment_status=provider_status))
    assert verifier.verify(body, headers).status is ours


def test_an_unknown_status_is_malformed(verifier: IpnVerifier) -> None:
    body, headers = signed(payment(payment_status="frozen"))
    with pytest.raises(MalformedNotification, match="payment_status: unknown status 'frozen'"):
        verifier.verify(body, headers)


@pytest.mark.parametrize(
    "field", ["payment_id", "payment_status", "order_id", "price_amount", "price_currency"]
)
def test_a_missing_required_field_is_named(verifier: IpnVerifier, field: str) -> None:
    body, headers = signed(payment(**{field: None}))
    with pytest.raises(MalformedNotification, match=f"^{field}: missing"):
        verifier.verify(body, headers)


def test_an_amount_without_its_currency_names_the_currency(verifier: IpnVerifier) -> None:
    body, headers = signed(payment(pay_currency=None))
    with pytest.raises(MalformedNotification, match=r"^pay_currency: missing"):
        verifier.verify(body, headers)


def test_absent_optional_amounts_are_none(verifier: IpnVerifier) -> None:
    body, headers = signed(
        payment(pay_amount=None, actually_paid=None, outcome_amount=None, invoice_id=None)
    )
    notification = verifier.verify(body, headers)
    assert (notification.pay_amount, notification.actually_paid, notification.outcome) == (
        None,
        None,
        None,
    )
    assert notification.invoice_id is None


def test_an_extra_deposit_carries_its_parent_payment(verifier: IpnVerifier) -> None:
    body, headers = signed(payment(parent_payment_id=5077125050))
    assert verifier.verify(body, headers).parent_payment_id == "5077125050"


def test_amounts_given_as_strings_are_read_exactly(verifier: IpnVerifier) -> None:
    body, headers = signed(payment(price_amount="12.50", payment_id="5077125051"))
    notification = verifier.verify(body, headers)
    assert notification.price.amount == Decimal("12.50")
    assert notification.payment_id == "5077125051"


def test_an_id_beyond_javascript_precision_keeps_its_written_digits(
    verifier: IpnVerifier,
) -> None:
    body = b'{"order_id":"o1","payment_id":12345678901234567891,"payment_status":"waiting",'
    body += b'"price_amount":1,"price_currency":"usd"}'
    # JavaScript read the id as 12345678901234567000 when it signed.
    signed_form = body.replace(b"12345678901234567891", b"12345678901234567000")
    notification = verifier.verify(body, {"x-nowpayments-sig": hmac_hex(SECRET, signed_form)})
    assert notification.payment_id == "12345678901234567891"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"price_amount": Decimal("-1")}, "price_amount: .* is not an amount"),
        ({"price_amount": "NaN"}, "price_amount: .* is not an amount"),
        ({"price_amount": "ten"}, "price_amount: 'ten' is not a number"),
        ({"price_amount": True}, "price_amount: expected a number"),
        ({"pay_amount": "1e40"}, "pay_amount: .* is out of range"),
        ({"price_currency": "us dollars"}, r"price_currency: currency_code\(given=us dollars\)"),
        ({"price_currency": 840}, "price_currency: expected a currency code"),
        ({"payment_id": "12/../34"}, "payment_id: expected a numeric id"),
        ({"invoice_id": Decimal("1.5")}, "invoice_id: expected a numeric id"),
        ({"order_id": "  "}, "order_id: expected a non-empty string"),
        ({"order_id": 42}, "order_id: expected a non-empty string"),
    ],
)
def test_unusable_field_values_are_malformed_and_named(
    verifier: IpnVerifier, changes: dict[str, Any], message: str
) -> None:
    body, headers = signed(payment(**changes))
    with pytest.raises(MalformedNotification, match=message):
        verifier.verify(body, headers)


def test_a_signed_body_that_is_not_an_object_is_malformed(verifier: IpnVerifier) -> None:
    body = b'["finished"]'
    with pytest.raises(MalformedNotification, match="not a JSON object"):
        verifier.verify(body, {"x-nowpayments-sig": hmac_hex(SECRET, body)})
