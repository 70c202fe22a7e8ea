"""The NowPayments gateway against the emulator, over real loopback sockets."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime

import aiohttp
import pytest
from aiohttp import web

from adapters.outbound.breaker import BreakerState, CircuitBreaker, CircuitOpen
from adapters.outbound.nowpayments.gateway import NowPaymentsGateway, NowPaymentsSettings
from core.domain.intent_state import IntentStatus
from core.domain.money import Money
from core.ports.errors import NotFound, Unavailable
from core.ports.payments import InvoiceRequest, PaymentGateway, ProviderRejected
from core.ports.security import Secret
from sandbox.nowpayments import Fault, NowPaymentsEmulator, PayPlan
from tests.unit.nowpayments.conftest import API_KEY, IPN_SECRET

CALLBACK = "http://127.0.0.1:9/webhooks/nowpayments"


def settings(api_key: str = API_KEY, timeout: float = 2.0) -> NowPaymentsSettings:
    return NowPaymentsSettings(
        api_key=Secret(api_key),
        ipn_secret=Secret(IPN_SECRET),
        ipn_callback_url=CALLBACK,
        success_url="https://paygate.example/paid",
        cancel_url="https://paygate.example/cancelled",
        is_fixed_rate=True,
        is_fee_paid_by_user=True,
        timeout=timeout,
    )


def gateway_for(
    session: aiohttp.ClientSession,
    base_url: str,
    *,
    api_key: str = API_KEY,
    timeout: float = 2.0,
    breaker: CircuitBreaker | None = None,
) -> NowPaymentsGateway:
    return NowPaymentsGateway(
        session, settings(api_key, timeout), base_url=base_url + "/", breaker=breaker
    )


def request(price: str = "12.50", currency: str = "USD") -> InvoiceRequest:
    return InvoiceRequest(
        order_id="AbC123_tagtagtagtagtagtagtag",
        price=Money(Decimal(price), currency),
        description="Tier 1, 30 days",
    )


@pytest.fixture
def breaker() -> CircuitBreaker:
    return CircuitBreaker("nowpayments", failure_threshold=3, reset_timeout=60.0)


@pytest.fixture
def gateway(
    session: aiohttp.ClientSession, emulator: NowPaymentsEmulator, breaker: CircuitBreaker
) -> NowPaymentsGateway:
    return gateway_for(session, emulator.base_url, breaker=breaker)


# ------------------------------------------------------------------ invoices


async def test_an_invoice_is_created_with_the_hosted_page_url(
    gateway: NowPaymentsGateway, emulator: NowPaymentsEmulator, session: aiohttp.ClientSession
) -> None:
    port: PaymentGateway = gateway
    invoice = await port.create_invoice(request())
    assert port.name == "nowpayments"
    assert invoice.invoice_id in emulator.invoices
    assert invoice.url == f"{emulator.base_url}/payment/?iid={invoice.invoice_id}"
    async with session.get(invoice.url) as page:
        assert page.status == 200
        assert "12.50 USD" in await page.text()


async def test_the_invoice_request_carries_every_field_the_provider_needs(
    gateway: NowPaymentsGateway, emulator: NowPaymentsEmulator
) -> None:
    await gateway.create_invoice(request())
    call = emulator.calls[-1]
    assert (call.method, call.path, call.status, call.api_key_ok) == (
        "POST",
        "/v1/invoice",
        200,
        True,
    )
    sent = json.loads(call.body, parse_float=Decimal)
    assert sent == {
        "price_amount": Decimal("12.50"),
        "price_currency": "usd",
        "order_id": "AbC123_tagtagtagtagtagtagtag",
        "order_description": "Tier 1, 30 days",
        "ipn_callback_url": CALLBACK,
        "success_url": "https://paygate.example/paid",
        "cancel_url": "https://paygate.example/cancelled",
        "is_fixed_rate": True,
        "is_fee_paid_by_user": True,
    }


async def test_the_price_is_sent_with_the_decimal_digits_never_through_a_float(
    gateway: NowPaymentsGateway, emulator: NowPaymentsEmulator
) -> None:
    invoice = await gateway.create_invoice(request("19.999999999999999999"))
    assert b'"price_amount":19.999999999999999999,' in emulator.calls[-1].body
    assert emulator.invoices[invoice.invoice_id].price_amount == Decimal("19.999999999999999999")


async def test_a_price_that_is_not_positive_is_refused_without_calling(
    gateway: NowPaymentsGateway, emulator: NowPaymentsEmulator
) -> None:
    with pytest.raises(ProviderRejected, match="positive price"):
        await gateway.create_invoice(request("0"))
    assert emulator.calls == []


async def test_a_currency_the_provider_refuses_is_a_provider_rejection(
    gateway: NowPaymentsGateway,
) -> None:
    with pytest.raises(ProviderRejected, match=r'\(400\): "price_currency" is not supported'):
        await gateway.create_invoice(request(currency="XYZ"))


async def test_a_wrong_api_key_is_rejected_without_the_key_in_message_or_log(
    session: aiohttp.ClientSession,
    emulator: NowPaymentsEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong_key = "wrong-key-that-must-not-leak"
    gateway = gateway_for(session, emulator.base_url, api_key=wrong_key)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ProviderRejected) as caught:
        await gateway.create_invoice(request())
    assert "(403): Invalid api key" in str(caught.value)
    assert wrong_key not in str(caught.value)
    assert emulator.calls[-1].api_key_ok is False
    assert caplog.text, "the refusal is logged"
    assert wrong_key not in caplog.text
    assert IPN_SECRET not in caplog.text


async def test_client_errors_never_open_the_circuit(
    gateway: NowPaymentsGateway, breaker: CircuitBreaker
) -> None:
    for _ in range(5):
        with pytest.raises(ProviderRejected):
            await gateway.create_invoice(request(currency="XYZ"))
    assert breaker.state is BreakerState.CLOSED


async def test_rate_limiting_is_unavailable_with_retry_after_and_not_a_failure(
    gateway: NowPaymentsGateway, emulator: NowPaymentsEmulator, breaker: CircuitBreaker
) -> None:
    emulator.inject_fault(Fault(status=429, times=5, retry_after="7", message="Too many"))
    for _ in range(5):
        with pytest.raises(Unavailable) as caught:
            await gateway.create_invoice(request())
        assert not isinstance(caught.value, CircuitOpen)
        assert caught.value.retry_after == 7.0
    assert breaker.state is BreakerState.CLOSED
    assert (await gateway.create_invoice(request())).invoice_id


async def test_retry_after_given_as_an_http_date_is_turned_into_seconds(
    gateway: NowPaymentsGateway, emulator: NowPaymentsEmulator
) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    emulator.inject_fault(Fault(status=429, retry_after=when))
    with pytest.raises(Unavailable) as caught:
        await gateway.create_invoice(request())
    assert caught.value.retry_after is not None
    assert 25.0 <= caught.value.retry_after <= 30.0


async def test_server_errors_are_unavailable_and_open_the_circuit(
    gateway: NowPaymentsGateway, emulator: NowPaymentsEmulator, breaker: CircuitBreaker
) -> None:
    emulator.inject_fault(Fault(status=502, times=10))
    for _ in range(3):
        with pytest.raises(Unavailable, match=r"invoice failed \(502\)"):
            await gateway.create_invoice(request())
    assert breaker.state is BreakerState.OPEN
    calls_before = len(emulator.calls)
    with pytest.raises(CircuitOpen) as caught:
        await gateway.create_invoice(request())
    assert caught.value.retry_after == pytest.approx(60.0, abs=1.0)
    assert len(emulator.calls) == calls_before


async def test_a_provider_that_does_not_answer_in_time_is_unavailable(
    session: aiohttp.ClientSession, emulator: NowPaymentsEmulator
) -> None:
    breaker = CircuitBreaker("nowpayments", failure_threshold=1, call_timeout=0.2)
    gateway = gateway_for(session, emulator.base_url, timeout=0.2, breaker=breaker)
    emulator.inject_fault(Fault(status=None, delay=1.0))
    with pytest.raises(Unavailable) as caught:
        await gateway.create_invoice(request())
    assert not isinstance(caught.value, CircuitOpen)
    assert breaker.state is BreakerState.OPEN


async def test_a_provider_that_cannot_be_reached_is_unavailable(
    session: aiohttp.ClientSession,
) -> None:
    stopped = NowPaymentsEmulator(api_key=API_KEY, ipn_secret=IPN_SECRET)
    base_url = await stopped.start()
    await stopped.stop()
    gateway = gateway_for(session, base_url)
    with pytest.raises(Unavailable, match="NowPayments unreachable: ClientConnectorError"):
        await gateway.create_invoice(request())


@pytest.fixture
async def scripted_provider() -> AsyncIterator[tuple[str, list[web.Response]]]:
    """A provider that answers with whatever the test queued."""
    answers: list[web.Response] = []

    async def answer(request: web.Request) -> web.Response:
        return answers.pop(0)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}", answers
    await runner.cleanup()


async def test_an_invoice_answer_without_id_or_url_is_unavailable(
    session: aiohttp.ClientSession, scripted_provider: tuple[str, list[web.Response]]
) -> None:
    base_url, answers = scripted_provider
    answers.append(web.json_response({"id": "1", "invoice_url": "javascript:alert(1)"}))
    answers.append(web.Response(status=201, text="<html>maintenance</html>"))
    gateway = gateway_for(session, base_url)
    for _ in range(2):
        with pytest.raises(Unavailable, match="without an invoice id and URL"):
            await gateway.create_invoice(request())


async def test_a_numeric_invoice_id_in_a_201_answer_is_accepted(
    session: aiohttp.ClientSession, scripted_provider: tuple[str, list[web.Response]]
) -> None:
    base_url, answers = scripted_provider
    answers.append(
        web.json_response({"id": 4522625843, "invoice_url": "https://x.example/i"}, status=201)
    )
    invoice = await gateway_for(session, base_url).create_invoice(request())
    assert (invoice.invoice_id, invoice.url) == ("4522625843", "https://x.example/i")


async def test_an_unusable_payment_answer_is_unavailable_and_not_a_failure(
    session: aiohttp.ClientSession, scripted_provider: tuple[str, list[web.Response]]
) -> None:
    base_url, answers = scripted_provider
    breaker = CircuitBreaker("nowpayments", failure_threshold=1)
    answers.append(web.json_response({"payment_id": 1, "payment_status": "frozen"}))
    gateway = gateway_for(session, base_url, breaker=breaker)
    with pytest.raises(Unavailable, match="unusable NowPayments payment 1: payment_status"):
        await gateway.lookup_payment("1")
    assert breaker.state is BreakerState.CLOSED


# ------------------------------------------------------------------ payment look-ups


async def test_a_paid_invoice_can_be_looked_up_for_reconciliation(
    gateway: NowPaymentsGateway, emulator: NowPaymentsEmulator
) -> None:
    invoice = await gateway.create_invoice(request())
    payment = await emulator.pay(invoice.invoice_id, PayPlan(pay_currency="btc"))
    notification = await gateway.lookup_payment(str(payment.payment_id))
    assert notification.payment_id == str(payment.payment_id)
    assert notification.invoice_id == invoice.invoice_id
    assert notification.order_id == "AbC123_tagtagtagtagtagtagtag"
    assert notification.status is IntentStatus.FINISHED
    assert notification.price == Money(Decimal("12.50"), "USD")
    assert notification.pay_amount == Money(payment.pay_amount, "BTC")
    assert notification.actually_paid == Money(payment.actually_paid, "BTC")
    assert emulator.calls[-1].path == f"/v1/payment/{payment.payment_id}"


async def test_looking_up_an_unknown_payment_is_not_found_and_not_a_failure(
    gateway: NowPaymentsGateway, breaker: CircuitBreaker
) -> None:
    for _ in range(4):
        with pytest.raises(NotFound):
            await gateway.lookup_payment("999")
    assert breaker.state is BreakerState.CLOSED


async def test_an_id_the_provider_cannot_have_issued_never_reaches_the_url(
    gateway: NowPaymentsGateway, emulator: NowPaymentsEmulator
) -> None:
    with pytest.raises(NotFound):
        await gateway.lookup_payment("../invoice")
    assert emulator.calls == []
