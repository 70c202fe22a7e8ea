"""Bundles: one row per (home, member) channel, one grant per (subscription, period,
member channel), so a member chat is granted once a period however many workers try."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select

from adapters.outbound.sqla.tables import bundle_grants as g
from adapters.outbound.sqla.tables import bundle_members as m
from adapters.outbound.sqla.transaction import SqlTransaction
from core.domain.bundle import BundleGrant
from core.domain.ids import ChannelId, SubscriptionId

_MEMBER_KEY = ("home_channel_id", "member_channel_id")
_GRANT_KEY = ("subscription_id", "period", "channel_id")


class SqlBundleRepository:
    def __init__(self, tx: SqlTransaction) -> None:
        self._tx = tx

    async def members(self, home: ChannelId) -> Sequence[ChannelId]:
        query = (
            select(m.c.member_channel_id)
            .where(m.c.home_channel_id == home)
            .order_by(m.c.position, m.c.member_channel_id)
        )
        rows = await self._tx.execute(query, "read bundle", reads_only=True)
        return [ChannelId(row.member_channel_id) for row in rows]

    async def homes_of(self, member: ChannelId) -> Sequence[ChannelId]:
        query = (
            select(m.c.home_channel_id)
            .where(m.c.member_channel_id == member)
            .order_by(m.c.home_channel_id)
        )
        rows = await self._tx.execute(query, "read bundles of a channel", reads_only=True)
        return [ChannelId(row.home_channel_id) for row in rows]

    async def pairs(self) -> Sequence[tuple[ChannelId, ChannelId]]:
        query = select(m.c.home_channel_id, m.c.member_channel_id).order_by(
            m.c.home_channel_id, m.c.position, m.c.member_channel_id
        )
        rows = await self._tx.execute(query, "read bundles", reads_only=True)
        return [(ChannelId(r.home_channel_id), ChannelId(r.member_channel_id)) for r in rows]

    async def add(self, home: ChannelId, member: ChannelId, at: datetime) -> bool:
        last = select(func.max(m.c.position)).where(m.c.home_channel_id == home)
        position = (await self._tx.execute(last, "read bundle")).scalar() or 0
        row = {
            "home_channel_id": home,
            "member_channel_id": member,
            "position": position + 1,
            "added_at": at,
        }
        return await self._tx.insert_once(m, row, _MEMBER_KEY, "add bundle member")

    async def remove(self, home: ChannelId, member: ChannelId) -> bool:
        result = await self._tx.execute(
            delete(m).where(m.c.home_channel_id == home, m.c.member_channel_id == member),
            "remove bundle member",
        )
        return result.rowcount == 1

    async def add_grant(self, grant: BundleGrant) -> bool:
        row = {
            "subscription_id": grant.subscription_id,
            "period": grant.period,
            "channel_id": grant.channel_id,
            "created_at": grant.created_at,
        }
        return await self._tx.insert_once(g, row, _GRANT_KEY, "record bundle grant")

    async def grants_of(self, subscription_id: SubscriptionId) -> Sequence[BundleGrant]:
        query = (
            select(g)
            .where(g.c.subscription_id == subscription_id)
            .order_by(g.c.period, g.c.created_at, g.c.channel_id)
        )
        rows = await self._tx.execute(query, "read bundle grants", reads_only=True)
        return [
            BundleGrant(
                SubscriptionId(r.subscription_id), r.period, ChannelId(r.channel_id), r.created_at
            )
            for r in rows
        ]
