"""Bundles in memory: one row per (home, member) and one grant per (subscription,
period, member channel)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs

from adapters.outbound.memory.table import Table, TableView
from core.domain.bundle import BundleGrant
from core.domain.ids import ChannelId, SubscriptionId

MemberKey = tuple[ChannelId, ChannelId]
GrantKey = tuple[SubscriptionId, int, ChannelId]


@attrs.frozen
class BundleMember:
    home: ChannelId
    member: ChannelId
    added_at: datetime


def bundle_members_table() -> Table[MemberKey, BundleMember]:
    return Table("bundle_members", lambda m: (m.home, m.member))


def bundle_grants_table() -> Table[GrantKey, BundleGrant]:
    return Table("bundle_grants", lambda g: (g.subscription_id, g.period, g.channel_id))


class InMemoryBundleRepository:
    """Implements BundleRepository."""

    def __init__(
        self,
        members: TableView[MemberKey, BundleMember],
        grants: TableView[GrantKey, BundleGrant],
    ) -> None:
        self._members = members
        self._grants = grants

    async def members(self, home: ChannelId) -> Sequence[ChannelId]:
        rows = self._members.select(lambda m: m.home == home)
        return [m.member for m in rows]

    async def homes_of(self, member: ChannelId) -> Sequence[ChannelId]:
        rows = self._members.select(lambda m: m.member == member)
        return [m.home for m in rows]

    async def pairs(self) -> Sequence[tuple[ChannelId, ChannelId]]:
        rows = self._members.select(lambda m: True, order=lambda m: m.home)
        return [(m.home, m.member) for m in rows]

    async def add(self, home: ChannelId, member: ChannelId, at: datetime) -> bool:
        return await self._members.insert_unless_taken(BundleMember(home, member, at))

    async def remove(self, home: ChannelId, member: ChannelId) -> bool:
        return await self._members.delete((home, member))

    async def add_grant(self, grant: BundleGrant) -> bool:
        return await self._grants.insert_unless_taken(grant)

    async def grants_of(self, subscription_id: SubscriptionId) -> Sequence[BundleGrant]:
        return self._grants.select(
            lambda g: g.subscription_id == subscription_id, order=lambda g: g.period
        )
