"""Join requests to a closed channel: approved if and only if the requester holds an
active subscription to that channel, or to a channel whose bundle holds it. A
forwarded personal link is useless to anyone else: their request is declined and
they are told how to subscribe."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

import attrs

from core.domain.audit import AuditRecord
from core.domain.ids import ChatId, UserId
from core.domain.outbox import ApproveJoin, DeclineJoin, SendMessage
from core.ports.clock import Clock
from core.ports.repositories import UnitOfWorkFactory
from core.services import notices
from core.services.bundle_access import opening_subscription

DECLINE_AFTER = timedelta(seconds=10)


class JoinDecision(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"
    IGNORED = "ignored"
    """Not a closed channel of ours: nothing to decide."""


@attrs.define(eq=False)
class HandleJoinRequest:
    _uow: UnitOfWorkFactory
    _clock: Clock

    async def execute(
        self, chat_id: ChatId, user_id: UserId, requested_at: datetime
    ) -> JoinDecision:
        async with self._uow() as tx:
            now = self._clock.now()
            channel = await tx.channels.by_chat(chat_id)
            if channel is None or channel.closed_chat_id != chat_id:
                return JoinDecision.IGNORED
            subscription = await opening_subscription(tx, channel, user_id, now)
            approved = subscription is not None and subscription.is_active_at(now)
            # Telegram resends an update it thinks was lost; the key makes it one effect.
            key = f"join:{chat_id}:{user_id}:{int(requested_at.timestamp())}"
            if approved:
                await tx.outbox.enqueue(key, ApproveJoin(chat_id, user_id), now)
            else:
                # Telegram lets the bot write to a requester who never started it only
                # while the request is pending, so the notice goes first and the decline
                # follows a little later.
                await tx.outbox.enqueue(
                    f"{key}:told",
                    SendMessage(ChatId(user_id), notices.join_declined_message(channel.title)),
                    now,
                )
                await tx.outbox.enqueue(key, DeclineJoin(chat_id, user_id), now + DECLINE_AFTER)
            decision = JoinDecision.APPROVED if approved else JoinDecision.DECLINED
            await tx.audit.append(
                AuditRecord(f"user:{user_id}", f"join.{decision}", f"channel:{channel.id}"), now
            )
            await tx.commit()
            return decision
