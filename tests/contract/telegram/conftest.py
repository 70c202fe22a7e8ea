"""The Telegram adapters against the local Bot API emulator, over loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.outbound.breaker import CircuitBreaker
from adapters.outbound.telegram import (
    PacedRateLimiter,
    PacingLimits,
    Rate,
    TelegramBotClient,
    TelegramChatAccess,
    TelegramMessenger,
)
from sandbox.telegram import FloodLimits, TelegramEmulator

CHANNEL = -1001000000001
"""The closed channel: the bot is an administrator with the usual rights."""
OWNER = 1000
ANN = 1001
BOB = 1002

# Pacing at real limits would make these tests wait seconds between two messages to
# one user; flood control has its own tests (unit and emulator).
FAST = PacingLimits(
    overall=Rate(1000, 1.0),
    private_chat=Rate(1000, 1.0),
    group_chat=Rate(1000, 1.0),
    admin=None,
    max_retries=0,
)


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
