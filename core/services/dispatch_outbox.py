"""Dispatch the outbox: perform queued side effects, at least once, safely.

A batch is claimed under a lease (hidden from other dispatchers until it ends, so a
crashed dispatcher's claims come back by themselves), each effect is performed
through the ports, and its outcome stored. Effects are idempotent by design
(approving twice, removing twice, sending the same invite twice do no harm), which
is what makes at-least-once delivery safe.

- ``Unavailable`` (network, 5xx, Telegram's 429): retried after the wait Telegram
  asked for, or an exponential backoff, whichever is longer.
- ``RecipientUnreachable`` (the user blocked the bot): retrying cannot help; the
  message is settled and the fact recorded.
- Anything else (rights missing, chat gone, a bug): retried with backoff, then
  dead-lettered with an alert after ``max_attempts``.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import attrs

from core.domain.audit import AuditRecord
from core.domain.outbox import (
    ApproveJoin,
    DeclineJoin,
    Effect,
    IssueInvite,
    OutboxMessage,
    OutboxStatus,
    RemoveMember,
    SendMessage,
)
from core.ports.alerts import Alert, AlertSink, Severity
from core.ports.clock import Clock
from core.ports.errors import Unavailable
from core.ports.repositories import UnitOfWorkFactory
from core.ports.telegram import ChatAccess, Messenger, RecipientUnreachable
from core.services.grant_access import GrantAccess


@attrs.frozen
class DispatchSettings:
    batch_size: int = 50
    concurrency: int = 8
    lease: timedelta = timedelta(minutes=2)
    max_attempts: int = 8
    base_backoff: timedelta = timedelta(seconds=5)
    max_backoff: timedelta = timedelta(hours=1)


@attrs.frozen
class DispatchReport:
    claimed: int = 0
    done: int = 0
    retried: int = 0
    dead: int = 0


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

    async def run_once(self) -> DispatchReport:
        """Claim one batch and settle every message of it."""
        now = self._clock.now()
        async with self._uow() as tx:
            batch = list(
                await tx.outbox.claim(now, self._settings.batch_size, now + self._settings.lease)
            )
            await tx.commit()
        gate = asyncio.Semaphore(self._settings.concurrency)

        async def settle(message: OutboxMessage) -> OutboxStatus | None:
            async with gate:
                return await self._settle(message)

        outcomes = await asyncio.gather(*(settle(m) for m in batch))
        return DispatchReport(
            claimed=len(batch),
            done=outcomes.count(OutboxStatus.DONE),
            retried=outcomes.count(OutboxStatus.PENDING),
            dead=outcomes.count(OutboxStatus.DEAD),
        )

    async def _settle(self, message: OutboxMessage) -> OutboxStatus | None:
        note: str | None = None
        try:
            await self._perform(message.effect)
            message.mark_done()
        except RecipientUnreachable as exc:
            note = f"recipient unreachable: {exc}"
            message.mark_done()
        except Unavailable as exc:
            message.mark_failed(_describe(exc), self._retry_at(message, exc.retry_after))
        except Exception as exc:  # any other failure: retried, then dead-lettered
            message.mark_failed(_describe(exc), self._retry_at(message, None))
        try:
            async with self._uow() as tx:
                await tx.outbox.save(message)
                if note is not None or message.status is OutboxStatus.DEAD:
                    await tx.audit.append(
                        AuditRecord(
                            "system",
                            "outbox.dead"
                            if message.status is OutboxStatus.DEAD
                            else "outbox.unreachable",
                            f"outbox:{message.key}",
                            {"error": (note or message.last_error or "")[:200]},
                        ),
                        self._clock.now(),
                    )
                await tx.commit()
        except Unavailable:
            # The outcome could not be stored: the lease runs out and the message is
            # tried again, which idempotent effects make harmless.
            return None
        if message.status is OutboxStatus.DEAD:
            await self._alerts.send(
                Alert(
                    Severity.CRITICAL,
                    f"Gave up on a queued {message.effect.kind} after {message.attempts} tries",
                    key=f"outbox-dead:{message.key}",
                    details={"key": message.key, "error": message.last_error or ""},
                )
            )
        return message.status

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
            case ApproveJoin(chat_id=chat, user_id=user):
                await self._chat.approve_join_request(chat, user)
            case DeclineJoin(chat_id=chat, user_id=user):
                await self._chat.decline_join_request(chat, user)
            case RemoveMember(chat_id=chat, user_id=user):
                await self._chat.remove_member(chat, user)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
