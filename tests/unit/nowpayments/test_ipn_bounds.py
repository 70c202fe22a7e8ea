"""A notification's shape is bounded before it is canonicalised and hashed: real IPNs
(from the emulator, which signs like the provider) pass untouched, and a body beyond
any bound is refused whatever its signature, so a forgery costs little more than a
real notification."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator

import aiohttp
import pytest

from adapters.outbound.nowpayments.canonical import (
    Bounds,
    OutOfBounds,
    canonical,
    canonical_bytes,
    parse,
)
from adapters.outbound.nowpayments.gateway import NowPaymentsGateway, NowPaymentsSettings
from adapters.outbound.nowpayments.ipn import IPN_BOUNDS, IpnVerifier
from core.domain.intent_state import IntentStatus
from core.domain.money import Money
from core.ports.payments import InvalidSignature, InvoiceRequest
from core.ports.security import Secret
from sandbox.nowpayments import NowPaymentsEmulator, PayPlan
from tests.unit.nowpayments.conftest import API_KEY, IPN_SECRET, IpnReceiver

SECRET = "bounds-ipn-secret"


def signature_of(message: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"x-nowpayments-sig": hmac.new(secret.encode(), message, hashlib.sha512).hexdigest()}


def signed_over_its_canonical_form(body: bytes) -> dict[str, str]:
    """A correct signature for ``body``: what a sender holding the secret would send."""
    return signature_of(canonical(parse(body)).encode())


@pytest.fixture
async def paid_ipns(
    emulator: NowPaymentsEmulator, receiver: IpnReceiver
) -> AsyncIterator[list[tuple[bytes, dict[str, str]]]]:
    async with aiohttp.ClientSession() as session:
        gateway = NowPaymentsGateway(
            session,
            NowPaymentsSettings(
                api_key=Secret(API_KEY),
                ipn_secret=Secret(IPN_SECRET),
                ipn_callback_url=receiver.url,
                success_url="http://127.0.0.1:9/paid",
            ),
            base_url=emulator.base_url,
        )
        invoice = await gateway.create_invoice(
            InvoiceRequest(
                "Bounds_tagtagtagtagtagtag",
                Money.of(25, "EUR"),
                "Subscription 30 days (tier 1)",
            )
        )
        await emulator.pay(invoice.invoice_id, PayPlan(pay_currency="eth"))
        yield [(ipn.body, ipn.headers) for ipn in receiver.received]


async def test_real_notifications_pass_the_bounds_and_verify_byte_for_byte(
    paid_ipns: list[tuple[bytes, dict[str, str]]],
) -> None:
    verifier = IpnVerifier(Secret(IPN_SECRET))
    statuses = []
    for body, headers in paid_ipns:
        # The bounded canonical form is exactly the bytes the provider signed.
        message = canonical(parse(body, IPN_BOUNDS)).encode()
        assert message == canonical_bytes(body)
        expected = hmac.new(IPN_SECRET.encode(), message, hashlib.sha512).hexdigest()
        assert expected == headers["x-nowpayments-sig"]
        statuses.append(verifier.verify(body, headers).status)
    assert statuses == [
        IntentStatus.WAITING,
        IntentStatus.CONFIRMING,
        IntentStatus.CONFIRMED,
        IntentStatus.FINISHED,
    ]
    assert max(len(body) for body, _ in paid_ipns) < 2048


def _values(count: int) -> bytes:
    return b"[" + b",".join([b"1"] * (count - 1)) + b"]"


def _nested(levels: int) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


OVERSIZED = {
    "too_many_values": (_values(IPN_BOUNDS.max_values + 1), "values"),
    "too_many_members": (
        b"{" + b",".join(b'"k%d":1' % i for i in range(IPN_BOUNDS.max_values)) + b"}",
        "values",
    ),
    "too_deep": (_nested(IPN_BOUNDS.max_depth + 1), "deeper than"),
    "too_long_string": (b'{"a":"' + b"x" * (IPN_BOUNDS.max_string + 1) + b'"}', "a string of"),
    "too_long_key": (b'{"' + b"k" * (IPN_BOUNDS.max_string + 1) + b'":1}', "a key of"),
    "too_long_number": (b'{"a":1.' + b"5" * IPN_BOUNDS.max_number + b"}", "a number of"),
    "too_many_escapes": (
        b'{"a":"' + b"\\ud800" * (IPN_BOUNDS.max_escapes + 1) + b'"}',
        "escapes",
    ),
}


@pytest.mark.parametrize("shape", OVERSIZED)
def test_a_body_beyond_a_bound_is_refused_before_it_is_canonicalised(shape: str) -> None:
    body, reason = OVERSIZED[shape]
    with pytest.raises(OutOfBounds, match=reason):
        parse(body, IPN_BOUNDS)


@pytest.mark.parametrize("shape", OVERSIZED)
def test_a_correctly_signed_body_beyond_a_bound_is_still_refused(shape: str) -> None:
    body, reason = OVERSIZED[shape]
    verifier = IpnVerifier(Secret(SECRET))
    with pytest.raises(InvalidSignature, match=f"not the shape of a notification.*{reason}"):
        verifier.verify(body, signed_over_its_canonical_form(body))


@pytest.mark.parametrize(
    "body",
    [
        _values(IPN_BOUNDS.max_values),
        _nested(IPN_BOUNDS.max_depth),
        b'{"a":"' + b"x" * IPN_BOUNDS.max_string + b'"}',
        b'{"a":1.' + b"5" * (IPN_BOUNDS.max_number - 2) + b"}",
        b'{"a":"' + b"\\u0001" * IPN_BOUNDS.max_escapes + b'"}',
    ],
    ids=["values", "depth", "string", "number", "escapes"],
)
def test_a_body_exactly_at_the_bounds_is_read_as_without_them(body: bytes) -> None:
    assert parse(body, IPN_BOUNDS) == parse(body)


def test_commas_inside_strings_count_against_the_values_so_the_byte_check_errs_safe() -> None:
    bounds = Bounds(max_depth=2, max_values=4, max_string=100, max_number=10, max_escapes=1)
    with pytest.raises(OutOfBounds, match="commas and brackets"):
        parse(b'["a,b,c,d"]', bounds)
    assert parse(b'["abcd"]', bounds) == ["abcd"]


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_values must be positive"):
        Bounds(max_depth=2, max_values=0, max_string=1, max_number=1, max_escapes=1)
