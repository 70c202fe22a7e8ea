"""Publish the planned offer and Donate messages: post the new one, remember it, then
delete the one it replaces.

Telegram pacing is the Messenger adapter's job; here a channel whose chat refuses
the bot (rights missing, chat gone) has its sales paused at once and its owner told
(through :class:`ChangeSales`), while a transient failure is simply tried again on
the next round. An owner may ask for a fresh post by hand, at most once per cooldown.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

import attrs

from core.domain.errors import DomainError
from core.domain.ids import ChannelId
from core.ports.clock import Clock
from core.ports.errors import Unavailable
from core.ports.repositories import UnitOfWorkFactory
from core.ports.telegram import ChatGone, Messenger, NotEnoughRights
from core.services.broadcasts import PlanBroadcasts, PlannedPost, PostKind, RecordPost
from core.services.channel_settings import ChangeSales


class TooSoon(DomainError):
    """A manual refresh was asked for within the cooldown."""


@attrs.frozen
class PublishSettings:
    manual_cooldown: timedelta = timedelta(minutes=10)


@attrs.frozen
class PublishReport:
    posted: int = 0
    failed: int = 0
    paused: int = 0


class PublishPosts:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        plan: PlanBroadcasts,
        record: RecordPost,
        sales: ChangeSales,
        messenger: Messenger,
        settings: PublishSettings | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._plan = plan
        self._record = record
        self._sales = sales
        self._messenger = messenger
        self._settings = settings or PublishSettings()

    async def run_once(self) -> PublishReport:
        posted = failed = paused = 0
        for post in await self._plan.execute():
            outcome = await self._publish(post)
            posted += outcome == "posted"
            failed += outcome == "failed"
            paused += outcome == "paused"
        return PublishReport(posted, failed, paused)

    async def refresh_now(self, channel_id: ChannelId) -> PublishReport:
        """The owner's manual trigger: re-post this channel's offer, cooldown permitting."""
        async with self._uow() as tx:
            channel = await tx.channels.get(channel_id)
        now = self._clock.now()
        if channel.offer_post is not None:
            ready_at = channel.offer_post.posted_at + self._settings.manual_cooldown
            if now < ready_at:
                minutes = max(1, int((ready_at - now).total_seconds() // 60))
                raise TooSoon(f"the offer was posted moments ago; try again in {minutes} min")
        posts = [
            p
            for p in await self._plan.execute(force={channel_id})
            if p.channel_id == channel_id and p.kind is PostKind.OFFER
        ]
        report = PublishReport()
        for post in posts:
            outcome = await self._publish(post)
            report = PublishReport(
                report.posted + (outcome == "posted"),
                report.failed + (outcome == "failed"),
                report.paused + (outcome == "paused"),
            )
        return report

    async def _publish(self, post: PlannedPost) -> str:
        try:
            message_id = await self._messenger.send(post.chat_id, post.message)
        except (ChatGone, NotEnoughRights) as exc:
            await self._sales.pause(post.chat_id, f"the bot cannot post there ({exc})")
            return "paused"
        except Unavailable:
            return "failed"
        recorded = await self._record.execute(
            post.channel_id, post.kind, message_id, post.replaces, post.tiers_version
        )
        if not recorded:
            # Another worker published the same post first: ours is the duplicate.
            with contextlib.suppress(Unavailable, ChatGone, NotEnoughRights):
                await self._messenger.delete(post.chat_id, message_id)
            return "superseded"
        if post.replaces is not None:
            # The new offer is up; an old one left behind is untidy, not wrong.
            with contextlib.suppress(Unavailable, ChatGone, NotEnoughRights):
                await self._messenger.delete(post.chat_id, post.replaces)
        return "posted"
