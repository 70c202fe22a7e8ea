"""Flood control, outages and the circuit breaker, as the adapters' callers see them."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from adapters.outbound.breaker import BreakerState, CircuitBreaker, CircuitOpen
from adapters.outbound.telegram import (
    PacedRateLimiter,
    PacingLimits,
    TelegramBotClient,
    TelegramMessenger,
)
from core.domain.ids import ChatId
from core.domain.messages import Verbatim
from core.ports.errors import Unavailable
from sandbox.telegram import FloodLimits, Rate, TelegramEmulator, new_token
from tests.contract.telegram.backends import ANN, CHANNEL, FAST

HELLO = Verbatim("hello")


async def test_flood_control_reaches_the_caller_as_unavailable_with_its_wait(
    emulator: TelegramEmulator, breaker: CircuitBreaker, messenger: TelegramMessenger
) -> None:
    emulator.flood.configure(FloodLimits(group_chat=Rate(1, 60.0)))
    channels = [ChatId(CHANNEL - n) for n in range(1, 4)]
    for channel in channels:
        emulator.add_chat(channel, "channel", "Another")
        await messenger.send(channel, HELLO)

    for channel in channels:
        with pytest.raises(Unavailable) as refused:
            await messenger.send(channel, HELLO)
        assert 59 <= (refused.value.retry_after or 0) <= 60

    # Three 429s in a row with a failure threshold of two: Telegram is healthy.
    assert len(emulator.rejected(429)) == 3
    assert breaker.state is BreakerState.CLOSED


async def test_a_chat_under_a_long_wait_is_refused_without_asking_telegram(
    emulator: TelegramEmulator, messenger: TelegramMessenger
) -> None:
    emulator.flood.configure(FloodLimits(group_chat=Rate(1, 60.0)))
    await messenger.send(ChatId(CHANNEL), HELLO)

    for _ in range(3):
        with pytest.raises(Unavailable) as refused:
            await messenger.send(ChatId(CHANNEL), HELLO)
        assert 59 <= (refused.value.retry_after or 0) <= 60

    assert len(emulator.rejected(429)) == 1
    assert len(emulator.calls_to("sendMessage")) == 2


async def test_a_short_retry_after_is_waited_out_and_retried(
    emulator: TelegramEmulator,
) -> None:
    emulator.flood.configure(FloodLimits(private_chat=Rate(1, 0.3)))
    limits = PacingLimits(
        overall=FAST.overall, private_chat=FAST.private_chat, max_retries=1, max_retry_wait=2.0
    )
    async with TelegramBotClient(
        emulator.token, api_url=emulator.base_url, limiter=PacedRateLimiter(limits)
    ) as client:
        messenger = TelegramMessenger(client)
        await messenger.send(ChatId(ANN), HELLO)
        await messenger.send(ChatId(ANN), HELLO)

        assert [m.text for m in emulator.messages(ANN)] == ["hello", "hello"]
        assert [c.error_code for c in emulator.calls_to("sendMessage")] == [None, 429, None]
        assert client.limiter.stats.retries == 1


@pytest.fixture
async def ailing_telegram() -> AsyncIterator[tuple[str, list[str]]]:
    """A Bot API that knows the bot but answers every message with 502."""
    seen: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        seen.append(method)
        if method == "getMe":
            bot = {"id": 1, "is_bot": True, "first_name": "Bot", "username": "b_bot"}
            return web.json_response({"ok": True, "result": bot})
        return web.json_response(
            {"ok": False, "error_code": 502, "description": "Bad Gateway"}, status=502
        )

    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}", seen
    await runner.cleanup()


async def test_server_errors_open_the_circuit(
    ailing_telegram: tuple[str, list[str]], breaker: CircuitBreaker
) -> None:
    url, seen = ailing_telegram
    async with TelegramBotClient(
        new_token(), api_url=url, limiter=PacedRateLimiter(FAST), breaker=breaker
    ) as client:
        messenger = TelegramMessenger(client)
        for _ in range(2):
            with pytest.raises(Unavailable, match="unreachable"):
                await messenger.send(ChatId(ANN), HELLO)
        assert breaker.state is BreakerState.OPEN

        with pytest.raises(CircuitOpen):
            await messenger.send(ChatId(ANN), HELLO)

    assert seen == ["getMe", "sendMessage", "sendMessage"]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_an_unreachable_telegram_is_unavailable_at_start() -> None:
    client = TelegramBotClient(
        new_token(),
        api_url=f"http://127.0.0.1:{_closed_port()}",
        limiter=PacedRateLimiter(FAST),
        connect_timeout=1.0,
    )

    with pytest.raises(Unavailable, match="unreachable"):
        await client.start()


async def test_a_wrong_token_is_unavailable_at_start(emulator: TelegramEmulator) -> None:
    client = TelegramBotClient(
        new_token(), api_url=emulator.base_url, limiter=PacedRateLimiter(FAST)
    )

    with pytest.raises(Unavailable, match="refused the bot token"):
        await client.start()
    assert emulator.calls[-1].description == "Unauthorized"


async def test_the_token_never_reaches_the_logs(
    emulator: TelegramEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    async with TelegramBotClient(
        emulator.token, api_url=emulator.base_url, limiter=PacedRateLimiter(FAST)
    ) as client:
        await TelegramMessenger(client).send(ChatId(ANN), HELLO)

    assert any("sendMessage" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if emulator.token in r.getMessage()]
