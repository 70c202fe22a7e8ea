"""Plan broadcasts: which chats need a fresh offer (open channel) or Donate message
(closed channel), and record what was posted.

An offer is stale when none was posted, when the tiers changed since it was posted,
or when it is older than the refresh interval (re-posting keeps it near the top of
the channel). The worker posts the planned messages, paced to Telegram's limits,
and reports each new message id back through :class:`RecordPost`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

import attrs

from core.domain.audit import AuditRecord
from core.domain.channel import Channel, OfferPost
from core.domain.ids import ChannelId, ChatId, MessageId
from core.domain.messages import OutgoingMessage
from core.domain.signing import MacKeyring
from core.ports.clock import Clock
from core.ports.repositories import UnitOfWorkFactory
from core.services import notices


class PostKind(StrEnum):
    OFFER = "offer"
    DONATE = "donate"


class StaleReason(StrEnum):
    NEVER_POSTED = "never_posted"
    TIERS_CHANGED = "tiers_changed"
    DUE_REFRESH = "due_refresh"
    REQUESTED = "requested"


@attrs.frozen
class BroadcastSettings:
    bot_username: str
    refresh_every: timedelta = timedelta(hours=24)


@attrs.frozen
class PlannedPost:
    channel_id: ChannelId
    kind: PostKind
    chat_id: ChatId
    reason: StaleReason
    message: OutgoingMessage
    replaces: MessageId | None
    """The previous message, to delete once the new one is up."""
    tiers_version: int
    """The tiers the message shows (an offer of older tiers is stale)."""


class PlanBroadcasts:
    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, keyring: MacKeyring, settings: BroadcastSettings
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._keyring = keyring
        self._settings = settings

    async def execute(
        self, force: frozenset[ChannelId] | set[ChannelId] = frozenset()
    ) -> list[PlannedPost]:
        """``force`` names channels whose offer is re-posted even if it is fresh."""
        async with self._uow() as tx:
            channels = await tx.channels.all()
        now = self._clock.now()
        plan: list[PlannedPost] = []
        for channel in channels:
            if channel.sales_paused:
                continue
            if channel.tiers:
                reason = self._stale(channel, channel.offer_post, now)
                if reason is None and channel.id in force:
                    reason = StaleReason.REQUESTED
                if reason is not None:
                    plan.append(
                        PlannedPost(
                            channel.id,
                            PostKind.OFFER,
                            channel.open_chat_id,
                            reason,
                            notices.offer_message(
                                channel, self._settings.bot_username, self._keyring
                            ),
                            channel.offer_post.message_id if channel.offer_post else None,
                            channel.tiers_version,
                        )
                    )
            if channel.donation_bounds is not None and channel.donate_post is None:
                plan.append(
                    PlannedPost(
                        channel.id,
                        PostKind.DONATE,
                        channel.closed_chat_id,
                        StaleReason.NEVER_POSTED,
                        notices.donate_message(channel, self._settings.bot_username, self._keyring),
                        None,
                        channel.tiers_version,
                    )
                )
        return plan

    def _stale(self, channel: Channel, post: OfferPost | None, now: datetime) -> StaleReason | None:
        if post is None:
            return StaleReason.NEVER_POSTED
        if post.tiers_version != channel.tiers_version:
            return StaleReason.TIERS_CHANGED
        if now - post.posted_at >= self._settings.refresh_every:
            return StaleReason.DUE_REFRESH
        return None


class RecordPost:
    """Remember the message now standing in a chat, in place of the one it replaces.

    Several workers may publish the same stale post at once (each plans from the same
    state). Only the first to record wins; the others learn that they lost and take
    their message down again, so a chat keeps one offer."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(
        self,
        channel_id: ChannelId,
        kind: PostKind,
        message_id: MessageId,
        replaces: MessageId | None,
        tiers_version: int,
    ) -> bool:
        """False when another publisher recorded a post first (nothing written)."""
        async with self._uow() as tx:
            now = self._clock.now()
            post = OfferPost(message_id, now, tiers_version)
            if not await tx.channels.record_post(
                channel_id, kind is PostKind.DONATE, post, replaces
            ):
                return False
            await tx.audit.append(
                AuditRecord(
                    "system",
                    f"{kind}.posted",
                    f"channel:{channel_id}",
                    {"message_id": str(message_id)},
                ),
                now,
            )
            await tx.commit()
            return True
