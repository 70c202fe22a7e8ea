"""Carry out the broadcast plan: post a new message, remember it, then delete the one
it replaces; refresh a standing Donate message in place (posting it again if someone
deleted it); take down the posts a channel should no longer show.

Telegram pacing is the Messenger adapter's job; here a channel whose chat refuses
the bot (rights missing, chat gone) has its sales paused at once and its owner told
(through :class:`ChangeSales`), while a transient failure is simply tried again on
the next round. A take-down the chat refuses keeps the post on record: it still
stands, and is tried again next round (or replaced once sales resume). An owner may
ask for a fresh post by hand, at most once per cooldown.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from enum import StrEnum

import attrs

from core.domain.channel import Channel
from core.domain.errors import DomainError, Why
from core.domain.ids import ChannelId
from core.domain.pause import PauseCause, PauseReason, encode
from core.ports.clock import Clock
from core.ports.errors import NotFound, Unavailable
from core.ports.repositories import UnitOfWorkFactory
from core.ports.telegram import ChatGone, MessageGone, Messenger, NotEnoughRights
from core.services.broadcasts import (
    PlanBroadcasts,
    PlannedPost,
    PlannedTakeDown,
    PostKind,
    RecordPost,
    standing_post,
    why_down,
)
from core.services.channel_settings import ChangeSales


class TooSoon(DomainError):
    """A manual refresh was asked for within the cooldown."""


class NothingToPost(DomainError):
    """A manual refresh of a channel that sells nothing now (no tiers, or paused)."""


@attrs.frozen
class PublishSettings:
    manual_cooldown: timedelta = timedelta(minutes=10)


def publish_settings(given: PublishSettings | None) -> PublishSettings:
    """None (a setting a container leaves unset) means the defaults."""
    return given or PublishSettings()


class Outcome(StrEnum):
    POSTED = "posted"
    REFRESHED = "refreshed"
    TAKEN_DOWN = "taken_down"
    KEPT = "kept"
    """A take-down the chat refused: the post still stands."""
    FAILED = "failed"
    PAUSED = "paused"
    SUPERSEDED = "superseded"
    """Another worker did it first, or the channel changed since the plan."""


@attrs.frozen
class PublishReport:
    posted: int = 0
    failed: int = 0
    paused: int = 0
    refreshed: int = 0
    taken_down: int = 0
    kept: int = 0

    @classmethod
    def of(cls, outcomes: Iterable[Outcome]) -> PublishReport:
        counts = Counter(outcomes)
        return cls(
            posted=counts[Outcome.POSTED],
            failed=counts[Outcome.FAILED],
            paused=counts[Outcome.PAUSED],
            refreshed=counts[Outcome.REFRESHED],
            taken_down=counts[Outcome.TAKEN_DOWN],
            kept=counts[Outcome.KEPT],
        )


@attrs.define(eq=False)
class PublishPosts:
    _uow: UnitOfWorkFactory
    _clock: Clock
    _plan: PlanBroadcasts
    _record: RecordPost
    _sales: ChangeSales
    _messenger: Messenger
    _settings: PublishSettings = attrs.field(default=None, converter=publish_settings)

    async def run_once(self) -> PublishReport:
        plan = await self._plan.execute()
        outcomes = [await self._take_down(down) for down in plan.take_downs]
        outcomes += [await self._publish(post) for post in plan.posts]
        return PublishReport.of(outcomes)

    async def refresh_now(self, channel_id: ChannelId) -> PublishReport:
        """The owner's manual trigger: re-post this channel's offer, cooldown permitting."""
        async with self._uow() as tx:
            channel = await tx.channels.get(channel_id)
        now = self._clock.now()
        if not channel.tiers:
            raise NothingToPost(Why.NO_TIERS_YET)
        if channel.sales_paused:
            raise NothingToPost(Why.PAUSED_NO_POST, reason=channel.pause_reason or "")
        if channel.offer_post is not None:
            ready_at = channel.offer_post.posted_at + self._settings.manual_cooldown
            if now < ready_at:
                minutes = max(1, int((ready_at - now).total_seconds() // 60))
                raise TooSoon(Why.POSTED_MOMENTS_AGO, minutes=minutes)
        plan = await self._plan.execute(force={channel_id})
        posts = [p for p in plan.posts if p.channel_id == channel_id and p.kind is PostKind.OFFER]
        return PublishReport.of([await self._publish(post) for post in posts])

    async def _publish(self, post: PlannedPost) -> Outcome:
        gone = False
        if post.in_place and post.replaces is not None:
            try:
                await self._messenger.edit(post.chat_id, post.replaces, post.message)
            except MessageGone:
                gone = True  # someone deleted it: post it again
            except (ChatGone, NotEnoughRights) as exc:
                await self._sales.pause(post.chat_id, _refused(exc))
                return Outcome.PAUSED
            except Unavailable:
                return Outcome.FAILED
            else:
                refreshed = await self._record.refreshed(
                    post.channel_id, post.kind, post.replaces, post.tiers_version
                )
                return Outcome.REFRESHED if refreshed else Outcome.SUPERSEDED
        try:
            message_id = await self._messenger.send(post.chat_id, post.message)
        except (ChatGone, NotEnoughRights) as exc:
            await self._sales.pause(post.chat_id, _refused(exc))
            return Outcome.PAUSED
        except Unavailable:
            return Outcome.FAILED
        recorded = await self._record.execute(
            post.channel_id, post.kind, message_id, post.replaces, post.tiers_version
        )
        if not recorded:
            # Another worker published the same post first: ours is the duplicate.
            with contextlib.suppress(Unavailable, ChatGone, NotEnoughRights):
                await self._messenger.delete(post.chat_id, message_id)
            return Outcome.SUPERSEDED
        if post.replaces is not None and not gone:
            # The new offer is up; an old one left behind is untidy, not wrong.
            with contextlib.suppress(Unavailable, ChatGone, NotEnoughRights):
                await self._messenger.delete(post.chat_id, post.replaces)
        return Outcome.POSTED

    async def _take_down(self, down: PlannedTakeDown) -> Outcome:
        # Checked again now: the owner may have set tiers or resumed sales since the
        # plan was made, and a deleted post would stay missing until the next round.
        async with self._uow() as tx:
            try:
                channel: Channel | None = await tx.channels.get(down.channel_id)
            except NotFound:  # the channel is gone: nothing stands to take down
                channel = None
        standing = None if channel is None else standing_post(channel, down.kind)
        if (
            channel is None
            or why_down(channel, down.kind) is None
            or standing is None
            or standing.message_id != down.message_id
        ):
            return Outcome.SUPERSEDED
        try:
            await self._messenger.delete(down.chat_id, down.message_id)
        except (ChatGone, NotEnoughRights):
            # The bot lost its rights there (sales are paused for it): the post still
            # stands. It is tried again next round, or replaced once sales resume.
            return Outcome.KEPT
        except Unavailable:
            return Outcome.FAILED
        taken = await self._record.taken_down(
            down.channel_id, down.kind, down.message_id, down.reason
        )
        return Outcome.TAKEN_DOWN if taken else Outcome.SUPERSEDED


def _refused(exc: Exception) -> str:
    """The stored pause reason for a post Telegram refused (its own description kept)."""
    return encode([PauseReason(PauseCause.POST_REFUSED, detail=str(exc))])
