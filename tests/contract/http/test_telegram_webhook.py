"""POST /webhooks/telegram: Telegram's secret token, deduplicated updates, handed on."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest

from adapters.inbound.http import HttpSettings, TelegramWebhook, build_app
from adapters.outbound.memory import InMemoryNonceStore
from adapters.outbound.nowpayments.gateway import NowPaymentsGateway
from core.ports.security import NonceStore, Secret
from tests.contract.backends_redis import redis_nonces
from tests.contract.http.shop import Shop, make_deps, serve

URL = "/webhooks/telegram"
SECRET = "tg-webhook-secret_2026-CURRENT"
PREVIOUS = "tg-webhook-secret_2025-PREVIOUS"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


class Bot:
    """The bot application's intake: keeps what it was handed."""

    def __init__(self) -> None:
        self.updates: list[Mapping[str, Any]] = []

    async def take(self, update: Mapping[str, Any]) -> None:
        self.updates.append(update)


def update(update_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {"message_id": 7, "chat": {"id": 42, "type": "private"}, "text": "/start"},
    }


@pytest.fixture
def bot() -> Bot:
    return Bot()


def webhook(bot: Bot) -> TelegramWebhook:
    return TelegramWebhook(Secret(SECRET), bot.take, previous_secret=Secret(PREVIOUS))


async def test_an_update_with_the_secret_is_handed_to_the_bot(
    shop: Shop, gateway: NowPaymentsGateway, bot: Bot
) -> None:
    async with serve(build_app(make_deps(shop, gateway, telegram=webhook(bot)))) as client:
        response = await client.post(URL, json=update(1001), headers={HEADER: SECRET})

    assert response.status == 200
    assert bot.updates == [update(1001)]


async def test_the_previous_secret_still_works_during_a_rotation(
    shop: Shop, gateway: NowPaymentsGateway, bot: Bot
) -> None:
    async with serve(build_app(make_deps(shop, gateway, telegram=webhook(bot)))) as client:
        response = await client.post(URL, json=update(1002), headers={HEADER: PREVIOUS})

    assert response.status == 200
    assert [u["update_id"] for u in bot.updates] == [1002]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {HEADER: "guess"},
        {HEADER: SECRET[:-1]},
        {HEADER: SECRET + "x"},
        {HEADER: SECRET.lower()},
    ],
    ids=["missing", "wrong", "prefix", "longer", "case"],
)
async def test_a_missing_or_wrong_secret_is_401_and_logged_without_its_value(
    shop: Shop,
    gateway: NowPaymentsGateway,
    bot: Bot,
    headers: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with serve(build_app(make_deps(shop, gateway, telegram=webhook(bot)))) as client:
        response = await client.post(URL, json=update(1003), headers=headers)

    assert response.status == 401
    assert bot.updates == []
    refusals = [
        r.getMessage() for r in caplog.records if "refused a Telegram update" in r.getMessage()
    ]
    assert len(refusals) == 1
    for value in headers.values():
        assert value not in caplog.text


async def test_two_secret_headers_are_refused(
    shop: Shop, gateway: NowPaymentsGateway, bot: Bot
) -> None:
    async with serve(build_app(make_deps(shop, gateway, telegram=webhook(bot)))) as client:
        response = await client.post(
            URL, json=update(1004), headers=[(HEADER, SECRET), (HEADER, "other")]
        )

    assert response.status == 401
    assert bot.updates == []


async def test_a_resent_update_is_answered_200_and_handed_on_once(
    shop: Shop, gateway: NowPaymentsGateway, bot: Bot
) -> None:
    async with serve(build_app(make_deps(shop, gateway, telegram=webhook(bot)))) as client:
        answers = [
            await client.post(URL, json=update(2001), headers={HEADER: SECRET}) for _ in range(3)
        ]
        other = await client.post(URL, json=update(2002), headers={HEADER: SECRET})

    assert [a.status for a in answers] == [200, 200, 200]
    assert other.status == 200
    assert [u["update_id"] for u in bot.updates] == [2001, 2002]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"message": {}}',
        b'{"update_id": "12"}',
        b'{"update_id": true}',
        b'{"update_id": -5}',
        b"[" * 100_000,
    ],
    ids=["text", "array", "no-id", "string-id", "bool-id", "negative-id", "deep"],
)
async def test_a_malformed_update_is_400(
    shop: Shop, gateway: NowPaymentsGateway, bot: Bot, body: bytes
) -> None:
    async with serve(build_app(make_deps(shop, gateway, telegram=webhook(bot)))) as client:
        response = await client.post(URL, data=body, headers={HEADER: SECRET})
        answer = await response.json()

    assert (response.status, answer) == (
        400,
        {"error": "an update is a JSON object with an integer update_id"},
    )
    assert bot.updates == []


async def test_an_update_over_the_limit_is_413(
    shop: Shop, gateway: NowPaymentsGateway, bot: Bot
) -> None:
    settings = HttpSettings(telegram_body_limit=4096)
    big = update(3001) | {"padding": "x" * 5000}
    deps = make_deps(shop, gateway, telegram=webhook(bot), settings=settings)
    async with serve(build_app(deps)) as client:
        response = await client.post(URL, data=json.dumps(big), headers={HEADER: SECRET})

    assert response.status == 413
    assert bot.updates == []


async def test_without_a_webhook_configured_there_is_no_route(
    shop: Shop, gateway: NowPaymentsGateway
) -> None:
    async with serve(build_app(make_deps(shop, gateway))) as client:
        response = await client.post(URL, json=update(1), headers={HEADER: SECRET})

    assert response.status == 404


def test_a_secret_telegram_would_refuse_is_refused_at_start_up(bot: Bot) -> None:
    with pytest.raises(ValueError, match="1-256 of A-Z a-z 0-9 _ -"):
        TelegramWebhook(Secret("has spaces"), bot.take)


class FailingOnceBot(Bot):
    """Fails the first time it is handed an update, as a handler that hit a bug or a
    process that died half-way would; checks, while handling, that the update is not
    yet marked seen (a crash at that moment must leave it to Telegram's resend)."""

    def __init__(self, nonces: NonceStore) -> None:
        super().__init__()
        self._nonces = nonces
        self.marked_while_handling: list[bool] = []

    async def take(self, update: Mapping[str, Any]) -> None:
        self.marked_while_handling.append(
            await self._nonces.seen("telegram-update", str(update["update_id"]))
        )
        if len(self.marked_while_handling) == 1:
            raise RuntimeError("the handler failed half-way")
        await super().take(update)


@asynccontextmanager
async def _memory_nonces(shop: Shop) -> AsyncIterator[NonceStore]:
    yield InMemoryNonceStore(shop.clock)


@asynccontextmanager
async def _redis_nonces(_: Shop) -> AsyncIterator[NonceStore]:
    async with redis_nonces(lambda store, _pass_time: store) as store:
        yield store


@pytest.mark.parametrize("store", [_memory_nonces, _redis_nonces], ids=["memory", "redis"])
async def test_an_update_whose_handling_failed_is_handled_when_telegram_resends_it(
    shop: Shop,
    gateway: NowPaymentsGateway,
    store: Callable[[Shop], AbstractAsyncContextManager[NonceStore]],
) -> None:
    async with store(shop) as nonces:
        bot = FailingOnceBot(nonces)
        deps = make_deps(shop, gateway, telegram=webhook(bot), nonces=nonces)
        async with serve(build_app(deps)) as client:
            answers = [
                await client.post(URL, json=update(4001), headers={HEADER: SECRET})
                for _ in range(3)
            ]
            duplicate = await answers[2].json()

    assert [a.status for a in answers] == [500, 200, 200]
    assert duplicate == {"ok": True, "duplicate": True}
    assert bot.updates == [update(4001)]
    assert bot.marked_while_handling == [False, False]
