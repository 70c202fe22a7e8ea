"""The fake payment provider: recorded invoices, signed notifications, scripted failures."""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal

import attrs
import pytest

from adapters.outbound.memory import InMemoryPaymentGateway
from core.domain.intent_state import IntentStatus
from core.domain.money import Money
from core.domain.payment import ProviderNotification
from core.ports.errors import NotFound
from core.ports.payments import (
    InvalidSignature,
    InvoiceRequest,
    MalformedNotification,
    NotConfigured,
    ProviderRejected,
    Unavailable,
)
from core.ports.security import Secret

SECRET = "ipn-secret-for-tests"

NOTIFICATION = ProviderNotification(
    provider="fakepay",
    payment_id="5077125051",
    order_id="in00000001_AAAAAAAAAAAAAAAAAAAAAA",
    status=IntentStatus.FINISHED,
    price=Money("10.50", "USD"),
    pay_amount=Money("0.004821", "ETH"),
    actually_paid=Money("0.004821000000000001", "ETH"),
    outcome=Money("10.123456789", "USDTTRC20"),
    invoice_id="4522625843",
    parent_payment_id="5077120000",
)


@pytest.fixture
def gateway() -> InMemoryPaymentGateway:
    return InMemoryPaymentGateway(SECRET)


def _signed(
    gateway: InMemoryPaymentGateway, fields: dict[str, object]
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(fields).encode()
    return body, gateway.signed_headers(body)


async def test_invoices_are_recorded_with_deterministic_ids_and_urls(
    gateway: InMemoryPaymentGateway,
) -> None:
    request = InvoiceRequest("in1_tag", Money("10.50", "USD"), "Tier 1 of Insider notes")

    first = await gateway.create_invoice(request)
    second = await gateway.create_invoice(request)

    assert (first.invoice_id, first.url) == ("inv1", "https://pay.example.test/invoice/inv1")
    assert second.invoice_id == "inv2"
    assert gateway.requests == [request, request]
    assert gateway.name == "fakepay"
    assert InMemoryPaymentGateway(SECRET, name="otherpay").name == "otherpay"


@pytest.mark.parametrize("error", [ProviderRejected("bad api key"), Unavailable("timeout")])
async def test_armed_failures_hit_the_next_calls_only(
    gateway: InMemoryPaymentGateway, error: ProviderRejected | Unavailable
) -> None:
    request = InvoiceRequest("in1_tag", Money("5", "USD"), "Tier 1")
    gateway.fail_next(error, count=2)

    for _ in range(2):
        with pytest.raises(type(error)):
            await gateway.create_invoice(request)
    invoice = await gateway.create_invoice(request)

    assert invoice.invoice_id == "inv3"


async def test_a_signed_notification_body_parses_back_to_the_same_notification(
    gateway: InMemoryPaymentGateway,
) -> None:
    body = gateway.notification_body(NOTIFICATION)

    parsed = gateway.verify_notification(body, gateway.signed_headers(body))

    assert parsed == NOTIFICATION
    assert parsed.actually_paid is not None
    assert str(parsed.actually_paid.amount) == "0.004821000000000001"


def test_the_signature_is_hex_hmac_sha256_of_the_raw_body(gateway: InMemoryPaymentGateway) -> None:
    body = b'{"payment_id": 1}'

    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()

    assert gateway.sign(body) == expected
    assert InMemoryPaymentGateway(Secret(SECRET)).sign(body) == expected


def test_amounts_are_read_as_decimals_never_floats(gateway: InMemoryPaymentGateway) -> None:
    body = (
        b'{"payment_id": 77, "order_id": "o_1", "payment_status": "waiting",'
        b' "price_amount": 0.1, "price_currency": "usd"}'
    )

    parsed = gateway.verify_notification(body, {"X-Fake-Sig": gateway.sign(body)})

    assert parsed.price == Money(Decimal("0.1"), "USD")
    assert parsed.payment_id == "77"
    assert parsed.pay_amount is None and parsed.parent_payment_id is None


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-fake-sig": ""}, {"x-fake-sig": "0" * 64}, {"x-nowpayments-sig": "abc"}],
    ids=["missing", "empty", "wrong", "other-header"],
)
def test_an_unsigned_or_badly_signed_body_is_refused(
    gateway: InMemoryPaymentGateway, headers: dict[str, str]
) -> None:
    body = gateway.notification_body(NOTIFICATION)

    with pytest.raises(InvalidSignature):
        gateway.verify_notification(body, headers)


def test_a_body_changed_after_signing_is_refused(gateway: InMemoryPaymentGateway) -> None:
    body = gateway.notification_body(NOTIFICATION)
    headers = gateway.signed_headers(body)
    tampered = body.replace(b'"finished"', b'"confirmed"')

    with pytest.raises(InvalidSignature):
        gateway.verify_notification(tampered, headers)


def test_another_secret_does_not_verify(gateway: InMemoryPaymentGateway) -> None:
    body = gateway.notification_body(NOTIFICATION)
    forged = InMemoryPaymentGateway("a-guess").signed_headers(body)

    with pytest.raises(InvalidSignature):
        gateway.verify_notification(body, forged)


def test_the_signature_is_checked_before_the_body_is_read(gateway: InMemoryPaymentGateway) -> None:
    with pytest.raises(InvalidSignature):
        gateway.verify_notification(b"not json at all", {"x-fake-sig": "00"})


GOOD: dict[str, object] = {
    "payment_id": "1",
    "order_id": "o_1",
    "payment_status": "finished",
    "price_amount": 10,
    "price_currency": "usd",
}


@pytest.mark.parametrize(
    "fields",
    [
        {**GOOD, "payment_status": "cancelled"},
        {**GOOD, "payment_status": None},
        {k: v for k, v in GOOD.items() if k != "order_id"},
        {**GOOD, "payment_id": ""},
        {**GOOD, "payment_id": True},
        {**GOOD, "price_amount": "ten"},
        {**GOOD, "price_amount": True},
        {k: v for k, v in GOOD.items() if k != "price_currency"},
        {k: v for k, v in GOOD.items() if k != "price_amount"},
        {**GOOD, "actually_paid": 1, "pay_currency": None},
    ],
    ids=[
        "unknown-status",
        "no-status",
        "no-order",
        "empty-payment-id",
        "boolean-payment-id",
        "text-amount",
        "boolean-amount",
        "no-currency",
        "no-price",
        "paid-without-currency",
    ],
)
def test_signed_but_unusable_fields_are_malformed(
    gateway: InMemoryPaymentGateway, fields: dict[str, object]
) -> None:
    body, headers = _signed(gateway, fields)

    with pytest.raises(MalformedNotification):
        gateway.verify_notification(body, headers)


@pytest.mark.parametrize(
    "body", [b"not json", b"[1, 2]", b"\xff\xfe"], ids=["text", "array", "bytes"]
)
def test_a_signed_body_that_is_not_a_json_object_is_malformed(
    gateway: InMemoryPaymentGateway, body: bytes
) -> None:
    with pytest.raises(MalformedNotification):
        gateway.verify_notification(body, gateway.signed_headers(body))


async def test_lookup_reports_the_state_a_test_set(gateway: InMemoryPaymentGateway) -> None:
    with pytest.raises(NotFound):
        await gateway.lookup_payment(NOTIFICATION.payment_id)
    gateway.set_payment(NOTIFICATION)

    assert await gateway.lookup_payment(NOTIFICATION.payment_id) == NOTIFICATION

    gateway.fail_next(Unavailable("provider down"))
    with pytest.raises(Unavailable):
        await gateway.lookup_payment(NOTIFICATION.payment_id)


async def test_an_invoices_payments_are_listed_in_the_order_they_were_made(
    gateway: InMemoryPaymentGateway,
) -> None:
    extra = attrs.evolve(NOTIFICATION, payment_id="5077125099", status=IntentStatus.WAITING)
    other = attrs.evolve(NOTIFICATION, payment_id="5077125100", invoice_id="4522625844")
    for notification in (NOTIFICATION, other, extra):
        gateway.set_payment(notification)

    assert await gateway.payments_for_invoice("4522625843") == [NOTIFICATION, extra]
    assert await gateway.payments_for_invoice("4522625844") == [other]
    assert await gateway.payments_for_invoice("1") == []


async def test_an_account_without_listing_credentials_cannot_list() -> None:
    gateway = InMemoryPaymentGateway(SECRET, lists_payments=False)
    gateway.set_payment(NOTIFICATION)

    with pytest.raises(NotConfigured):
        await gateway.payments_for_invoice("4522625843")
    assert await gateway.lookup_payment(NOTIFICATION.payment_id) == NOTIFICATION
