"""NowPayments instant payment notifications (IPN): verify, then read.

The signature is ``x-nowpayments-sig``: the hex HMAC-SHA512, keyed with the IPN secret,
of the body's canonical form (see :mod:`.canonical`). Nothing in the body is read as a
business field until that signature has verified; an unverifiable body is simply
"invalid signature", whatever else is wrong with it.

During a rotation of the IPN secret both the current and the previous secret are
accepted, so notifications already queued at the provider still verify.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType

from adapters.outbound.nowpayments.canonical import (
    Bounds,
    InvalidJson,
    JsonNumber,
    JsonValue,
    OutOfBounds,
    canonical,
    parse,
)
from core.domain.errors import InvalidMoney
from core.domain.intent_state import IntentStatus
from core.domain.money import Money
from core.domain.payment import ProviderNotification
from core.ports.payments import InvalidSignature, MalformedNotification
from core.ports.security import Secret

__all__ = [
    "IPN_BOUNDS",
    "PROVIDER",
    "SIGNATURE_HEADER",
    "STATUSES",
    "IpnVerifier",
    "notification_from_payment",
]

PROVIDER = "nowpayments"
SIGNATURE_HEADER = "x-nowpayments-sig"

STATUSES: Mapping[str, IntentStatus] = MappingProxyType(
    {
        "waiting": IntentStatus.WAITING,
        "confirming": IntentStatus.CONFIRMING,
        "confirmed": IntentStatus.CONFIRMED,
        "sending": IntentStatus.SENDING,
        "partially_paid": IntentStatus.PARTIALLY_PAID,
        "finished": IntentStatus.FINISHED,
        "failed": IntentStatus.FAILED,
        "refunded": IntentStatus.REFUNDED,
        "expired": IntentStatus.EXPIRED,
        # Not in the API's list, but support cancels payments by hand. For us it is
        # the same dead end as "failed": no money is held and nothing is granted.
        "cancelled": IntentStatus.FAILED,
    }
)

IPN_BOUNDS = Bounds(
    max_depth=4,
    max_values=64,
    max_string=1024,
    max_number=32,
    max_escapes=64,
)
"""The largest notification verified, with margin over what the provider sends: its
IPNs nest two levels (the ``fee`` object) and hold about 28 values; strings are codes,
addresses, our own order ids and descriptions; numbers are written by JavaScript's
``JSON.stringify``, which never needs more than 25 characters for a double; non-ASCII
text is written as it is, so ``\\u`` escapes are rare. A forged body beyond these is
refused before it is canonicalised and hashed, so it costs a few times what a real
one does instead of hundreds (see bench/bench_ipn_forgeries.py)."""

_HEX_SIGNATURE = re.compile(r"\A[0-9a-fA-F]{128}\Z")
_NUMERIC_ID = re.compile(r"\A[0-9]{1,40}\Z")
_TEXT_ID = re.compile(r"\A[A-Za-z0-9_-]{1,64}\Z")
# Amounts beyond these magnitudes are not money; refusing them also keeps a hostile
# exponent such as 1e999999999 out of Decimal arithmetic downstream.
_AMOUNT_EXPONENT_RANGE = range(-30, 31)


class IpnVerifier:
    """Checks ``x-nowpayments-sig`` and turns a verified body into a notification."""

    def __init__(self, secret: Secret, previous: Secret | None = None) -> None:
        keys = [secret.reveal().encode("utf-8")]
        if previous is not None:
            keys.append(previous.reveal().encode("utf-8"))
        if any(not key for key in keys):
            # With an empty key anyone can compute a valid signature.
            raise ValueError("the NowPayments IPN secret must not be empty")
        self._keys = tuple(keys)

    def verify(self, body: bytes, headers: Mapping[str, str]) -> ProviderNotification:
        """Raises InvalidSignature, then (signed but unusable) MalformedNotification."""
        signature = _signature(headers)
        try:
            document = parse(body, IPN_BOUNDS)
        except OutOfBounds as exc:
            raise InvalidSignature(
                f"the body is not the shape of a notification, so it is not verified: {exc}"
            ) from None
        except InvalidJson:
            raise InvalidSignature("the body is not JSON, so it cannot carry a signature") from None
        message = canonical(document).encode("utf-8")
        matched = False
        # Every key is tried, so the time taken does not tell which one matched.
        for key in self._keys:
            expected = hmac.new(key, message, hashlib.sha512).digest()
            matched |= hmac.compare_digest(expected, signature)
        if not matched:
            raise InvalidSignature("the notification's signature does not verify")
        return notification_from_payment(document)


def _signature(headers: Mapping[str, str]) -> bytes:
    values = [value for name, value in headers.items() if name.lower() == SIGNATURE_HEADER]
    if not values:
        raise InvalidSignature(f"the {SIGNATURE_HEADER} header is missing")
    if len(values) > 1:
        raise InvalidSignature(f"more than one {SIGNATURE_HEADER} header")
    text = values[0].strip()
    if _HEX_SIGNATURE.match(text) is None:
        raise InvalidSignature(f"the {SIGNATURE_HEADER} header is not a hex HMAC-SHA512")
    return bytes.fromhex(text)


def notification_from_payment(document: JsonValue) -> ProviderNotification:
    """A NowPayments payment object (an IPN body or a ``GET /v1/payment`` answer) as a
    notification. Raises MalformedNotification naming the first unusable field."""
    if not isinstance(document, dict):
        raise MalformedNotification("the notification is not a JSON object")
    status_text = _text(document, "payment_status")
    status = STATUSES.get(status_text)
    if status is None:
        raise MalformedNotification(f"payment_status: unknown status {status_text!r}")
    pay_amount = _money(document, "pay_amount", "pay_currency")
    actually_paid = _money(document, "actually_paid", "pay_currency")
    outcome = _money(document, "outcome_amount", "outcome_currency")
    price = _money(document, "price_amount", "price_currency")
    if price is None:
        raise MalformedNotification("price_amount: missing")
    return ProviderNotification(
        provider=PROVIDER,
        payment_id=_required_id(document, "payment_id"),
        order_id=_text(document, "order_id"),
        status=status,
        price=price,
        pay_amount=pay_amount,
        actually_paid=actually_paid,
        outcome=outcome,
        invoice_id=_optional_id(document, "invoice_id"),
        parent_payment_id=_optional_id(document, "parent_payment_id"),
    )


def _text(document: dict[str, JsonValue], field: str) -> str:
    value = document.get(field)
    if value is None:
        raise MalformedNotification(f"{field}: missing")
    if not isinstance(value, str) or not value.strip():
        raise MalformedNotification(f"{field}: expected a non-empty string")
    return value.strip()


def _optional_id(document: dict[str, JsonValue], field: str) -> str | None:
    value = document.get(field)
    if value is None:
        return None
    # Ids are numbers in notifications and sometimes strings in API answers; both
    # are kept as their digits, as written (JavaScript rounding is for signing only).
    if isinstance(value, JsonNumber) and _NUMERIC_ID.match(value.text):
        return value.text
    if isinstance(value, str) and _TEXT_ID.match(value.strip()):
        return value.strip()
    raise MalformedNotification(f"{field}: expected a numeric id")


def _required_id(document: dict[str, JsonValue], field: str) -> str:
    value = _optional_id(document, field)
    if value is None:
        raise MalformedNotification(f"{field}: missing")
    return value


def _amount(document: dict[str, JsonValue], field: str) -> Decimal | None:
    value = document.get(field)
    if value is None:
        return None
    if isinstance(value, JsonNumber):
        amount = value.as_decimal()
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise MalformedNotification(f"{field}: {value!r} is not a number") from None
    else:
        raise MalformedNotification(f"{field}: expected a number")
    if not amount.is_finite() or amount < 0:
        raise MalformedNotification(f"{field}: {value!r} is not an amount")
    if amount and amount.adjusted() not in _AMOUNT_EXPONENT_RANGE:
        raise MalformedNotification(f"{field}: {value!r} is out of range")
    return amount


def _money(document: dict[str, JsonValue], amount_field: str, currency_field: str) -> Money | None:
    amount = _amount(document, amount_field)
    if amount is None:
        return None
    currency = document.get(currency_field)
    if currency is None:
        raise MalformedNotification(f"{currency_field}: missing (needed by {amount_field})")
    if not isinstance(currency, str):
        raise MalformedNotification(f"{currency_field}: expected a currency code")
    try:
        return Money(amount, currency)
    except InvalidMoney as exc:
        raise MalformedNotification(f"{currency_field}: {exc}") from None
