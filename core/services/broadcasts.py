"""Plan broadcasts: which chats need a fresh offer (open channel) or Donate message
(closed channel), which posts must come down, and record what was done.

The posts follow the channel's state. An offer stands while the channel sells (it has
tiers and sales are not paused); a Donate message while it takes donations (bounds
set, sales not paused). A post that should not stand is taken down.

An offer is stale when none was posted, when the tiers changed since it was posted,
or when it is older than the refresh interval (re-posting keeps it near the top of
the channel). A Donate message is refreshed in place instead, every check interval:
editing it carries over any change of its text and is how a message someone deleted
is found (Telegram tells the bot nothing), to be posted again. Members of the closed
channel are not notified over and over.

The worker carries the plan out, paced to Telegram's limits, and reports each new,
refreshed or removed message back through :class:`RecordPost`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

import attrs

from core.domain.audit import AuditRecord
from core.domain.channel import Channel, OfferPost
from core.domain.ids import ChannelId, ChatId, MessageId
from core.domain.messages import Notice
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
    DUE_CHECK = "due_check"
    """A standing Donate message is refreshed in place (re-posted only if gone)."""


class DownReason(StrEnum):
    NO_TIERS = "no_tiers"
    NO_DONATIONS = "no_donations"
    SALES_PAUSED = "sales_paused"


@attrs.frozen
class BroadcastSettings:
    bot_username: str
    refresh_every: timedelta = timedelta(hours=24)
    check_every: timedelta = timedelta(hours=1)
    """How often a standing Donate message is refreshed in place (one edit each)."""


@attrs.frozen
class PlannedPost:
    channel_id: ChannelId
    kind: PostKind
    chat_id: ChatId
    reason: StaleReason
    message: Notice
    replaces: MessageId | None
    """The previous message, to delete once the new one is up (or, refreshed in
    place, to edit)."""
    tiers_version: int
    """The tiers the message shows (an offer of older tiers is stale)."""

    @property
    def in_place(self) -> bool:
        """A standing Donate message is edited, not re-posted: a new post would notify
        every member of the closed channel."""
        return self.kind is PostKind.DONATE and self.replaces is not None


@attrs.frozen
class PlannedTakeDown:
    channel_id: ChannelId
    kind: PostKind
    chat_id: ChatId
    message_id: MessageId
    reason: DownReason


@attrs.frozen
class BroadcastPlan:
    posts: tuple[PlannedPost, ...] = ()
    take_downs: tuple[PlannedTakeDown, ...] = ()


def standing_post(channel: Channel, kind: PostKind) -> OfferPost | None:
    return channel.donate_post if kind is PostKind.DONATE else channel.offer_post


def why_down(channel: Channel, kind: PostKind, now: datetime | None = None) -> DownReason | None:
    """Why ``channel`` must show no post of ``kind`` now; None while it should. Given
    ``now``, an offer whose every tier is a season past its end is down too."""
    if channel.sales_paused:
        return DownReason.SALES_PAUSED
    if kind is PostKind.OFFER:
        on_sale = now is None or bool(channel.tiers_on_sale(now))
        return None if channel.is_selling and on_sale else DownReason.NO_TIERS
    return None if channel.takes_donations else DownReason.NO_DONATIONS


@attrs.define(eq=False)
class PlanBroadcasts:
    _uow: UnitOfWorkFactory
    _clock: Clock
    _keyring: MacKeyring
    _settings: BroadcastSettings

    async def execute(
        self, force: frozenset[ChannelId] | set[ChannelId] = frozenset()
    ) -> BroadcastPlan:
        """``force`` names channels whose offer is re-posted even if it is fresh."""
        async with self._uow() as tx:
            channels = await tx.channels.all()
            bundled = await tx.bundles.pairs()
        now = self._clock.now()
        titles = {channel.id: channel.title for channel in channels}
        includes: dict[ChannelId, tuple[str, ...]] = {}
        for home, member in bundled:
            if member in titles:
                includes[home] = (*includes.get(home, ()), titles[member])
        posts: list[PlannedPost] = []
        take_downs: list[PlannedTakeDown] = []
        for channel in channels:
            for kind, chat_id in (
                (PostKind.OFFER, channel.open_chat_id),
                (PostKind.DONATE, channel.closed_chat_id),
            ):
                standing = standing_post(channel, kind)
                down = why_down(channel, kind, now)
                if down is not None:
                    if standing is not None:
                        take_downs.append(
                            PlannedTakeDown(channel.id, kind, chat_id, standing.message_id, down)
                        )
                    continue
                reason = self._stale(channel, kind, standing, now, channel.id in force)
                if reason is not None:
                    posts.append(
                        PlannedPost(
                            channel.id,
                            kind,
                            chat_id,
                            reason,
                            self._message(channel, kind, now, includes.get(channel.id, ())),
                            None if standing is None else standing.message_id,
                            channel.tiers_version,
                        )
                    )
        return BroadcastPlan(tuple(posts), tuple(take_downs))

    def _message(
        self, channel: Channel, kind: PostKind, now: datetime, includes: tuple[str, ...]
    ) -> Notice:
        username = self._settings.bot_username
        if kind is PostKind.DONATE:
            return notices.donate_message(channel, username, self._keyring)
        return notices.offer_message(channel, username, self._keyring, now, includes)

    def _stale(
        self,
        channel: Channel,
        kind: PostKind,
        post: OfferPost | None,
        now: datetime,
        forced: bool,
    ) -> StaleReason | None:
        if post is None:
            return StaleReason.NEVER_POSTED
        if kind is PostKind.DONATE:
            due = now - post.posted_at >= self._settings.check_every
            return StaleReason.DUE_CHECK if due else None
        if post.tiers_version != channel.tiers_version:
            return StaleReason.TIERS_CHANGED
        if len(channel.tiers_on_sale(post.posted_at)) != len(channel.tiers_on_sale(now)):
            return StaleReason.TIERS_CHANGED  # a season ended since: the offer drops it
        if now - post.posted_at >= self._settings.refresh_every:
            return StaleReason.DUE_REFRESH
        return StaleReason.REQUESTED if forced else None


@attrs.define(eq=False)
class RecordPost:
    """Remember the message now standing in a chat, in place of the one it replaces.

    Several workers may publish the same stale post at once (each plans from the same
    state). Only the first to record wins; the others learn that they lost and take
    their message down again, so a chat keeps one offer. Refreshing and taking down
    are recorded the same way: only over the message the worker saw standing."""

    _uow: UnitOfWorkFactory
    _clock: Clock

    async def execute(
        self,
        channel_id: ChannelId,
        kind: PostKind,
        message_id: MessageId,
        replaces: MessageId | None,
        tiers_version: int,
    ) -> bool:
        """False when another publisher recorded a post first (nothing written)."""
        now = self._clock.now()
        return await self._record(
            channel_id,
            kind,
            OfferPost(message_id, now, tiers_version),
            replaces,
            AuditRecord(
                "system",
                f"{kind}.posted",
                f"channel:{channel_id}",
                {"message_id": str(message_id)},
            ),
        )

    async def refreshed(
        self, channel_id: ChannelId, kind: PostKind, message_id: MessageId, tiers_version: int
    ) -> bool:
        """The message was edited in place and still stands: it is fresh from now.
        Not audited: it happens every check interval and changes nothing anyone sees
        (any change of its text was audited where it was made)."""
        post = OfferPost(message_id, self._clock.now(), tiers_version)
        return await self._record(channel_id, kind, post, message_id, None)

    async def taken_down(
        self, channel_id: ChannelId, kind: PostKind, message_id: MessageId, reason: DownReason
    ) -> bool:
        """No message of ``kind`` stands any more; False when another worker replaced
        or removed ``message_id`` first (nothing written)."""
        return await self._record(
            channel_id,
            kind,
            None,
            message_id,
            AuditRecord(
                "system",
                f"{kind}.taken_down",
                f"channel:{channel_id}",
                {"message_id": str(message_id), "reason": str(reason)},
            ),
        )

    async def _record(
        self,
        channel_id: ChannelId,
        kind: PostKind,
        post: OfferPost | None,
        previous: MessageId | None,
        audit: AuditRecord | None,
    ) -> bool:
        """Store ``post`` (None: no post stands) over ``previous``, and audit it; False,
        and nothing written, when ``previous`` no longer stands."""
        async with self._uow() as tx:
            if not await tx.channels.record_post(
                channel_id, kind is PostKind.DONATE, post, previous
            ):
                return False
            if audit is not None:
                await tx.audit.append(audit, self._clock.now())
            await tx.commit()
            return True
