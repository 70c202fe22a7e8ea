"""Settle the outbox: perform a queued side effect, at least once, safely.

This is the rule for one effect: what it does, when it is tried again, when it is
given up. When and how many are tried at once (claims, leases, turns per chat,
wake-ups) is the worker's business (:mod:`adapters.inbound.worker.outbox_dispatcher`).

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
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import attrs

from core.domain.audit import AuditRecord
from core.domain.outbox import (
    ApproveJoin,
    DeclineJoin,
    Effect,
    IssueBundleInvite,
    IssueInvite,
    LeaveBundle,
    OutboxMessage,
    OutboxStatus,
    RefreshInvite,
    RemoveMember,
    SendMessage,
)
from core.ports.alerts import Alert, AlertSink, Severity
from core.ports.clock import Clock
from core.ports.errors import NotFound, Unavailable
from core.ports.repositories import UnitOfWork, UnitOfWorkFactory
from core.ports.telegram import ChatAccess, Messenger, RecipientUnreachable
from core.services.bundle_access import BundleAccess
from core.services.effect_standing import Dropped, judge_effect
from core.services.grant_access import GrantAccess
from core.services.refresh_link import RefreshLink

__all__ = ["Outcome", "RetryPolicy", "SettleOutbox", "shared"]


@attrs.frozen
class RetryPolicy:
    max_attempts: int = 8
    base_backoff: timedelta = timedelta(seconds=5)
    max_backoff: timedelta = timedelta(hours=1)

    def retry_at(
        self, message: OutboxMessage, retry_after: float | None, now: datetime
    ) -> datetime | None:
        """When a message that failed is due again; None: it is dead."""
        if message.attempts + 1 >= self.max_attempts:
            return None
        backoff = min(self.base_backoff * (1 << min(message.attempts, 20)), self.max_backoff)
        if retry_after is not None:
            backoff = max(backoff, timedelta(seconds=retry_after))
        return now + backoff


def retry_policy(given: RetryPolicy | None) -> RetryPolicy:
    """None (a setting a container leaves unset) means the defaults."""
    return given or RetryPolicy()


@attrs.define
class Outcome:
    """A message after its try (or put back untried), to be stored."""

    message: OutboxMessage
    note: str | None = None
    """Why a message settled without its effect (the recipient is unreachable, or it
    no longer applied)."""
    dropped: bool = False
    """Settled without its effect because what it assumed no longer holds."""


def shared(rider: OutboxMessage, carrier: Outcome) -> Outcome:
    """The outcome of a message that went out folded into another's (a digest): the
    carrier's, sent, due again with it, or dead."""
    settled = carrier.message
    if settled.status is OutboxStatus.DONE:
        rider.mark_done()
    elif settled.status is OutboxStatus.DEAD:
        rider.mark_failed(settled.last_error or "", None)
    else:
        rider.mark_failed(settled.last_error or "", settled.available_at)
    return Outcome(rider, carrier.note, carrier.dropped)


@attrs.define(eq=False)
class SettleOutbox:
    _uow: UnitOfWorkFactory
    _clock: Clock
    _messenger: Messenger
    _chat: ChatAccess = attrs.field(alias="chat_access")
    _grant: GrantAccess = attrs.field(alias="grant_access")
    _refresh: RefreshLink = attrs.field(alias="refresh_link")
    _alerts: AlertSink
    _retry: RetryPolicy = attrs.field(default=None, converter=retry_policy)
    _bundles: BundleAccess = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._bundles = BundleAccess(self._uow, self._clock, chat_access=self._chat)

    async def settle(self, message: OutboxMessage, instead: Effect | None = None) -> Outcome:
        """Perform the message's effect, or ``instead`` (a digest of it and others).
        Never raises: a failure is an outcome (due again, or dead)."""
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
            retry_at = self._retry.retry_at(message, exc.retry_after, self._clock.now())
            message.mark_failed(_describe(exc), retry_at)
        except Exception as exc:  # any other failure: retried, then dead-lettered
            message.mark_failed(
                _describe(exc), self._retry.retry_at(message, None, self._clock.now())
            )
        return Outcome(message)

    async def store_and_claim(
        self, outcomes: Sequence[Outcome], claim: int, lease: timedelta
    ) -> list[OutboxMessage]:
        """One transaction: store ``outcomes`` (auditing what needs it) and claim up to
        ``claim`` messages due now, hidden from other dispatchers for ``lease``. Once
        committed, an alert for each message given up. Raises Unavailable, having
        stored nothing (until a retry, the leases keep the messages from being tried
        twice)."""
        now = self._clock.now()
        async with self._uow() as tx:
            await self._record(tx, outcomes)
            batch = await tx.outbox.claim(now, claim, now + lease) if claim else []
            await tx.commit()
        await self._alert_dead(outcomes)
        return list(batch)

    async def _perform(self, effect: Effect) -> None:
        match effect:
            case SendMessage(chat_id=chat, message=message):
                await self._messenger.send(chat, message)
            case IssueInvite(grant_id=grant):
                await self._grant.execute(grant)
            case RefreshInvite(subscription_id=subscription, send_key=send_key):
                await self._refresh.execute(subscription, send_key)
            case ApproveJoin(chat_id=chat, user_id=user):
                await self._chat.approve_join_request(chat, user)
            case DeclineJoin(chat_id=chat, user_id=user):
                await self._chat.decline_join_request(chat, user)
            case RemoveMember(chat_id=chat, user_id=user):
                await self._chat.remove_member(chat, user)
            case IssueBundleInvite():
                await self._bundles.grant(effect)
            case LeaveBundle():
                await self._bundles.leave(effect)

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
