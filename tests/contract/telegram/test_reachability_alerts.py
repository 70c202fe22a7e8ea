"""Issue 18, "degraded, not down": Telegram lost at start and found again makes one
alert each way, through the sink the process attaches after building the client."""

from __future__ import annotations

import asyncio
import contextlib
import socket

from telegram.error import TelegramError

from adapters.outbound.breaker import CircuitBreaker
from adapters.outbound.memory.alert_sink import InMemoryAlertSink
from adapters.outbound.telegram import PacedRateLimiter, TelegramBotClient
from core.ports.alerts import Severity
from core.ports.errors import Unavailable
from sandbox.telegram import FloodLimits, TelegramEmulator
from tests.contract.telegram.backends import FAST


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_telegram_lost_at_start_and_back_alerts_once_each_way() -> None:
    port = free_port()
    emulator = TelegramEmulator(flood=FloodLimits.off(), port=port)
    client = TelegramBotClient(
        emulator.token,
        api_url=f"http://127.0.0.1:{port}",
        limiter=PacedRateLimiter(FAST),
        # The failed attempts open the breaker; it lets a probe through soon.
        breaker=CircuitBreaker("telegram-test", reset_timeout=0.1),
        read_timeout=1.0,
        connect_timeout=0.5,
    )
    sink = InMemoryAlertSink()
    assert await client.start_degraded() is False
    client.report_outages_to(sink)  # as the process does, once its alerts exist
    reconnecting = asyncio.create_task(client.reconnect(first_pause=0.05, longest_pause=0.1))
    await asyncio.sleep(0.4)  # several failed attempts: still one alert
    assert [(a.severity, a.key) for a in sink.alerts] == [
        (Severity.CRITICAL, "telegram:unreachable")
    ]
    await emulator.start()
    try:
        await asyncio.wait_for(reconnecting, 5)
        for _ in range(50):
            if len(sink.alerts) == 2:
                break
            await asyncio.sleep(0.02)
        assert client.connected
        assert [(a.severity, a.key) for a in sink.alerts] == [
            (Severity.CRITICAL, "telegram:unreachable"),
            (Severity.WARNING, "telegram:reachable"),
        ]
    finally:
        await client.stop()
        await emulator.stop()


async def test_an_outage_over_before_alerts_were_attached_is_not_reported() -> None:
    port = free_port()
    emulator = TelegramEmulator(flood=FloodLimits.off(), port=port)
    client = TelegramBotClient(
        emulator.token,
        api_url=f"http://127.0.0.1:{port}",
        limiter=PacedRateLimiter(FAST),
        # The failed attempts open the breaker; it lets a probe through soon.
        breaker=CircuitBreaker("telegram-test", reset_timeout=0.1),
        read_timeout=1.0,
        connect_timeout=0.5,
    )
    assert await client.start_degraded() is False
    await emulator.start()
    try:
        await asyncio.wait_for(client.reconnect(first_pause=0.05), 5)
        sink = InMemoryAlertSink()
        client.report_outages_to(sink)
        await asyncio.sleep(0.05)
        assert sink.alerts == []
    finally:
        await client.stop()
        await emulator.stop()


async def test_telegram_lost_after_a_good_start_and_back_alerts_once_each_way() -> None:
    port = free_port()
    emulator = TelegramEmulator(flood=FloodLimits.off(), port=port)
    await emulator.start()
    client = TelegramBotClient(
        emulator.token,
        api_url=f"http://127.0.0.1:{port}",
        limiter=PacedRateLimiter(FAST),
        breaker=CircuitBreaker("telegram-test", failure_threshold=2, reset_timeout=0.2),
        read_timeout=1.0,
        connect_timeout=0.5,
    )
    sink = InMemoryAlertSink()
    try:
        assert await client.start_degraded() is True
        client.report_outages_to(sink)
        await emulator.stop()
        for _ in range(6):  # opens, then stays open: refused at once
            with contextlib.suppress(TelegramError, Unavailable):
                await client.bot.get_me()
        await asyncio.sleep(0.05)
        assert [(a.severity, a.key) for a in sink.alerts] == [
            (Severity.CRITICAL, "telegram:unreachable")
        ]
        await emulator.start()
        await asyncio.sleep(0.3)  # past the reset timeout: a trial call goes through
        await client.bot.get_me()
        await client.bot.get_me()
        await asyncio.sleep(0.05)
        assert [(a.severity, a.key) for a in sink.alerts] == [
            (Severity.CRITICAL, "telegram:unreachable"),
            (Severity.WARNING, "telegram:reachable"),
        ]
    finally:
        await client.stop()
        await emulator.stop()
