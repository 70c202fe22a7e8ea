"""What the owners' dashboard needs besides the unit of work: server-side sessions and
the figures of its overview."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

import attrs

from core.domain.figures import FigureKind
from core.domain.ids import ChannelId, UserId
from core.ports.errors import Unavailable

__all__ = [
    "ChannelFigures",
    "ChannelName",
    "ChannelTotal",
    "DashboardSession",
    "DayTotal",
    "MonthTotal",
    "SessionStore",
    "Unavailable",
]


@attrs.frozen
class DashboardSession:
    """A logged-in browser. ``key`` is the SHA-256 of the cookie's token, so a copy of
    the store opens no session; ``csrf`` is the token every state-changing form carries."""

    key: str
    user_id: UserId
    csrf: str
    created_at: datetime
    last_seen: datetime


class SessionStore(Protocol):
    async def put(self, session: DashboardSession, ttl_seconds: int) -> None:
        """Store (or overwrite) ``session``; the store may forget it ``ttl_seconds`` later."""
        ...

    async def get(self, key: str) -> DashboardSession | None: ...

    async def delete(self, key: str) -> None:
        """Nothing happens when there is no such session."""
        ...

    async def delete_user(self, user_id: UserId) -> int:
        """End every session of ``user_id`` (logout everywhere); how many there were."""
        ...


@attrs.frozen
class ChannelName:
    """What the overview shows of a channel: not the whole entity (no tiers, no
    sealed wallet to open), so listing a thousand costs a thousand short rows."""

    id: ChannelId
    title: str
    owner_id: UserId


@attrs.frozen
class DayTotal:
    """One day's figures of one kind and currency, added over the channels asked."""

    day: date
    currency: str
    kind: FigureKind
    amount: Decimal
    count: int


@attrs.frozen
class MonthTotal:
    """One month's figures of one kind and currency, added over the channels asked."""

    month: str
    """``YYYY-MM``."""
    currency: str
    kind: FigureKind
    amount: Decimal
    count: int


@attrs.frozen
class ChannelTotal:
    """One channel's figures of one kind and currency, added over the days asked."""

    channel_id: ChannelId
    currency: str
    kind: FigureKind
    amount: Decimal
    count: int


@attrs.frozen
class FigureReads:
    """What one overview reads (see :meth:`ChannelFigures.overview_rows`)."""

    channels: Sequence[ChannelId] | None
    """Whose days and months (:meth:`ChannelFigures.by_day`, ``by_month``); None: the
    totals over every channel."""
    first_day: date
    first_month: date
    shown: Sequence[ChannelId]
    """Whose lines (:meth:`ChannelFigures.by_channel` from ``first_day``)."""
    counted: Sequence[ChannelId] | None
    """Whose active subscribers (:meth:`ChannelFigures.active_subscribers`)."""
    now: datetime


@attrs.frozen
class FigureRows:
    days: Sequence[DayTotal]
    months: Sequence[MonthTotal]
    lines: Sequence[ChannelTotal]
    active: Mapping[ChannelId, int]


class ChannelFigures(Protocol):
    """Read-only aggregates for a few channels, or for all of them (``channels`` None:
    the operator's view), read from the daily rollup the write path keeps
    (:class:`~core.ports.figures.FigureRollup`) and the subscriptions."""

    async def names(self, owner: UserId) -> Sequence[ChannelName]:
        """The channels of ``owner``, in no particular order."""
        ...

    async def name_page(self, offset: int, limit: int) -> tuple[int, Sequence[ChannelName]]:
        """How many channels there are, and ``limit`` of them from ``offset`` in the
        order of their titles (case-insensitively), then ids."""
        ...

    async def active_subscribers(
        self, channels: Sequence[ChannelId] | None, now: datetime
    ) -> Mapping[ChannelId, int]:
        """Active subscriptions not yet past ``expires_at``, per channel (0s left out)."""
        ...

    async def by_day(self, channels: Sequence[ChannelId] | None, since: date) -> Sequence[DayTotal]:
        """The rollup from ``since`` on, added over the channels (None: the totals over
        every channel), per day, currency and kind, by day."""
        ...

    async def by_month(
        self, channels: Sequence[ChannelId] | None, since: date
    ) -> Sequence[MonthTotal]:
        """As :meth:`by_day`, per month (``since`` the first of one), by month."""
        ...

    async def by_channel(
        self, channels: Sequence[ChannelId] | None, since: date
    ) -> Sequence[ChannelTotal]:
        """The rollup from ``since`` on, added over the days, per channel (None: every
        channel's), currency and kind, by channel."""
        ...

    async def overview_rows(self, reads: FigureReads) -> FigureRows:
        """:meth:`by_day`, :meth:`by_month`, :meth:`by_channel` and
        :meth:`active_subscribers` of ``reads``, each as on its own; a store may read
        them side by side (each its own snapshot, as when read one after another)."""
        ...
