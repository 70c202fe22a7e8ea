"""How the outbox dispatcher keeps its work moving: one run's claims, slots, turns and
stored outcomes (what happens to each message is :mod:`core.services.settle_outbox`).

A subscriber who just paid waits for the dispatcher, so a served run keeps going
rather than working in rounds: it claims as soon as a slot is free and work may be
due (woken when a use case commits some, polling as the safety net), and nothing in
flight holds up the rest. Messages take turns per chat
(:mod:`adapters.inbound.worker.chat_lanes`), so the owner's chat, told of every
payment, never delays the subscribers' links.

What an owner is told of each payment is folded into digests when many wait at once
(:mod:`adapters.inbound.worker.digest_folds`).

The database sees one transaction of the dispatcher's at a time, storing the
outcomes gathered so far and claiming new work in one go: under load, its
transactions grow instead of multiplying, and the webhooks that commit payments
keep the database's time (every commit is a disk flush).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Container
from datetime import datetime, timedelta

import attrs

from adapters.inbound.worker.chat_lanes import Admission, ChatLanes
from adapters.inbound.worker.digest_folds import Folds, fold_of
from adapters.inbound.worker.run_outcomes import DispatchReport, SettleObserver, Tally, Unstored
from core.domain.ids import ChatId
from core.domain.outbox import (
    Effect,
    IssueBundleInvite,
    IssueInvite,
    LeaveBundle,
    OutboxMessage,
    RefreshInvite,
    SendMessage,
)
from core.ports.clock import Clock
from core.ports.errors import Unavailable
from core.ports.outbox_wakeup import OutboxWakeup
from core.services.settle_outbox import Outcome, SettleOutbox, shared

__all__ = ["DispatchRun", "DispatchSettings"]


@attrs.frozen
class DispatchSettings:
    batch_size: int = attrs.field(default=50, validator=attrs.validators.ge(1))
    """Most messages one claim takes."""
    concurrency: int = attrs.field(default=32, validator=attrs.validators.ge(1))
    """Effects performed at once. The Telegram client paces the calls; this only has
    to keep it fed (calls in flight while others wait for their slot in its pace)."""
    lease: timedelta = timedelta(minutes=2)
    """How long a claimed message stays hidden from other dispatchers: if this one
    dies, the message comes back by itself when the lease ends."""
    chat_spacing: timedelta = timedelta(seconds=1)
    """Least time between starting two messages to one chat (Telegram: about one a
    second to a private chat)."""
    chat_queue: int = attrs.field(default=2, validator=attrs.validators.ge(0))
    """Messages per chat held here waiting for their turn; any more go back to the
    outbox, due at their turn."""
    store_within: timedelta = timedelta(milliseconds=100)
    """Outcomes are stored with the next claim, or at the latest this long after the
    first of them was known (:mod:`adapters.inbound.worker.run_outcomes`)."""

    def lanes(self) -> ChatLanes:
        return ChatLanes(self.chat_spacing, self.chat_queue, self.batch_size)


class DispatchRun:
    def __init__(
        self,
        settle: SettleOutbox,
        clock: Clock,
        settings: DispatchSettings,
        lanes: ChatLanes,
        *,
        hold: bool,
        observe: SettleObserver | None = None,
    ) -> None:
        """``hold``: messages may wait here for their chat's turn (a served run);
        otherwise one whose turn is not now is put back at once. ``observe`` is told
        of every message tried (metrics)."""
        self._settle = settle
        self._clock = clock
        self._s = settings
        self._lanes = lanes
        self._hold = hold
        self._ready: deque[OutboxMessage] = deque()
        self._in_flight: dict[asyncio.Task[Outcome], OutboxMessage] = {}
        self._unstored = Unstored(clock, settings.store_within, settings.batch_size)
        self._folds = Folds()
        self._tally = Tally(observe=observe)

    # ------------------------------------------------------------- whole runs
    async def once(self) -> DispatchReport:
        """Claim one batch and settle every message of it. Raises Unavailable when the
        claim cannot be made."""
        await self._sync(claim=True)
        await self._finish(perform_ready=True)
        return self.report()

    async def serve(
        self, wakeup: OutboxWakeup, stopping: asyncio.Event, poll_every: timedelta
    ) -> DispatchReport:
        """Dispatch until ``stopping`` is set, then finish what is in flight, put back
        what waits for its turn, store every outcome and return.

        Claims whenever a slot is free and work may be due: after a wake-up, every
        ``poll_every`` (the safety net for a lost wake-up and for retries coming due),
        while claims come back full, and after an invite was issued (its message is
        queued then)."""
        stop = asyncio.create_task(stopping.wait())
        wake: asyncio.Task[bool] | None = None
        syncing: asyncio.Task[bool] | None = None
        more = True
        database_ok = True
        try:
            while not stopping.is_set():
                self._start_ready()
                claim = more and self._room() > 0
                if syncing is None and database_ok and (claim or self._unstored.due()):
                    syncing = asyncio.create_task(self._sync(claim))
                    more &= not claim  # set again if the claim comes back full
                if wake is None:
                    wake = asyncio.create_task(wakeup.wait(poll_every))
                waiting: set[asyncio.Task[bool] | asyncio.Task[Outcome]] = {stop, wake}
                waiting.update(self._in_flight)
                if syncing is not None:
                    waiting.add(syncing)
                # A sync in flight (or a database away) makes storing wait anyway: only
                # then is the deadline for storing worth waking up for.
                can_store = syncing is None and database_ok
                done, _ = await asyncio.wait(
                    waiting,
                    timeout=self._seconds_to_act(can_store),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if syncing in done:
                    synced, syncing = syncing, None
                    try:
                        more |= synced.result()
                    except Unavailable:
                        # The database is away: try again on the next wake-up or poll.
                        database_ok = False
                if wake in done:
                    wake.result()
                    wake = None
                    more = database_ok = True
                more |= self._collect(done)
        finally:
            for task in (stop, wake):
                if task is not None and not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            if syncing is not None:
                # Let it end: cut short, the outcomes it carries would be lost and
                # their effects performed again when the leases run out.
                with contextlib.suppress(Unavailable):
                    await syncing
            await self._finish(perform_ready=False)
        return self.report()

    def report(self) -> DispatchReport:
        return self._tally.report()

    # ------------------------------------------------------------- claims and outcomes
    def _room(self) -> int:
        return self._s.concurrency - len(self._in_flight) - len(self._ready)

    async def _sync(self, claim: bool) -> bool:
        """One transaction: store the outcomes gathered so far and, if ``claim``, claim
        as much due work as there is room for. True when the claim came back full
        (more may be due). Raises Unavailable, keeping the outcomes for the next try
        (until then their leases keep the messages from being tried twice)."""
        outcomes, since = self._unstored.take()
        limit = min(self._s.batch_size, self._room()) if claim else 0
        now = self._clock.now()
        try:
            batch = await self._settle.store_and_claim(outcomes, limit, self._s.lease)
        except Unavailable:
            self._unstored.restore(outcomes, since)
            raise
        self._tally.claimed += len(batch)
        self._lanes.forget_idle(now)
        self._folds.forget(now)
        for message in batch:
            self._admit(message, now)
        return claim and len(batch) == limit

    def _admit(self, message: OutboxMessage, now: datetime) -> None:
        chat = _chat_of(message.effect)
        fold = fold_of(message.effect)
        if fold is not None:
            if self._folds.ride(message, fold):
                return
            turn = self._folds.turn(fold, now)
            if turn is not None:
                message.defer(turn)  # with the others of its fold put back before
                self._tally.deferred += 1
                self._unstored.add(Outcome(message))
                return
        admission = (
            Admission.START if chat is None else self._lanes.admit(message, chat, now, self._hold)
        )
        if admission is Admission.START:
            self._ready.append(message)
        elif admission is Admission.DEFER:
            self._tally.deferred += 1
            self._unstored.add(Outcome(message))
        if fold is not None:
            if admission is Admission.DEFER:
                self._folds.put_back(message, fold)
            else:
                self._folds.carries(message, fold)

    # ------------------------------------------------------------- effects
    def _start_ready(self) -> None:
        now = self._clock.now()
        if self._hold:
            self._ready.extend(self._lanes.due(now))
        while self._ready and len(self._in_flight) < self._s.concurrency:
            message = self._ready.popleft()
            chat = _chat_of(message.effect)
            if chat is not None:
                self._lanes.started(chat, now)
            task = asyncio.create_task(self._settle.settle(message, self._folds.started(message)))
            self._in_flight[task] = message

    def _seconds_to_act(self, can_store: bool) -> float | None:
        """Until a waiting message's turn comes or (``can_store``) the outcomes must be
        stored."""
        moments = [self._lanes.next_turn() if self._hold else None]
        if can_store and self._unstored:
            moments.append(self._unstored.deadline())
        soonest = min((m for m in moments if m is not None), default=None)
        if soonest is None:
            return None
        return max(0.0, (soonest - self._clock.now()).total_seconds())

    def _collect(self, done: Container[object]) -> bool:
        """Take the outcomes of the effects that finished; True if an invite was
        issued or refreshed among them (which queues the message carrying it)."""
        follow_up = False
        for task in [t for t in self._in_flight if t in done]:
            message = self._in_flight.pop(task)
            chat = _chat_of(message.effect)
            if chat is not None:
                self._lanes.finished(chat)
            outcome = task.result()
            for folded in self._folds.with_riders(message):
                settled = outcome if folded is message else shared(folded, outcome)
                self._tally.settled(folded)
                self._unstored.add(settled)
            follow_up |= isinstance(
                message.effect, IssueInvite | RefreshInvite | IssueBundleInvite | LeaveBundle
            )
        return follow_up

    async def _finish(self, perform_ready: bool) -> None:
        """Settle what is in flight (and, if ``perform_ready``, what was claimed and
        waits for a slot); put the rest back; store every outcome."""
        while True:
            if perform_ready:
                self._start_ready()
            if not self._in_flight:
                break
            done, _ = await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
            self._collect(done)
        now = self._clock.now()
        for message in self._ready:
            # Claimed, never started: due again at once, for whoever runs next.
            for folded in self._folds.with_riders(message):
                folded.defer(now)
                self._unstored.add(Outcome(folded))
        self._ready.clear()
        for message in self._lanes.put_back(now):
            for folded in self._folds.with_riders(message):
                if folded is not message:
                    folded.defer(message.available_at)  # due together, to ride again
                self._tally.deferred += 1
                self._unstored.add(Outcome(folded))
        self._folds.close()
        if self._unstored:
            # If this fails, the leases run out and the messages are tried again,
            # which idempotent effects make harmless.
            with contextlib.suppress(Unavailable):
                await self._sync(claim=False)


def _chat_of(effect: Effect) -> ChatId | None:
    """The chat whose turn a message waits for; other effects are administration
    calls, paced by the Telegram client as a whole, not per chat."""
    return effect.chat_id if isinstance(effect, SendMessage) else None
