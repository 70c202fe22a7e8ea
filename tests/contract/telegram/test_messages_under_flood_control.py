"""Many messages to many chats through the adapter, against the emulator enforcing
Telegram's documented limits at full scale: none lost, no 429 reaches the caller."""

from __future__ import annotations

import asyncio
import time

from adapters.outbound.telegram import PacedRateLimiter, TelegramBotClient, TelegramMessenger
from core.domain.ids import ChatId, MessageId
from core.domain.messages import Verbatim, VerbatimButton
from sandbox.telegram import FloodLimits, TelegramEmulator

USERS = [ChatId(20_000 + n) for n in range(45)]
CHANNELS = [ChatId(-1007000000000 - n) for n in range(5)]
PER_CHAT = 4


def text(chat: ChatId, n: int) -> str:
    return f"note {n} for {chat}"


async def test_200_messages_to_50_chats_all_arrive_in_order_and_no_429_reaches_the_caller() -> None:
    chats = USERS + CHANNELS
    async with TelegramEmulator(flood=FloodLimits()) as emulator:
        for user in USERS:
            emulator.add_user(user)
        for channel in CHANNELS:
            emulator.add_chat(channel, "channel", "Open channel")
        limiter = PacedRateLimiter()  # Telegram's documented limits, as in production
        async with TelegramBotClient(
            emulator.token, api_url=emulator.base_url, limiter=limiter
        ) as client:
            messenger = TelegramMessenger(client)
            button = ((VerbatimButton("Subscribe", url="https://t.me/paygate_test_bot?start=x"),),)
            # Round after round over every chat, all in flight at once, as a broadcast
            # with follow-ups would queue them.
            sends = [
                messenger.send(chat, Verbatim(text(chat, n), button))
                for n in range(1, PER_CHAT + 1)
                for chat in chats
            ]
            started = time.monotonic()
            results = await asyncio.gather(*sends, return_exceptions=True)
            elapsed = time.monotonic() - started

    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == []
    assert len(results) == 200
    for chat in chats:
        shown = emulator.messages(chat)
        assert [m.text for m in shown] == [text(chat, n) for n in range(1, PER_CHAT + 1)]
        assert [m.message_id for m in shown] == [MessageId(n) for n in range(1, PER_CHAT + 1)]
    refused = emulator.rejected(429)
    assert limiter.stats.surfaced == 0
    # Every 429 Telegram gave (normally none) was waited out and retried here.
    assert limiter.stats.retry_afters == len(refused)
    assert len(emulator.calls_to("sendMessage")) == 200 + len(refused)
    # Bound by the channels' 20/min: each one's 4th post comes ~9.5 s after its 1st.
    assert elapsed < 20.0
