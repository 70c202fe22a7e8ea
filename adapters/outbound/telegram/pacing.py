"""Pacing of outgoing Bot API calls to Telegram's flood limits.

Why not PTB's AIORateLimiter: measured against the emulator enforcing the documented
limits, it bursts (a leaky bucket that starts full puts ~59 messages in the first
second and 40 into one channel in the first minute), has no per-private-chat bucket,
and counts every call to a negative chat id, bans and unbans included, against the
20/min group bucket.

Here every limit is a paced bucket: calls are spaced ``per / count`` seconds apart
(stretched by ``headroom``), starting with the first, so there is no cold-start
burst. Message-sending calls take a slot in the overall bucket and in their chat's
bucket (1/s for a private chat, 20/min for a group or channel); administration calls
take a slot in their own budget and none from the message buckets; anything else
only waits for a connection. A 429 pauses only the bucket it names for its
``retry_after`` and is retried up to ``max_retries`` times when the wait is short,
otherwise handed to the caller as it is; until that pause ends, further calls for
the same bucket are refused here with the remaining wait instead of queueing.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import attrs
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from adapters.outbound.telegram.errors import retry_after, retry_after_seconds

__all__ = [
    "ADMIN_ENDPOINTS",
    "MESSAGE_ENDPOINTS",
    "PacedRateLimiter",
    "PacingLimits",
    "PacingStats",
    "Rate",
]

logger = logging.getLogger(__name__)

MESSAGE_ENDPOINTS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVideo",
        "sendAnimation",
        "sendAudio",
        "sendVoice",
        "sendVideoNote",
        "sendSticker",
        "sendMediaGroup",
        "sendPoll",
        "sendDice",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendInvoice",
        "sendPaidMedia",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
    }
)
"""Calls that put a new message in a chat: the ones Telegram's message limits count."""

ADMIN_ENDPOINTS = frozenset(
    {
        "banChatMember",
        "unbanChatMember",
        "restrictChatMember",
        "promoteChatMember",
        "approveChatJoinRequest",
        "declineChatJoinRequest",
        "createChatInviteLink",
        "editChatInviteLink",
        "revokeChatInviteLink",
        "exportChatInviteLink",
        "createChatSubscriptionInviteLink",
        "editChatSubscriptionInviteLink",
    }
)
"""Administration calls: Telegram publishes no limits for them, so they get a budget
of their own and never delay (or are delayed by) messages."""


@attrs.frozen
class Rate:
    """At most ``count`` calls per ``per`` seconds."""

    count: int = attrs.field(validator=attrs.validators.ge(1))
    per: float = attrs.field(validator=attrs.validators.gt(0))

    @property
    def interval(self) -> float:
        return self.per / self.count


@attrs.frozen
class PacingLimits:
    overall: Rate = Rate(30, 1.0)
    """Messages per second for the whole bot (Bots FAQ: about 30)."""
    private_chat: Rate = Rate(1, 1.0)
    """Messages to one private chat (Bots FAQ: about 1 per second)."""
    group_chat: Rate = Rate(20, 60.0)
    """Messages to one group, supergroup or channel (Bots FAQ: at most 20 per minute)."""
    admin: Rate | None = Rate(10, 1.0)
    """All administration calls together; None leaves them unpaced."""
    headroom: float = attrs.field(default=0.05, validator=attrs.validators.ge(0))
    """Spacing is stretched by this fraction, so that late wake-ups here (a quarter of
    it at most) and delays on the way (the rest) never put more calls in one of
    Telegram's windows than the limit allows."""
    max_concurrency: int = attrs.field(default=16, validator=attrs.validators.ge(1))
    """Calls in flight at once, whatever their kind."""
    max_retries: int = attrs.field(default=2, validator=attrs.validators.ge(0))
    """How many times a call refused with 429 is sent again here before the caller
    gets the RetryAfter."""
    max_retry_wait: float = attrs.field(default=30.0, validator=attrs.validators.ge(0))
    """A 429 asking for a longer wait than this goes to the caller at once (the
    outbox reschedules it) instead of holding a worker."""


@attrs.define
class PacingStats:
    """What the limiter saw, for logs, metrics and the benchmark."""

    calls: int = 0
    retry_afters: int = 0
    retries: int = 0
    surfaced: int = 0


class _ArrivalOrderLock:
    """A lock handed to the waiter that arrived first (lowest ``seq``), not the one
    that started waiting first: a channel post that sat out its 3 s chat spacing
    goes ahead of a broadcast queued after it, instead of behind all of it."""

    def __init__(self) -> None:
        self._held = False
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    async def acquire(self, seq: int) -> None:
        if not self._held:
            self._held = True
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (seq, turn))
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release()  # it was our turn already: pass it on
            raise

    def release(self) -> None:
        while self._waiters:
            _, turn = heapq.heappop(self._waiters)
            if not turn.done():
                turn.set_result(None)  # the lock stays held, by that waiter now
                return
        self._held = False

    @contextlib.asynccontextmanager
    async def holding(self, seq: int) -> AsyncIterator[None]:
        await self.acquire(seq)
        try:
            yield
        finally:
            self.release()


class _Bucket:
    """One paced limit. ``next_at`` is the slot of the next call; a 429 sets
    ``paused_until``. The lock lets waiting callers through in arrival order.

    Slots are a grid ``interval`` apart, not "``interval`` after the last call
    started": a caller always wakes a little after its slot (timer resolution, a
    busy event loop), and counting from that late start would lose that much on
    every call, about 12% at 100 calls a second. A late start may eat into the next
    gap by at most ``slack``, a small part of the headroom of one window, so that
    however calls land on the grid, no window of the limit holds more than it
    allows. Later than that, the grid restarts from the late call (no catch-up
    burst after an idle spell or a pause)."""

    __slots__ = ("interval", "lock", "next_at", "paused_until", "slack", "users")

    def __init__(self, interval: float, slack: float = 0.0) -> None:
        self.interval = interval
        self.slack = slack
        self.next_at = -math.inf
        self.paused_until = -math.inf
        self.lock = _ArrivalOrderLock()
        self.users = 0

    def ready_at(self) -> float:
        return max(self.next_at, self.paused_until)

    def take(self, now: float) -> None:
        """A call starts at ``now`` (at or after its slot): book the next slot."""
        late = now - self.next_at
        self.next_at = (self.next_at if late <= self.slack else now) + self.interval


_SWEEP_EVERY = 1024


@contextlib.asynccontextmanager
async def _no_lock() -> AsyncIterator[None]:
    yield


Callback = Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]]


class PacedRateLimiter(BaseRateLimiter[None]):
    """A ``telegram.ext.BaseRateLimiter`` for ``ExtBot(rate_limiter=...)``.

    ``clock`` and ``sleep`` are injectable so tests run on virtual time."""

    def __init__(
        self,
        limits: PacingLimits | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._limits = limits or PacingLimits()
        self._clock = clock
        self._sleep = sleep
        stretch = 1.0 + self._limits.headroom
        self._stretch = stretch
        self._messages = self._paced(self._limits.overall)
        admin = self._limits.admin
        self._admin = None if admin is None else self._paced(admin)
        self._chats: dict[tuple[str, int | str], _Bucket] = {}
        self._semaphore = asyncio.Semaphore(self._limits.max_concurrency)
        self._acquired = 0
        self._arrivals = 0
        self.stats = PacingStats()

    @property
    def limits(self) -> PacingLimits:
        return self._limits

    async def initialize(self) -> None:
        """Nothing to open: buckets are plain state."""

    async def shutdown(self) -> None:
        """Nothing to close; calls still waiting finish or are cancelled by their owners."""

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        lane, own, key = self._buckets_for(endpoint, data.get("chat_id"))
        self._arrivals += 1
        seq = self._arrivals  # kept across retries: a retried call keeps its place
        own.users += 1
        attempt = 0
        # A message holds its chat's turn until Telegram has taken it, retries
        # included: the chat's next message waiting for its slot must not go out
        # while this one sits out a 429. Other calls hold their bucket only while
        # taking a slot, so a slow one never holds up the rest of its budget.
        ordered = lane is not None
        try:
            async with own.lock.holding(seq) if ordered else _no_lock():
                while True:
                    self._refuse_if_paused_long(own, endpoint, key)
                    async with self._slot(lane, own, seq, own_held=ordered):
                        self.stats.calls += 1
                        try:
                            return await callback(*args, **kwargs)
                        except RetryAfter as exc:
                            wait = retry_after_seconds(exc)
                            self._pause(own, wait)
                            self.stats.retry_afters += 1
                            give_up = attempt >= self._limits.max_retries or (
                                wait > self._limits.max_retry_wait
                            )
                            logger.warning(
                                "telegram %s to %s: 429, retry after %s s%s",
                                endpoint,
                                key,
                                wait,
                                " (handed to the caller)" if give_up else "",
                            )
                            if give_up:
                                self.stats.surfaced += 1
                                raise
                            attempt += 1
                            self.stats.retries += 1
        finally:
            own.users -= 1

    def _refuse_if_paused_long(
        self, own: _Bucket, endpoint: str, key: tuple[str, int | str]
    ) -> None:
        """A bucket Telegram paused for longer than we would wait refuses at once, as
        Telegram would, without a call: the caller reschedules instead of holding a
        worker for minutes."""
        remaining = own.paused_until - self._clock()
        if remaining > self._limits.max_retry_wait:
            self.stats.surfaced += 1
            logger.info("telegram %s to %s: paused for %.0f s more", endpoint, key, remaining)
            raise retry_after(math.ceil(remaining))

    # ------------------------------------------------------------- buckets
    def _buckets_for(
        self, endpoint: str, chat_id: object
    ) -> tuple[_Bucket | None, _Bucket, tuple[str, int | str]]:
        """The lane a call shares with its kind, and the bucket of its own that a 429
        pauses: its chat's for a message, the admin budget for an admin call."""
        chat: int | str = chat_id if isinstance(chat_id, int | str) else ""
        if endpoint in MESSAGE_ENDPOINTS:
            private = isinstance(chat, int) and chat > 0
            rate = self._limits.private_chat if private else self._limits.group_chat
            key: tuple[str, int | str] = ("chat", chat)
            return self._messages, self._bucket(key, rate), key
        if endpoint in ADMIN_ENDPOINTS and self._admin is not None:
            return None, self._admin, ("admin", "")
        # Unpaced calls still get a bucket of their own, so a 429 on one of them
        # holds back that endpoint in that chat and nothing else.
        key = (endpoint, chat)
        return None, self._bucket(key, None), key

    def _bucket(self, key: tuple[str, int | str], rate: Rate | None) -> _Bucket:
        bucket = self._chats.get(key)
        if bucket is None:
            bucket = self._chats[key] = _Bucket(0.0) if rate is None else self._paced(rate)
        return bucket

    def _paced(self, rate: Rate) -> _Bucket:
        # A window of ``rate.per`` holds ``count`` slots spread over per * (1 + headroom).
        # Up to a quarter of that headroom absorbs late starts (half an interval is
        # plenty for a timer's lateness); the rest is for the way to Telegram, where
        # one call held up (a GC pause, a slow connection) lets those behind it close in.
        slack = min(rate.interval * self._stretch / 2, rate.per * self._limits.headroom / 4)
        return _Bucket(rate.interval * self._stretch, slack)

    def _pause(self, bucket: _Bucket, seconds: float) -> None:
        bucket.paused_until = max(bucket.paused_until, self._clock() + seconds)

    @contextlib.asynccontextmanager
    async def _slot(
        self, lane: _Bucket | None, own: _Bucket, seq: int, *, own_held: bool = False
    ) -> AsyncIterator[None]:
        """Wait until both buckets allow a call and a connection is free, take the
        slot in both, and hold the connection while the caller's block runs.

        One caller per own bucket at a time (its lock, taken here unless the caller
        ``own_held`` it already), so a chat's calls go in order and a chat waiting for
        its next slot never holds up other chats in the lane."""
        async with _no_lock() if own_held else own.lock.holding(seq):
            while True:
                await self._wait_ready(own)
                async with lane.lock.holding(seq) if lane is not None else _no_lock():
                    if lane is not None:
                        await self._wait_ready(lane)
                    await self._semaphore.acquire()
                    now = self._clock()
                    # A 429 of an earlier call may have paused a bucket meanwhile.
                    if own.ready_at() > now or (lane is not None and lane.ready_at() > now):
                        self._semaphore.release()
                        continue
                    own.take(now)
                    if lane is not None:
                        lane.take(now)
                    break
        try:
            yield
        finally:
            self._semaphore.release()
            self._acquired += 1
            if self._acquired % _SWEEP_EVERY == 0:
                self._sweep()

    async def _wait_ready(self, bucket: _Bucket) -> None:
        while (wait := bucket.ready_at() - self._clock()) > 0:
            await self._sleep(wait)

    def _sweep(self) -> None:
        """Forget buckets nobody waits on that no longer hold anything back."""
        now = self._clock()
        idle = [k for k, b in self._chats.items() if b.users == 0 and b.ready_at() <= now]
        for key in idle:
            del self._chats[key]
