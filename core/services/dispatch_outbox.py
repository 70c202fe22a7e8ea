"""Dispatch the outbox: perform queued side effects, at least once, safely.

Messages are claimed under a lease (hidden from other dispatchers until it ends, so
a crashed dispatcher's claims come back by themselves), each effect is performed
through the ports, and its outcome stored. Effects are idempotent by design
(approving twice, removing twice, sending the same invite twice do no harm), which
is what makes at-least-once delivery safe.

- ``Unavailable`` (network, 5xx, Telegram's 429): retried after the wait Telegram
  asked for, or an exponential backoff, whichever is longer.
- ``RecipientUnreachable`` (the user blocked the bot): retrying cannot help; the
  message is settled and the fact recorded.
- Anything else (rights missing, chat gone, a bug): retried with backoff, then
  dead-lettered with an alert after ``max_attempts``.

An effect may run long after it was queued, so what it assumes is judged again just
before it is performed (:mod:`core.services.effect_standing`): a removal of someone
who paid again, a reminder of an end that moved, a goodbye to a subscriber who came
back, are dropped (settled and audited as ``outbox.dropped``); a join request is
answered by the subscription as it stands then.

The worker serves :meth:`DispatchOutbox.run`, which keeps going rather than working
in rounds, woken when work is committed; how it keeps the work moving (claims,
slots, turns per chat, outcomes stored in batches) is :mod:`core.services.dispatch_run`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

from core.domain.audit import AuditRecord
from core.domain.outbox import (
    ApproveJoin,
    DeclineJoin,
    Effect,
    IssueInvite,
    OutboxMessage,
    OutboxStatus,
    RefreshInvite,
    RemoveMember,
    SendMessage,
)
from core.ports.alerts import Alert, AlertSink, Severity
from core.ports.clock import Clock
from core.ports.errors import NotFound, Unavailable
from core.ports.outbox_wakeup import OutboxWakeup
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from core.ports.telegram import ChatAccess, Messenger, RecipientUnreachable
from core.services.dispatch_lanes import ChatLanes
from core.services.dispatch_run import DispatchReport, DispatchRun, DispatchSettings, Outcome
from core.services.effect_standing import Dropped, judge_effect
from core.services.grant_access import GrantAccess

__all__ = ["DispatchOutbox", "DispatchReport", "DispatchSettings"]


class DispatchOutbox:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        messenger: Messenger,
        chat_access: ChatAccess,
        grant_access: GrantAccess,
        alerts: AlertSink,
        settings: DispatchSettings | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._messenger = messenger
        self._chat = chat_access
        self._grant = grant_access
        self._alerts = alerts
        self._settings = settings or DispatchSettings()
        self._lanes = self._settings.lanes()
        """Turns per chat, kept across the runs this dispatcher serves."""

    async def run_once(self) -> DispatchReport:
        """Claim one batch and settle every message of it, one message per chat: the
        others to a chat already written to are put back, due at their turns.

        A run of its own (an external trigger, a test): its turns are counted afresh,
        and the Telegram client's pacing keeps the limit between runs. Raises
        Unavailable when the claim cannot be made."""
        return await self._run(self._settings.lanes(), hold=False).once()

    async def run(
        self, wakeup: OutboxWakeup, stopping: asyncio.Event, poll_every: timedelta
    ) -> DispatchReport:
        """Dispatch until ``stopping`` is set, woken by ``wakeup`` when work is
        committed and polling every ``poll_every``; then finish what is in flight,
        put back what waits for its turn, store every outcome and return."""
        return await self._run(self._lanes, hold=True).serve(wakeup, stopping, poll_every)

    def _run(self, lanes: ChatLanes, hold: bool) -> DispatchRun:
        return DispatchRun(
            self._uow,
            self._clock,
            self._settings,
            lanes,
            hold=hold,
            settle=self._settle,
            record=self._record,
            recorded=self._alert_dead,
        )

    # ------------------------------------------------------------- one effect
    async def _settle(self, message: OutboxMessage, instead: Effect | None = None) -> Outcome:
        """Perform the message's effect, or ``instead`` (a digest of it and others)."""
        try:
            effect = await judge_effect(self._uow, self._clock, instead or message.effect)
            if isinstance(effect, Dropped):
                message.mark_done()
                return Outcome(message, effect.why, dropped=True)
            await self._perform(effect)
            message.mark_done()
        except RecipientUnreachable as exc:
            message.mark_done()
            return Outcome(message, f"recipient unreachable: {exc}")
        except Unavailable as exc:
            message.mark_failed(_describe(exc), self._retry_at(message, exc.retry_after))
        except Exception as exc:  # any other failure: retried, then dead-lettered
            message.mark_failed(_describe(exc), self._retry_at(message, None))
        return Outcome(message)

    def _retry_at(self, message: OutboxMessage, retry_after: float | None) -> datetime | None:
        if message.attempts + 1 >= self._settings.max_attempts:
            return None
        backoff = min(
            self._settings.base_backoff * (1 << min(message.attempts, 20)),
            self._settings.max_backoff,
        )
        if retry_after is not None:
            backoff = max(backoff, timedelta(seconds=retry_after))
        return self._clock.now() + backoff

    async def _perform(self, effect: Effect) -> None:
        match effect:
            case SendMessage(chat_id=chat, message=message):
                await self._messenger.send(chat, message)
            case IssueInvite(grant_id=grant):
                await self._grant.execute(grant)
            case RefreshInvite(subscription_id=subscription, send_key=send_key):
                await self._grant.refresh(subscription, send_key)
            case ApproveJoin(chat_id=chat, user_id=user):
                await self._chat.approve_join_request(chat, user)
            case DeclineJoin(chat_id=chat, user_id=user):
                await self._chat.decline_join_request(chat, user)
            case RemoveMember(chat_id=chat, user_id=user):
                await self._chat.remove_member(chat, user)

    # ------------------------------------------------------------- outcomes
    async def _record(self, tx: UnitOfWork, outcomes: Sequence[Outcome]) -> None:
        for outcome in outcomes:
            message = outcome.message
            try:
                await tx.outbox.save(message)
            except NotFound:
                continue  # the row is gone: nothing is left to settle
            if outcome.note is None and message.status is not OutboxStatus.DEAD:
                continue
            dead = message.status is OutboxStatus.DEAD
            action = "dead" if dead else "dropped" if outcome.dropped else "unreachable"
            await tx.audit.append(
                AuditRecord(
                    "system",
                    f"outbox.{action}",
                    f"outbox:{message.key}",
                    {"error": (outcome.note or message.last_error or "")[:200]},
                ),
                self._clock.now(),
            )

    async def _alert_dead(self, outcomes: Sequence[Outcome]) -> None:
        for outcome in outcomes:
            message = outcome.message
            if message.status is OutboxStatus.DEAD:
                await self._alerts.send(
                    Alert(
                        Severity.CRITICAL,
                        f"Gave up on a queued {message.effect.kind} after {message.attempts} tries",
                        key=f"outbox-dead:{message.key}",
                        details={"key": message.key, "error": message.last_error or ""},
                    )
                )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
