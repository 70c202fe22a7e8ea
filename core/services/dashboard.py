"""The owners' dashboard, as use cases: who may look, and what each viewer sees.

An owner sees and changes only their own channels; an operator
(``PAYGATE_OPERATOR_IDS``) sees every channel and changes none that is not theirs.
A channel the viewer may not see is reported as unknown, exactly like one that does
not exist, so ids cannot be probed (no IDOR). Changes go through the bot's own use
cases (ChangeSales, ResumeSales) and are audited with the person and their reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import attrs

from core.domain.channel import Channel
from core.domain.errors import InvalidChannel, NotAuthorized, UnknownChannel
from core.domain.ids import ChannelId, UserId
from core.ports.clock import Clock
from core.ports.dashboard import ChannelFigures
from core.ports.errors import NotFound
from core.ports.repositories import UnitOfWorkFactory
from core.services.channel_settings import ChangeSales
from core.services.resume_sales import ResumeOutcome, ResumeSales

MAX_REASON = 500
REVENUE_MONTHS = 12


@attrs.frozen
class Viewer:
    user_id: UserId
    operator: bool = False


@attrs.frozen
class MonthAmount:
    month: str
    amount: Decimal


@attrs.frozen
class ChannelOverview:
    channel: Channel
    active_subscribers: int
    revenue: dict[str, tuple[MonthAmount, ...]]
    """By currency: the months with takings, oldest first."""


def _reason(text: str) -> str:
    reason = " ".join(text.split())
    if not reason:
        raise InvalidChannel("a reason is required")
    if len(reason) > MAX_REASON:
        raise InvalidChannel(f"a reason has at most {MAX_REASON} characters")
    return reason


def _months_back(now: datetime, months: int) -> datetime:
    year, month = now.year, now.month - (months - 1)
    while month < 1:
        month += 12
        year -= 1
    return now.replace(year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0)


@attrs.define(eq=False)
class OwnerDashboard:
    _uow: UnitOfWorkFactory
    _clock: Clock
    _figures: ChannelFigures
    _sales: ChangeSales
    _resume: ResumeSales
    _operators: frozenset[UserId] = frozenset()

    async def admit(self, user_id: UserId) -> Viewer:
        """Who may log in: an operator, or the owner of at least one channel. Raises
        NotAuthorized for anyone else."""
        if user_id in self._operators:
            return Viewer(user_id, operator=True)
        async with self._uow() as tx:
            owned = await tx.channels.by_owner(user_id)
        if not owned:
            raise NotAuthorized("the dashboard is for channel owners")
        return Viewer(user_id)

    async def channels(self, viewer: Viewer) -> Sequence[Channel]:
        async with self._uow() as tx:
            if viewer.operator:
                found = await tx.channels.all()
            else:
                found = await tx.channels.by_owner(viewer.user_id)
        return sorted(found, key=lambda c: (c.title.casefold(), c.id))

    async def bundles(self, channels: Sequence[Channel]) -> dict[ChannelId, tuple[str, ...]]:
        """The titles of the channels each of ``channels`` bundles (all its owner's)."""
        shown = {c.id for c in channels}
        titles: dict[ChannelId, tuple[str, ...]] = {}
        async with self._uow() as tx:
            for home, member in await tx.bundles.pairs():
                if home in shown:
                    title = (await tx.channels.get(member)).title
                    titles[home] = (*titles.get(home, ()), title)
        return titles

    async def channel(self, viewer: Viewer, channel_id: ChannelId) -> Channel:
        """Raises UnknownChannel when it does not exist or the viewer may not see it."""
        async with self._uow() as tx:
            try:
                channel = await tx.channels.get(channel_id)
            except NotFound as exc:
                raise UnknownChannel("no such channel") from exc
        if not viewer.operator and channel.owner_id != viewer.user_id:
            raise UnknownChannel("no such channel")
        return channel

    async def overview(self, viewer: Viewer) -> list[ChannelOverview]:
        channels = await self.channels(viewer)
        ids = [c.id for c in channels]
        now = self._clock.now()
        active = await self._figures.active_subscribers(ids, now)
        revenue = await self._figures.monthly_revenue(ids, _months_back(now, REVENUE_MONTHS))
        views = []
        for channel in channels:
            by_currency: dict[str, list[MonthAmount]] = {}
            for row in revenue:
                if row.channel_id == channel.id:
                    by_currency.setdefault(row.currency, []).append(
                        MonthAmount(row.month, row.amount)
                    )
            views.append(
                ChannelOverview(
                    channel,
                    active.get(channel.id, 0),
                    {
                        cur: tuple(sorted(rows, key=lambda r: r.month))
                        for cur, rows in sorted(by_currency.items())
                    },
                )
            )
        return views

    async def pause(self, viewer: Viewer, channel_id: ChannelId, reason: str) -> bool:
        """The owner pauses sales, saying why. False when they were paused already.
        Raises UnknownChannel, NotAuthorized (an operator on someone else's channel),
        InvalidChannel (no reason)."""
        why = _reason(reason)
        channel = await self.channel(viewer, channel_id)
        channel.ensure_owner(viewer.user_id)
        paused = await self._sales.pause_channel(channel.id, why, viewer.user_id)
        return paused is not None

    async def resume(self, viewer: Viewer, channel_id: ChannelId, reason: str) -> ResumeOutcome:
        """The owner resumes sales, saying why; the bot's rights are checked first (see
        ResumeSales). Raises as :meth:`pause`, and MissingRights, Unavailable."""
        why = _reason(reason)
        channel = await self.channel(viewer, channel_id)
        channel.ensure_owner(viewer.user_id)
        return await self._resume.execute(viewer.user_id, channel.id, why)


__all__ = ["ChannelOverview", "MonthAmount", "OwnerDashboard", "Viewer"]
