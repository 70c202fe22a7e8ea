"""Pacing against Telegram's documented limits, at full scale (prints figures; not a test).

A 600-user broadcast, 30 posts to one channel and 30 removals (unbanChatMember) in that
channel, all at once, through TelegramMessenger/TelegramChatAccess and our
PacedRateLimiter, against the local emulator enforcing 30 msg/s overall, 1 msg/s per
private chat and 20 msg/min per channel. Prints what Telegram refused (429s), the
elapsed time and the densest windows seen at the server.

Run: .venv/bin/python bench/bench_telegram_pacing.py   (about a minute and a half)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any

from adapters.outbound.telegram import (
    PacedRateLimiter,
    TelegramBotClient,
    TelegramChatAccess,
    TelegramMessenger,
)
from core.domain.ids import ChatId, UserId
from core.domain.messages import Button, OutgoingMessage
from sandbox.telegram import FloodLimits, TelegramEmulator

USERS = 600
POSTS = 30
REMOVALS = 30
CHANNEL = -1005000000001
FIRST_USER = 10_000


def densest(times: list[float], per: float) -> int:
    ordered = sorted(times)
    best = start = 0
    for end, at in enumerate(ordered):
        while ordered[start] <= at - per:
            start += 1
        best = max(best, end - start + 1)
    return best


async def main() -> None:
    emulator = TelegramEmulator(flood=FloodLimits())
    await emulator.start()
    users = [FIRST_USER + n for n in range(USERS)]
    for user in users:
        emulator.add_user(user)
    emulator.add_chat(CHANNEL, "channel", "Open channel")
    for user in users[:REMOVALS]:
        emulator.set_member(CHANNEL, user)

    limiter = PacedRateLimiter()
    offer = OutgoingMessage("New tiers", ((Button("Subscribe", url="https://t.me/b?start=x"),),))
    started = time.monotonic()
    async with TelegramBotClient(
        emulator.token, api_url=emulator.base_url, limiter=limiter
    ) as client:
        messenger, access = TelegramMessenger(client), TelegramChatAccess(client)
        # Posts first: the overall lane is first come, first served, and a channel post
        # queued behind the whole broadcast would start 20 s late.
        jobs: list[Coroutine[Any, Any, object]] = [
            messenger.send(ChatId(CHANNEL), offer) for _ in range(POSTS)
        ]
        jobs += [access.remove_member(ChatId(CHANNEL), UserId(u)) for u in users[:REMOVALS]]
        jobs += [messenger.send(ChatId(user), offer) for user in users]
        outcomes = await asyncio.gather(*jobs, return_exceptions=True)
    elapsed = time.monotonic() - started
    await emulator.stop()

    failures = [o for o in outcomes if isinstance(o, BaseException)]
    sends = [c for c in emulator.calls if c.method == "sendMessage"]
    accepted = [c for c in sends if c.ok]
    to_channel = [c.at for c in accepted if int(c.params["chat_id"]) == CHANNEL]
    private = [c for c in accepted if int(c.params["chat_id"]) > 0]
    per_user: dict[str, list[float]] = {}
    for c in private:
        per_user.setdefault(str(c.params["chat_id"]), []).append(c.at)
    admin = [c for c in emulator.calls if c.method in ("banChatMember", "unbanChatMember")]
    first = min(c.at for c in emulator.calls if c.method != "getMe")

    lines: list[str] = []
    lines.append("PacedRateLimiter against the emulator at Telegram's documented limits")
    lines.append(f"  jobs: {USERS} private messages, {POSTS} channel posts, {REMOVALS} removals")
    lines.append(f"  elapsed: {elapsed:.1f} s")
    lines.append(f"  rejected by Telegram (429): {len(emulator.rejected(429))}")
    lines.append(f"  jobs that failed: {len(failures)}")
    lines.append(
        f"  messages in the first second: {len([c for c in accepted if c.at - first < 1])}"
    )
    lines.append(f"  densest 1 s window, all messages: {densest([c.at for c in accepted], 1.0)}")
    lines.append(
        f"  densest 1 s window, one private chat: {max(densest(t, 1.0) for t in per_user.values())}"
    )
    lines.append(
        f"  channel posts in the first minute: {len([t for t in to_channel if t - first < 60])}"
    )
    lines.append(f"  densest 60 s window, the channel: {densest(to_channel, 60.0)}")
    lines.append(
        f"  removal calls: {len(admin)}, done after {max(c.at for c in admin) - first:.1f} s"
    )
    lines.append(f"  limiter: {limiter.stats}")
    print("\n".join(lines))  # noqa: T201 (a benchmark prints its figures)


if __name__ == "__main__":
    asyncio.run(main())
