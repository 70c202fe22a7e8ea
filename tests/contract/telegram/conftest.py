"""Fixtures of the Telegram suites.

``telegram`` runs a test once per backend of the ports (the in-memory fakes, and
the real adapters over the emulator); the other fixtures are the real adapters over
the emulator alone, for what only they have (the wire, pacing, the breaker)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.outbound.breaker import CircuitBreaker
from adapters.outbound.telegram import (
    PacedRateLimiter,
    TelegramBotClient,
    TelegramChatAccess,
    TelegramMessenger,
)
from sandbox.telegram import FloodLimits, TelegramEmulator
from tests.contract.telegram.backends import (
    ANN,
    BACKENDS,
    BOB,
    CHANNEL,
    FAST,
    OWNER,
    TelegramHarness,
)


@pytest.fixture(params=list(BACKENDS), ids=list(BACKENDS))
async def telegram(request: pytest.FixtureRequest) -> AsyncIterator[TelegramHarness]:
    async with BACKENDS[request.param]() as harness:
        yield harness


@pytest.fixture
async def emulator() -> AsyncIterator[TelegramEmulator]:
    emu = TelegramEmulator(flood=FloodLimits.off(), webhook_retry_delay=0.05)
    await emu.start()
    emu.add_user(OWNER, "Owner")
    emu.add_user(ANN, "Ann")
    emu.add_user(BOB, "Bob")
    emu.add_chat(CHANNEL, "channel", "Closed club", creator_id=OWNER)
    yield emu
    await emu.stop()


@pytest.fixture
def breaker() -> CircuitBreaker:
    return CircuitBreaker("telegram-test", failure_threshold=2, reset_timeout=60.0)


@pytest.fixture
async def client(
    emulator: TelegramEmulator, breaker: CircuitBreaker
) -> AsyncIterator[TelegramBotClient]:
    client = TelegramBotClient(
        emulator.token,
        api_url=emulator.base_url,
        limiter=PacedRateLimiter(FAST),
        breaker=breaker,
        read_timeout=5.0,
    )
    async with client:
        yield client


@pytest.fixture
def messenger(client: TelegramBotClient) -> TelegramMessenger:
    return TelegramMessenger(client)


@pytest.fixture
def chat_access(client: TelegramBotClient) -> TelegramChatAccess:
    return TelegramChatAccess(client)
