"""What the owners' dashboard needs besides the unit of work: server-side sessions and
the figures of its overview."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol

import attrs

from core.domain.ids import ChannelId, UserId
from core.ports.errors import Unavailable

__all__ = ["ChannelFigures", "DashboardSession", "MonthlyRevenue", "SessionStore", "Unavailable"]


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
class MonthlyRevenue:
    channel_id: ChannelId
    month: str
    """``YYYY-MM`` (UTC) of the payments' fulfilment."""
    currency: str
    amount: Decimal


class ChannelFigures(Protocol):
    """Read-only aggregates over payments and subscriptions, for a few channels."""

    async def active_subscribers(
        self, channels: Sequence[ChannelId], now: datetime
    ) -> Mapping[ChannelId, int]:
        """Active subscriptions not yet past ``expires_at``, per channel (0s left out)."""
        ...

    async def monthly_revenue(
        self, channels: Sequence[ChannelId], since: datetime
    ) -> Sequence[MonthlyRevenue]:
        """What fulfilled payments (subscriptions and donations) brought since ``since``,
        at the price asked, per channel, month and currency, by channel then month."""
        ...
