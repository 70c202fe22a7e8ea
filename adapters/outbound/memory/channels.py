"""Channels in memory: a chat belongs to at most one registered pair, open or closed."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from adapters.outbound.memory.table import Table, TableView
from core.domain.channel import Channel, OfferPost
from core.domain.ids import ChannelId, ChatId, MessageId, UserId


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

    async def record_post(
        self,
        channel_id: ChannelId,
        donate: bool,
        post: OfferPost | None,
        previous: MessageId | None,
    ) -> bool:
        while True:
            current = self._rows.get(channel_id)
            if current is None:
                return False
            standing = current.donate_post if donate else current.offer_post
            if (None if standing is None else standing.message_id) != previous:
                return False
            updated = (
                attrs.evolve(current, donate_post=post)
                if donate
                else attrs.evolve(current, offer_post=post)
            )
            # Written only over the row as read (checked once locked): a publisher
            # that lost the race, or a change to another column meanwhile, is seen.
            if await self._rows.compare_and_set(updated, "channel", _unchanged_since(current)):
                return True


def _unchanged_since(read: Channel) -> Callable[[Channel], bool]:
    def unchanged(stored: Channel) -> bool:
        return stored == read

    return unchanged
