"""Listing an invoice's payments (reconciliation of an invoice no IPN ever reported),
against the emulator over real loopback sockets: the account signs in for a token,
the token is reused while it lasts and renewed once when refused, and the login
never shows in a message or a log line."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest

from adapters.outbound.nowpayments import gateway as gateway_module
from adapters.outbound.nowpayments.gateway import NowPaymentsGateway, NowPaymentsSettings
from core.domain.intent_state import IntentStatus
from core.domain.money import Money
from core.ports.payments import InvoiceRequest, NotConfigured, ProviderRejected
from core.ports.security import Secret
from sandbox.nowpayments import NowPaymentsEmulator, PayPlan
from tests.unit.nowpayments.conftest import API_KEY, IPN_SECRET

EMAIL = "owner@shop.example"
PASSWORD = "correct-horse-battery-staple-7"


class ManualClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def account() -> AsyncIterator[NowPaymentsEmulator]:
    emulator = NowPaymentsEmulator(
        api_key=API_KEY, ipn_secret=IPN_SECRET, account_email=EMAIL, account_password=PASSWORD
    )
    await emulator.start()
    yield emulator
    await emulator.stop()


def gateway_for(
    session: aiohttp.ClientSession,
    emulator: NowPaymentsEmulator,
    *,
    email: str | None = EMAIL,
    password: str | None = PASSWORD,
    clock: ManualClock | None = None,
) -> NowPaymentsGateway:
    return NowPaymentsGateway(
        session,
        NowPaymentsSettings(
            api_key=Secret(API_KEY),
            ipn_secret=Secret(IPN_SECRET),
            ipn_callback_url="http://127.0.0.1:9/webhooks/nowpayments",
            account_email=email,
            account_password=None if password is None else Secret(password),
            timeout=2.0,
        ),
        base_url=emulator.base_url,
        clock=clock or ManualClock(),
    )


def order(number: int = 1) -> InvoiceRequest:
    return InvoiceRequest(
        order_id=f"Order{number}_tagtagtagtagtagtagtag",
        price=Money(Decimal("12.50"), "USD"),
        description="Tier 1, 30 days",
    )


def paths(emulator: NowPaymentsEmulator) -> list[tuple[str, int]]:
    return [(call.path, call.status) for call in emulator.calls]


async def test_an_invoices_payments_are_listed_oldest_first_after_signing_in(
    session: aiohttp.ClientSession, account: NowPaymentsEmulator
) -> None:
    gateway = gateway_for(session, account)
    invoice = await gateway.create_invoice(order(1))
    other = await gateway.create_invoice(order(2))
    paid = await account.pay(invoice.invoice_id, PayPlan(pay_currency="btc"))
    extra = await account.pay(
        invoice.invoice_id,
        PayPlan(pay_currency="btc", parent_payment_id=paid.payment_id),
    )
    await account.pay(other.invoice_id, PayPlan(pay_currency="btc"))

    listed = await gateway.payments_for_invoice(invoice.invoice_id)

    assert [n.payment_id for n in listed] == [str(paid.payment_id), str(extra.payment_id)]
    assert [n.parent_payment_id for n in listed] == [None, str(paid.payment_id)]
    assert {n.invoice_id for n in listed} == {invoice.invoice_id}
    assert listed[0].status is IntentStatus.FINISHED
    assert listed[0].order_id == "Order1_tagtagtagtagtagtagtag"
    assert listed[0].actually_paid == Money(paid.actually_paid, "BTC")
    # The same payment as its look-up by id reports it.
    assert listed[0] == await gateway.lookup_payment(str(paid.payment_id))
    assert paths(account)[2:4] == [("/v1/auth", 200), ("/v1/payment/", 200)]


async def test_an_invoice_nobody_paid_lists_nothing(
    session: aiohttp.ClientSession, account: NowPaymentsEmulator
) -> None:
    gateway = gateway_for(session, account)
    invoice = await gateway.create_invoice(order())

    assert await gateway.payments_for_invoice(invoice.invoice_id) == []


async def test_the_token_is_reused_until_it_is_due_for_renewal(
    session: aiohttp.ClientSession, account: NowPaymentsEmulator
) -> None:
    clock = ManualClock()
    gateway = gateway_for(session, account, clock=clock)
    invoice = await gateway.create_invoice(order())

    for _ in range(3):
        await gateway.payments_for_invoice(invoice.invoice_id)
    clock.now += 241  # tokens last five minutes; ours is renewed after four
    await gateway.payments_for_invoice(invoice.invoice_id)

    signed_in = [path for path, _ in paths(account)].count("/v1/auth")
    assert signed_in == 2


async def test_a_token_the_provider_no_longer_takes_is_renewed_once(
    session: aiohttp.ClientSession,
) -> None:
    emulator = NowPaymentsEmulator(
        api_key=API_KEY,
        ipn_secret=IPN_SECRET,
        account_email=EMAIL,
        account_password=PASSWORD,
        token_ttl=0.05,
    )
    await emulator.start()
    try:
        gateway = gateway_for(session, emulator)  # its clock never moves
        invoice = await gateway.create_invoice(order())
        await gateway.payments_for_invoice(invoice.invoice_id)
        await asyncio.sleep(0.1)  # the provider's token expired; ours looks fresh

        assert await gateway.payments_for_invoice(invoice.invoice_id) == []
        assert paths(emulator)[1:] == [
            ("/v1/auth", 200),
            ("/v1/payment/", 200),
            ("/v1/payment/", 401),
            ("/v1/auth", 200),
            ("/v1/payment/", 200),
        ]
    finally:
        await emulator.stop()


async def test_many_payments_are_read_page_by_page(
    session: aiohttp.ClientSession, account: NowPaymentsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gateway_module, "_LIST_PAGE", 2)
    gateway = gateway_for(session, account)
    invoice = await gateway.create_invoice(order())
    first = await account.pay(invoice.invoice_id, PayPlan(pay_currency="btc"))
    for _ in range(4):
        await account.pay(
            invoice.invoice_id, PayPlan(pay_currency="btc", parent_payment_id=first.payment_id)
        )

    listed = await gateway.payments_for_invoice(invoice.invoice_id)

    assert len(listed) == 5
    assert len({n.payment_id for n in listed}) == 5
    assert [path for path, _ in paths(account)].count("/v1/payment/") == 3


async def test_without_a_login_listing_is_not_configured_and_calls_nothing(
    session: aiohttp.ClientSession, account: NowPaymentsEmulator
) -> None:
    gateway = gateway_for(session, account, email=None, password=None)

    with pytest.raises(NotConfigured, match="PAYGATE_NOWPAYMENTS_EMAIL"):
        await gateway.payments_for_invoice("5077125051")
    assert account.calls == []


async def test_a_wrong_login_is_refused_without_the_password_in_message_or_log(
    session: aiohttp.ClientSession,
    account: NowPaymentsEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "not-the-password-" + PASSWORD
    gateway = gateway_for(session, account, password=wrong)

    with pytest.raises(ProviderRejected) as refused:
        await gateway.payments_for_invoice("5077125051")

    assert "email and password" in str(refused.value)
    assert wrong not in str(refused.value)
    assert wrong not in caplog.text
    assert paths(account) == [("/v1/auth", 401)]


async def test_an_id_the_provider_cannot_have_issued_never_reaches_the_url(
    session: aiohttp.ClientSession, account: NowPaymentsEmulator
) -> None:
    gateway = gateway_for(session, account)

    with pytest.raises(ProviderRejected):
        await gateway.payments_for_invoice("1&invoiceId=2")
    assert account.calls == []
