"""Subscriptions in memory: one per (user, channel), swept in keyset pages."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import attrs

from adapters.outbound.memory.clock import require_utc
from adapters.outbound.memory.table import Table, TableView
from core.domain.ids import ChannelId, SubscriptionId, UserId
from core.domain.subscription import Subscription, SubscriptionStatus
from core.ports.errors import Conflict


def subscriptions_table() -> Table[SubscriptionId, Subscription]:
    return Table(
        "subscriptions", lambda s: s.id, {"user_channel": lambda s: ((s.user_id, s.channel_id),)}
    )


class InMemorySubscriptionRepository:
    """Implements SubscriptionRepository."""

    def __init__(self, rows: TableView[SubscriptionId, Subscription]) -> None:
        self._rows = rows

    async def get(self, subscription_id: SubscriptionId) -> Subscription:
        return self._rows.require(subscription_id, "subscription")

    async def find(self, user_id: UserId, channel_id: ChannelId) -> Subscription | None:
        key = self._rows.lookup("user_channel", (user_id, channel_id))
        return None if key is None else self._rows.get(key)

    async def for_user(self, user_id: UserId) -> Sequence[Subscription]:
        return self._rows.select(lambda s: s.user_id == user_id)

    async def for_channel(self, channel_id: ChannelId) -> Sequence[Subscription]:
        return self._rows.select(lambda s: s.channel_id == channel_id)

    async def update(self, subscription: Subscription) -> None:
        """Optimistic lock: refused with Conflict if someone updated it since it was read."""
        await self._store_next_version(subscription)
        subscription.version += 1

    async def _store_next_version(self, subscription: Subscription) -> None:
        read = subscription.version
        bumped = attrs.evolve(subscription, version=read + 1)
        if not await self._rows.compare_and_set(bumped, "subscription", _at_version(read)):
            raise Conflict(f"subscription {subscription.id} changed since it was read")

    async def active_expiring_before(
        self, cutoff: datetime, after: tuple[datetime, SubscriptionId] | None, limit: int
    ) -> Sequence[Subscription]:
        cutoff = require_utc(cutoff, "cutoff")
        keyset = None if after is None else (require_utc(after[0], "keyset time"), after[1])

        def due(s: Subscription) -> bool:
            return (
                s.status == SubscriptionStatus.ACTIVE
                and s.expires_at <= cutoff
                and (keyset is None or (s.expires_at, s.id) > keyset)
            )

        return self._rows.select(due, order=lambda s: (s.expires_at, s.id), limit=limit)


def _at_version(read: int) -> Callable[[Subscription], bool]:
    def unchanged(stored: Subscription) -> bool:
        return stored.version == read

    return unchanged
