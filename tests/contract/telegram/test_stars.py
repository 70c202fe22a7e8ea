"""Telegram Stars on the wire: the emulator's invoices, pre-checkout queries,
payments and refunds keep the Bot API's rules, and the Stars gateway speaks them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from adapters.outbound.telegram import TelegramBotClient
from adapters.outbound.telegram.stars_gateway import STARS_PROVIDER, TelegramStarsGateway
from core.domain.ids import UserId
from core.domain.money import Money
from core.ports.payments import (
    InvalidSignature,
    InvoiceRequest,
    NotConfigured,
    ProviderRejected,
)
from sandbox.telegram import TelegramEmulator
from sandbox.telegram.stars import PayOutcome
from tests.contract.telegram.backends import ANN, BOB

ORDER = "in7Q2hX_aaaaaaaaaaaaaaaaaaaaaa"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(trust_env=False) as session:
        yield session


@pytest.fixture
def stars(client: TelegramBotClient) -> TelegramStarsGateway:
    return TelegramStarsGateway(client)


async def call(
    http: aiohttp.ClientSession, emu: TelegramEmulator, method: str, **params: Any
) -> tuple[int, dict[str, Any]]:
    async with http.post(f"{emu.base_url}/bot{emu.token}/{method}", json=params) as response:
        body: dict[str, Any] = await response.json()
        return response.status, body


def invoice(**changes: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "title": "Subscription",
        "description": "30 days of Alpha",
        "payload": ORDER,
        "currency": "XTR",
        "prices": [{"label": "Subscription", "amount": 500}],
    }
    params.update(changes)
    return {k: v for k, v in params.items() if v is not None}


async def answer_every_query(
    http: aiohttp.ClientSession, emu: TelegramEmulator, ok: bool, error: str | None = None
) -> list[dict[str, Any]]:
    """Plays the bot: takes the next pre-checkout query from getUpdates and answers it."""
    for _ in range(100):
        _, body = await call(http, emu, "getUpdates", timeout=0)
        queries = [u["pre_checkout_query"] for u in body["result"] if "pre_checkout_query" in u]
        if queries:
            for query in queries:
                params: dict[str, Any] = {"pre_checkout_query_id": query["id"], "ok": ok}
                if error is not None:
                    params["error_message"] = error
                await call(http, emu, "answerPreCheckoutQuery", **params)
            return queries
        await asyncio.sleep(0.02)
    raise AssertionError("no pre-checkout query came")


# ----------------------------------------------------------- the emulator
async def test_a_stars_invoice_link_is_made_for_one_price_in_xtr(
    emulator: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    status, body = await call(http, emulator, "createInvoiceLink", **invoice())

    assert status == 200
    assert body["result"].startswith("https://t.me/$")
    assert emulator.stars.invoices[body["result"]].amount == 500


@pytest.mark.parametrize(
    ("changes", "description"),
    [
        ({"currency": "USD"}, "CURRENCY_TOTAL_AMOUNT_INVALID"),
        (
            {"prices": [{"label": "a", "amount": 400}, {"label": "b", "amount": 100}]},
            "STARS_INVOICE_INVALID",
        ),
        ({"prices": [{"label": "a", "amount": 0}]}, "STARS_INVOICE_INVALID"),
        ({"provider_token": "284685063:TEST:abc"}, "PAYMENT_PROVIDER_INVALID"),
        ({"payload": "x" * 129}, "INVOICE_PAYLOAD_INVALID"),
        ({"payload": ""}, "INVOICE_PAYLOAD_INVALID"),
        ({"title": "t" * 33}, "TITLE_INVALID"),
        ({"description": "d" * 256}, "DESCRIPTION_INVALID"),
        ({"subscription_period": 86400}, "SUBSCRIPTION_PERIOD_INVALID"),
    ],
)
async def test_an_invoice_off_the_rules_is_a_bad_request(
    emulator: TelegramEmulator,
    http: aiohttp.ClientSession,
    changes: dict[str, Any],
    description: str,
) -> None:
    status, body = await call(http, emulator, "createInvoiceLink", **invoice(**changes))

    assert (status, body["description"]) == (400, f"Bad Request: {description}")
    assert emulator.stars.invoices == {}


async def test_a_payment_asks_the_bot_first_and_then_tells_it_the_charge(
    emulator: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    _, made = await call(http, emulator, "createInvoiceLink", **invoice())
    paying = asyncio.create_task(emulator.user_pays(ANN, made["result"]))

    queries = await answer_every_query(http, emulator, ok=True)
    result = await paying
    _, body = await call(http, emulator, "getUpdates", timeout=0)

    assert [(q["from"]["id"], q["currency"], q["total_amount"]) for q in queries] == [
        (ANN, "XTR", 500)
    ]
    assert queries[0]["invoice_payload"] == ORDER
    assert result.outcome is PayOutcome.PAID
    paid = [u["message"]["successful_payment"] for u in body["result"] if "message" in u]
    assert paid == [
        {
            "currency": "XTR",
            "total_amount": 500,
            "invoice_payload": ORDER,
            "telegram_payment_charge_id": result.charge_id,
            "provider_payment_charge_id": "",
        }
    ]


async def test_a_refused_pre_checkout_charges_nothing(
    emulator: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    _, made = await call(http, emulator, "createInvoiceLink", **invoice())
    paying = asyncio.create_task(emulator.user_pays(ANN, made["result"]))

    await answer_every_query(http, emulator, ok=False, error="closed")
    result = await paying

    assert (result.outcome, result.error_message) == (PayOutcome.REFUSED, "closed")
    assert emulator.stars.charges == {}


async def test_a_refusal_must_say_why(
    emulator: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    _, made = await call(http, emulator, "createInvoiceLink", **invoice())
    paying = asyncio.create_task(emulator.user_pays(ANN, made["result"]))
    _, body = await call(http, emulator, "getUpdates", timeout=1)
    query = body["result"][0]["pre_checkout_query"]

    status, _ = await call(
        http, emulator, "answerPreCheckoutQuery", pre_checkout_query_id=query["id"], ok=False
    )
    await call(http, emulator, "answerPreCheckoutQuery", pre_checkout_query_id=query["id"], ok=True)

    assert status == 400
    assert (await paying).outcome is PayOutcome.PAID


async def test_a_pre_checkout_left_unanswered_past_the_deadline_fails_the_payment(
    emulator: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    emulator.pre_checkout_deadline = 0.2
    _, made = await call(http, emulator, "createInvoiceLink", **invoice())

    result = await emulator.user_pays(ANN, made["result"])
    _, body = await call(http, emulator, "getUpdates", timeout=0)
    query = body["result"][0]["pre_checkout_query"]
    late, _ = await call(
        http, emulator, "answerPreCheckoutQuery", pre_checkout_query_id=query["id"], ok=True
    )

    assert result.outcome is PayOutcome.TIMED_OUT
    assert late == 400
    assert emulator.stars.charges == {}


# ------------------------------------------------------ the Stars gateway
async def test_the_gateway_makes_a_stars_invoice_whose_payload_is_the_order_id(
    emulator: TelegramEmulator, stars: TelegramStarsGateway
) -> None:
    made = await stars.create_invoice(InvoiceRequest(ORDER, Money(500, "XTR"), "30 days"))

    sold = emulator.stars.invoices[made.url]
    assert (sold.payload, sold.amount, sold.description) == (ORDER, 500, "30 days")
    assert made.invoice_id == ORDER
    assert stars.name == STARS_PROVIDER
    calls = emulator.calls_to("createInvoiceLink")
    assert calls[-1].params["currency"] == "XTR"
    assert "provider_token" not in calls[-1].params


@pytest.mark.parametrize(
    "request_",
    [
        InvoiceRequest(ORDER, Money(10, "USD"), "30 days"),
        InvoiceRequest(ORDER, Money("2.5", "XTR"), "30 days"),
        InvoiceRequest("x" * 129, Money(500, "XTR"), "30 days"),
    ],
)
async def test_the_gateway_refuses_what_telegram_would_refuse_before_asking(
    emulator: TelegramEmulator, stars: TelegramStarsGateway, request_: InvoiceRequest
) -> None:
    with pytest.raises(ProviderRejected):
        await stars.create_invoice(request_)

    assert emulator.calls_to("createInvoiceLink") == []


async def test_the_gateway_refunds_a_charge_once_and_asking_again_is_safe(
    emulator: TelegramEmulator, stars: TelegramStarsGateway, http: aiohttp.ClientSession
) -> None:
    made = await stars.create_invoice(InvoiceRequest(ORDER, Money(500, "XTR"), "30 days"))
    paying = asyncio.create_task(emulator.user_pays(ANN, made.url))
    await answer_every_query(http, emulator, ok=True)
    charge = (await paying).charge_id
    assert charge is not None

    await stars.refund(UserId(ANN), charge)
    await stars.refund(UserId(ANN), charge)  # after a crash, say: the refund stands
    with pytest.raises(ProviderRejected):
        await stars.refund(UserId(BOB), charge)
    with pytest.raises(ProviderRejected):
        await stars.refund(UserId(BOB), "stxNoSuchCharge")

    assert emulator.stars.charges[charge].refunded
    refunds = [c.description for c in emulator.calls_to("refundStarPayment")]
    assert refunds[:2] == [None, "Bad Request: CHARGE_ALREADY_REFUNDED"]


async def test_the_gateway_believes_no_webhook_and_lists_nothing(
    stars: TelegramStarsGateway,
) -> None:
    with pytest.raises(InvalidSignature):
        stars.verify_notification(b"{}", {})
    with pytest.raises(NotConfigured):
        await stars.payments_for_invoice(ORDER)
