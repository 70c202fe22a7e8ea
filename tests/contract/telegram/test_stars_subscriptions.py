"""Stars subscriptions on the wire: the emulator's subscription invoices, their first
payment, renewals at each period's end, and cancellation by the bot or the user keep
the Bot API's rules; the Stars gateway asks for and cancels them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from adapters.outbound.telegram import TelegramBotClient
from adapters.outbound.telegram.stars_gateway import TelegramStarsGateway
from core.domain.ids import UserId
from core.domain.money import Money
from core.ports.payments import InvoiceRequest, ProviderRejected
from sandbox.telegram import TelegramEmulator
from sandbox.telegram.stars import SUBSCRIPTION_PERIOD, PayOutcome
from tests.contract.telegram.backends import ANN, BOB
from tests.contract.telegram.test_stars import answer_every_query, call, invoice

ORDER = "in7Q2hX_bbbbbbbbbbbbbbbbbbbbbb"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(trust_env=False) as session:
        yield session


@pytest.fixture
def stars(client: TelegramBotClient) -> TelegramStarsGateway:
    return TelegramStarsGateway(client)


async def subscribe(
    http: aiohttp.ClientSession, emu: TelegramEmulator, **changes: Any
) -> tuple[str, list[dict[str, Any]]]:
    """Ann pays a subscription invoice; her charge id and the payments the bot got."""
    _, made = await call(
        http,
        emu,
        "createInvoiceLink",
        **invoice(payload=ORDER, subscription_period=SUBSCRIPTION_PERIOD, **changes),
    )
    paying = asyncio.create_task(emu.user_pays(ANN, made["result"]))
    await answer_every_query(http, emu, ok=True)
    result = await paying
    assert result.outcome is PayOutcome.PAID and result.charge_id is not None
    return result.charge_id, await payments(http, emu)


async def payments(http: aiohttp.ClientSession, emu: TelegramEmulator) -> list[dict[str, Any]]:
    _, body = await call(http, emu, "getUpdates", timeout=0)
    found = body["result"]
    if found:
        await call(http, emu, "getUpdates", offset=found[-1]["update_id"] + 1, timeout=0)
    return [u["message"]["successful_payment"] for u in found if "message" in u]


async def test_the_first_payment_of_a_subscription_says_so_and_when_it_ends(
    emulator: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    charge_id, paid = await subscribe(http, emulator)

    assert paid == [
        {
            "currency": "XTR",
            "total_amount": 500,
            "invoice_payload": ORDER,
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": "",
            "subscription_expiration_date": paid[0]["subscription_expiration_date"],
            "is_recurring": True,
            "is_first_recurring": True,
        }
    ]
    assert abs(paid[0]["subscription_expiration_date"] - emulator.now() - SUBSCRIPTION_PERIOD) <= 2


async def test_a_renewal_is_a_new_charge_for_the_next_period_without_asking_the_bot(
    emulator: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    charge_id, first = await subscribe(http, emulator)

    renewed = emulator.subscription_renews(charge_id)
    paid = await payments(http, emulator)

    assert renewed.outcome is PayOutcome.PAID
    assert renewed.charge_id not in (None, charge_id)
    assert len(paid) == 1
    assert paid[0]["telegram_payment_charge_id"] == renewed.charge_id
    assert (paid[0]["invoice_payload"], paid[0]["total_amount"]) == (ORDER, 500)
    assert (paid[0]["is_recurring"], "is_first_recurring" in paid[0]) == (True, False)
    assert paid[0]["subscription_expiration_date"] == (
        first[0]["subscription_expiration_date"] + SUBSCRIPTION_PERIOD
    )
    assert emulator.stars.pending == {}


async def test_a_subscription_the_bot_canceled_is_not_renewed_until_the_user_re_enables_it(
    emulator: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    charge_id, _ = await subscribe(http, emulator)
    params = {"user_id": ANN, "telegram_payment_charge_id": charge_id}

    canceled, _ = await call(http, emulator, "editUserStarSubscription", **params, is_canceled=True)
    skipped = emulator.subscription_renews(charge_id)
    blocked = emulator.user_edits_subscription(ANN, charge_id, canceled=False)
    allowed, _ = await call(http, emulator, "editUserStarSubscription", **params, is_canceled=False)
    still_skipped = emulator.subscription_renews(charge_id)
    re_enabled = emulator.user_edits_subscription(ANN, charge_id, canceled=False)
    renewed = emulator.subscription_renews(charge_id)

    assert canceled == allowed == 200
    assert (skipped.outcome, still_skipped.outcome) == (PayOutcome.CANCELED, PayOutcome.CANCELED)
    assert (blocked, re_enabled) == (False, True)
    assert renewed.outcome is PayOutcome.PAID
    assert len(await payments(http, emulator)) == 1


async def test_a_subscription_the_user_canceled_is_not_renewed(
    emulator: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    charge_id, _ = await subscribe(http, emulator)

    emulator.user_edits_subscription(ANN, charge_id, canceled=True)

    assert emulator.subscription_renews(charge_id).outcome is PayOutcome.CANCELED
    assert await payments(http, emulator) == []


@pytest.mark.parametrize(
    ("who", "charge", "description"),
    [
        (BOB, None, "CHARGE_ID_INVALID"),
        (ANN, "stx-unknown", "CHARGE_ID_INVALID"),
    ],
)
async def test_only_the_subscribers_first_charge_names_their_subscription(
    emulator: TelegramEmulator,
    http: aiohttp.ClientSession,
    who: int,
    charge: str | None,
    description: str,
) -> None:
    charge_id, _ = await subscribe(http, emulator)

    status, body = await call(
        http,
        emulator,
        "editUserStarSubscription",
        user_id=who,
        telegram_payment_charge_id=charge or charge_id,
        is_canceled=True,
    )

    assert (status, body["description"]) == (400, f"Bad Request: {description}")
    assert emulator.stars.subscriptions[charge_id].canceled is False


async def test_a_subscription_costs_at_most_ten_thousand_stars(
    emulator: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    status, body = await call(
        http,
        emulator,
        "createInvoiceLink",
        **invoice(
            prices=[{"label": "a", "amount": 10_001}], subscription_period=SUBSCRIPTION_PERIOD
        ),
    )
    one_off, _ = await call(
        http, emulator, "createInvoiceLink", **invoice(prices=[{"label": "a", "amount": 10_001}])
    )

    assert (status, body["description"]) == (400, "Bad Request: SUBSCRIPTION_PRICE_INVALID")
    assert one_off == 200


async def test_the_control_api_renews_and_cancels_for_other_processes(
    emulator: TelegramEmulator, http: aiohttp.ClientSession
) -> None:
    charge_id, _ = await subscribe(http, emulator)
    base = f"{emulator.base_url}/_emulator"

    async with http.post(f"{base}/stars/subscriptions/{charge_id}/renew") as response:
        renewed = await response.json()
    async with http.post(
        f"{base}/users/{ANN}/subscriptions", json={"charge_id": charge_id, "canceled": True}
    ) as response:
        canceled = await response.json()
    async with http.post(f"{base}/stars/subscriptions/{charge_id}/renew") as response:
        skipped = await response.json()

    assert renewed["outcome"] == "paid" and renewed["charge_id"] != charge_id
    assert canceled == {"ok": True}
    assert skipped["outcome"] == "canceled"


# ------------------------------------------------------ the Stars gateway
async def test_the_gateway_asks_for_a_thirty_day_subscription_when_the_tier_renews(
    emulator: TelegramEmulator, stars: TelegramStarsGateway
) -> None:
    renewing = await stars.create_invoice(
        InvoiceRequest(ORDER, Money(500, "XTR"), "30 days", renews=True)
    )
    once = await stars.create_invoice(InvoiceRequest(ORDER, Money(500, "XTR"), "30 days"))

    assert emulator.stars.invoices[renewing.url].subscription_period == SUBSCRIPTION_PERIOD
    assert emulator.stars.invoices[once.url].subscription_period is None


async def test_the_gateway_refuses_a_subscription_over_ten_thousand_stars(
    emulator: TelegramEmulator, stars: TelegramStarsGateway
) -> None:
    with pytest.raises(ProviderRejected):
        await stars.create_invoice(
            InvoiceRequest(ORDER, Money(10_001, "XTR"), "30 days", renews=True)
        )

    assert emulator.stars.invoices == {}


async def test_the_gateway_stops_a_subscriptions_renewals(
    emulator: TelegramEmulator, http: aiohttp.ClientSession, stars: TelegramStarsGateway
) -> None:
    charge_id, _ = await subscribe(http, emulator)

    await stars.stop_renewal(UserId(ANN), charge_id)

    assert emulator.stars.subscriptions[charge_id].bot_canceled is True
    assert emulator.subscription_renews(charge_id).outcome is PayOutcome.CANCELED


async def test_the_gateway_says_when_telegram_knows_no_such_subscription(
    emulator: TelegramEmulator, http: aiohttp.ClientSession, stars: TelegramStarsGateway
) -> None:
    charge_id, _ = await subscribe(http, emulator)

    with pytest.raises(ProviderRejected):
        await stars.stop_renewal(UserId(BOB), charge_id)

    assert emulator.stars.subscriptions[charge_id].canceled is False
