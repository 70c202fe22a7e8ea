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

Telegram counts per bot, not per process. With ``shared`` pacing (Redis, see
``adapters/outbound/redis/telegram_pacing.py``) every process books its slots in the
same buckets, and a 429's pause is shared too; the waiting, ordering and retries
stay here, in each process. While the shared buckets cannot be reached, each process
paces alone at ``1 / processes`` of every limit, says so once (log and alert), and
books in the shared buckets again as soon as they answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, Protocol

import attrs
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from adapters.outbound.outage import OutageNotice
from adapters.outbound.telegram.errors import retry_after, retry_after_seconds
from core.ports.alerts import Alert, AlertSink, Severity
from core.ports.errors import Unavailable

__all__ = [
    "ADMIN_ENDPOINTS",
    "ALERT_KEY",
    "BACK_ALERT_KEY",
    "MESSAGE_ENDPOINTS",
    "PacedRateLimiter",
    "PacingLimits",
    "PacingStats",
    "Rate",
    "SharedBucket",
    "SharedPacing",
    "Turn",
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
    processes: int = attrs.field(default=1, validator=attrs.validators.ge(1))
    """How many processes talk to Telegram for this bot. Used only with shared pacing,
    while it is unavailable: each process then keeps to ``1 / processes`` of every
    limit, so that together they still keep to it."""


@attrs.define
class PacingStats:
    """What the limiter saw, for logs, metrics and the benchmark."""

    calls: int = 0
    retry_afters: int = 0
    retries: int = 0
    surfaced: int = 0
    rebooked: int = 0
    """Slots booked ahead in the shared buckets and given up because the caller woke
    too late for them (see ``PacedRateLimiter._wait_for``)."""


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

    __slots__ = (
        "gate",
        "interval",
        "lock",
        "next_at",
        "paused_until",
        "shared",
        "slack",
        "users",
    )

    def __init__(
        self, interval: float, slack: float = 0.0, shared: SharedBucket | None = None
    ) -> None:
        self.interval = interval
        self.slack = slack
        self.shared = shared
        """The bucket every process books in; None when this process paces alone."""
        self.gate = (
            asyncio.Semaphore(_BOOKED_AHEAD) if shared is not None and shared.queue else None
        )
        """Bounds this process's callers waiting for slots booked ahead here."""
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


@attrs.frozen
class SharedBucket:
    """One bucket as every process of the bot books it."""

    key: str
    interval: float
    """Seconds between two slots (0: only a 429's pause holds calls back)."""
    slack: float
    """How late a call may start on its slot before the grid restarts from it."""
    queue: bool
    """True: the next slot may be booked ahead and the caller waits for it (the
    overall message budget, the admin budget: in each process at most
    ``_BOOKED_AHEAD`` callers at a time wait for one). False: the bucket must be free
    now, else nothing is booked and the answer is how long until it is (a chat, whose
    wait must not hold the overall budget)."""
    late: float = 0.0
    """How late a call may still go out on a slot booked ahead: a quarter of the
    headroom of one window, as for late starts here."""


@attrs.frozen
class Turn:
    """The answer to a booking."""

    booked: bool
    wait: float
    """Booked: seconds until the slot. Not booked: seconds until asking again."""
    paused: bool = False
    """The call's own bucket is paused for longer than the caller would wait
    (``wait`` says how long); nothing was booked."""


class SharedPacing(Protocol):
    """Buckets every process of the bot books its calls in. Raises
    :class:`~core.ports.errors.Unavailable` when they cannot be reached."""

    async def book(self, own: SharedBucket, lane: SharedBucket | None, max_pause: float) -> Turn:
        """Book one call: a slot in ``own`` and in ``lane`` (if any), at the same time."""
        ...

    async def pause(self, key: str, seconds: float) -> None:
        """Telegram asked the bucket ``key`` to wait ``seconds`` (a 429)."""
        ...


ALERT_KEY = "telegram:pacing-alone"
BACK_ALERT_KEY = "telegram:pacing-shared"
"""The "shared again" alert's own key: the repeat window never folds it into "alone"."""

_BOOKED_AHEAD = 2
"""Callers of one process waiting at once for slots booked ahead in one bucket: the
next books while the one before waits, so this process's turn-around between two
calls never costs a slot, and a call arriving later finds few bookings ahead of it."""

_SWEEP_EVERY = 1024


@contextlib.asynccontextmanager
async def _no_lock() -> AsyncIterator[None]:
    yield


Callback = Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]]


class PacedRateLimiter(BaseRateLimiter[None]):
    """A ``telegram.ext.BaseRateLimiter`` for ``ExtBot(rate_limiter=...)``.

    ``shared``: buckets every process books in (None: this process paces alone, at
    the full limits). ``alerts`` hears when the shared buckets cannot be reached (see
    :meth:`report_outages_to`). ``clock`` and ``sleep`` are injectable so tests run
    on virtual time."""

    def __init__(
        self,
        limits: PacingLimits | None = None,
        *,
        shared: SharedPacing | None = None,
        alerts: AlertSink | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._limits = limits or PacingLimits()
        self._shared = shared
        self._alone = OutageNotice("shared-pacing", alerts)
        """Shared pacing is configured but did not answer: pacing alone meanwhile."""
        self._clock = clock
        self._sleep = sleep
        stretch = 1.0 + self._limits.headroom
        self._stretch = stretch
        self._messages = self._paced(self._limits.overall, "overall", queue=True)
        admin = self._limits.admin
        self._admin = None if admin is None else self._paced(admin, "admin", queue=True)
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
        """Nothing to close; calls still waiting finish or are cancelled by their owners.
        An outage alert still on its way is given up."""
        await self._alone.close()

    @property
    def pacing_alone(self) -> bool:
        """Shared pacing is configured and unavailable: this process paces alone."""
        return self._alone.down

    def report_outages_to(self, alerts: AlertSink) -> None:
        """Where the "shared pacing unavailable" alert goes. Set after construction
        where the alert channel itself sends through this limiter (the admin chat);
        an outage noticed before (at start-up) is reported now, if it lasts."""
        self._alone.attach(alerts)

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
                    async with self._slot(lane, own, seq, endpoint, key, own_held=ordered):
                        self.stats.calls += 1
                        try:
                            return await callback(*args, **kwargs)
                        except RetryAfter as exc:
                            wait = retry_after_seconds(exc)
                            await self._pause(own, wait)
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
            self._refuse(remaining, endpoint, key)

    def _refuse(self, remaining: float, endpoint: str, key: tuple[str, int | str]) -> None:
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
            name = f"{key[0]}:{key[1]}"
            if rate is None:
                shared = None if self._shared is None else SharedBucket(name, 0.0, 0.0, False)
                bucket = _Bucket(0.0, shared=shared)
            else:
                bucket = self._paced(rate, name, queue=False)
            self._chats[key] = bucket
        return bucket

    def _paced(self, rate: Rate, name: str, *, queue: bool) -> _Bucket:
        """A paced bucket: at ``rate`` in the shared buckets, if any, and at
        ``1 / processes`` of it locally, for when they cannot be reached."""
        if self._shared is None:
            return _Bucket(*self._spacing(rate))
        alone = Rate(rate.count, rate.per * self._limits.processes)
        late = rate.per * self._limits.headroom / 4
        shared = SharedBucket(name, *self._spacing(rate), queue, late)
        return _Bucket(*self._spacing(alone), shared)

    def _spacing(self, rate: Rate) -> tuple[float, float]:
        """Interval and slack of a bucket pacing ``rate``.

        A window of ``rate.per`` holds ``count`` slots spread over per * (1 + headroom).
        Up to a quarter of that headroom absorbs late starts (half an interval is
        plenty for a timer's lateness); the rest is for the way to Telegram, where
        one call held up (a GC pause, a slow connection) lets those behind it close in."""
        slack = min(rate.interval * self._stretch / 2, rate.per * self._limits.headroom / 4)
        return rate.interval * self._stretch, slack

    async def _pause(self, bucket: _Bucket, seconds: float) -> None:
        bucket.paused_until = max(bucket.paused_until, self._clock() + seconds)
        if self._shared is None or bucket.shared is None:
            return
        try:
            await self._shared.pause(bucket.shared.key, seconds)
        except Unavailable as exc:
            self._note_unavailable(exc)

    @contextlib.asynccontextmanager
    async def _slot(
        self,
        lane: _Bucket | None,
        own: _Bucket,
        seq: int,
        endpoint: str,
        key: tuple[str, int | str],
        *,
        own_held: bool = False,
    ) -> AsyncIterator[None]:
        """Wait until both buckets allow a call and a connection is free, take the
        slot in both, and hold the connection while the caller's block runs.

        One caller per own bucket at a time (its lock, taken here unless the caller
        ``own_held`` it already), so a chat's calls go in order and a chat waiting for
        its next slot never holds up other chats in the lane."""
        booked: Turn | None = None
        async with _no_lock() if own_held else own.lock.holding(seq):
            while True:
                await self._wait_ready(own)
                async with lane.lock.holding(seq) if lane is not None else _no_lock():
                    if lane is not None:
                        await self._wait_ready(lane)
                    await self._semaphore.acquire()
                    try:
                        taken = await self._take(lane, own, endpoint, key)
                    except BaseException:
                        self._semaphore.release()
                        raise
                    if taken is None or isinstance(taken, Turn):
                        booked = taken
                        break
                    self._semaphore.release()
                # Outside the lane: a chat waiting for its turn holds up no other chat.
                if taken > 0:
                    await self._sleep(taken)
        if booked is not None:
            # Outside the locks too: the next caller books the slot after this one.
            try:
                await self._wait_for(booked, lane if lane is not None else own)
            except BaseException:
                self._semaphore.release()
                raise
        try:
            yield
        finally:
            self._semaphore.release()
            self._acquired += 1
            if self._acquired % _SWEEP_EVERY == 0:
                self._sweep()

    async def _take(
        self, lane: _Bucket | None, own: _Bucket, endpoint: str, key: tuple[str, int | str]
    ) -> float | Turn | None:
        """Take the call's slot in ``own`` and ``lane``: None once taken, a Turn booked
        ahead (to wait for with ``_wait_for``, which gives the gate back), else seconds
        to wait before trying again."""
        gate = (lane if lane is not None else own).gate
        if gate is not None:
            await gate.acquire()
        try:
            taken = await self._take_now(lane, own, endpoint, key)
        except BaseException:
            if gate is not None:
                gate.release()
            raise
        if gate is not None and not isinstance(taken, Turn):
            gate.release()
        return taken

    async def _take_now(
        self, lane: _Bucket | None, own: _Bucket, endpoint: str, key: tuple[str, int | str]
    ) -> float | Turn | None:
        now = self._clock()
        # A 429 of an earlier call may have paused a bucket meanwhile.
        if own.ready_at() > now or (lane is not None and lane.ready_at() > now):
            return 0.0
        turn = await self._shared_turn(lane, own)
        if turn is None:
            own.take(now)
            if lane is not None:
                lane.take(now)
            return None
        if turn.paused:
            self._refuse(turn.wait, endpoint, key)
        if not turn.booked:
            return turn.wait
        return turn if turn.wait > 0 else None

    async def _wait_for(self, turn: Turn, ahead: _Bucket) -> None:
        """Wait for the slot booked in ``ahead`` (the bucket booked ahead: the lane, or
        the admin budget). A caller waking more than ``SharedBucket.late`` after its
        slot gives it up and books the next one: going out late would crowd the calls
        booked after it (by any process) into one of Telegram's windows, which only the
        late call can avoid (the local pacer restarts its grid at a late call for the
        same reason). Gives the bucket's gate back."""
        shared = ahead.shared
        assert shared is not None
        try:
            while turn.wait > 0:
                slot = self._clock() + turn.wait
                await self._sleep(turn.wait)
                if self._clock() - slot <= shared.late:
                    return
                again = await self._shared_turn(None, ahead)
                if again is None or not again.booked:
                    return  # pacing alone now, or paused meanwhile: late is then harmless
                self.stats.rebooked += 1
                turn = again
        finally:
            if ahead.gate is not None:
                ahead.gate.release()

    async def _shared_turn(self, lane: _Bucket | None, own: _Bucket) -> Turn | None:
        """The shared buckets' answer; None when this process paces alone."""
        if self._shared is None or own.shared is None:
            return None
        shared_lane = None if lane is None else lane.shared
        try:
            turn = await self._shared.book(own.shared, shared_lane, self._limits.max_retry_wait)
        except Unavailable as exc:
            self._note_unavailable(exc)
            return None
        if self._alone.down:
            self._note_back()
        return turn

    def _note_back(self) -> None:
        """Once per outage: log, and alert, that the shared buckets answer again."""
        logger.warning("telegram pacing: the shared buckets answer again; pacing with them")
        self._alone.back(
            Alert(
                severity=Severity.WARNING,
                title="Telegram pacing is shared again: every process books in the same buckets",
                key=BACK_ALERT_KEY,
            )
        )

    def _note_unavailable(self, error: Unavailable) -> None:
        """Once per outage: log, and alert, that this process paces alone."""
        if self._alone.down:
            return
        processes = self._limits.processes
        logger.error(
            "telegram pacing: shared buckets unavailable (%s); pacing alone at 1/%d of "
            "every limit until they answer",
            error,
            processes,
        )
        self._alone.lost(
            Alert(
                severity=Severity.CRITICAL,
                title=(
                    "Telegram pacing unavailable: each process paces alone at a share of the limits"
                ),
                key=ALERT_KEY,
                details={"processes": str(processes), "error": str(error)[:200]},
            )
        )

    async def _wait_ready(self, bucket: _Bucket) -> None:
        while (wait := bucket.ready_at() - self._clock()) > 0:
            await self._sleep(wait)

    def _sweep(self) -> None:
        """Forget buckets nobody waits on that no longer hold anything back."""
        now = self._clock()
        idle = [k for k, b in self._chats.items() if b.users == 0 and b.ready_at() <= now]
        for key in idle:
            del self._chats[key]
