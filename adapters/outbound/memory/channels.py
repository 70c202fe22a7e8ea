"""Channels in memory: a chat belongs to at most one registered pair, open or closed."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.outbound.memory.table import Table, TableView
from core.domain.channel import Channel
from core.domain.ids import ChannelId, ChatId, UserId


def channels_table() -> Table[ChannelId, Channel]:
    # One index over both chats: a chat cannot be the open one of a pair and the
    # closed one of another.
    return Table("channels", lambda c: c.id, {"chat": lambda c: (c.open_chat_id, c.closed_chat_id)})


class InMemoryChannelRepository:
    """Implements ChannelRepository."""

    def __init__(self, rows: TableView[ChannelId, Channel]) -> None:
        self._rows = rows

    async def add(self, channel: Channel) -> None:
        await self._rows.insert(channel)

    async def get(self, channel_id: ChannelId) -> Channel:
        return self._rows.require(channel_id, "channel")

    async def by_chat(self, chat_id: ChatId) -> Channel | None:
        owner = self._rows.lookup("chat", chat_id)
        return None if owner is None else self._rows.get(owner)

    async def by_owner(self, owner_id: UserId) -> Sequence[Channel]:
        return self._rows.select(lambda c: c.owner_id == owner_id)

    async def all(self) -> Sequence[Channel]:
        return self._rows.select(lambda c: True)

    async def update(self, channel: Channel) -> None:
        await self._rows.update(channel, "channel")
