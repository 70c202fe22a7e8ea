"""Read-only views the bot shows: an owner's channels, a channel's donation bounds,
the channel a chat belongs to. Reads only; every change goes through a use case."""

from __future__ import annotations

from adapters.catalog import texts
from adapters.inbound.telegram.parsing import BadInput, parse_channel_number
from core.domain.channel import Channel
from core.domain.ids import ChannelId, ChatId, UserId
from core.ports.errors import NotFound
from core.ports.repositories import UnitOfWorkFactory


class ChannelViews:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def owned_by(self, owner: UserId) -> list[Channel]:
        """The owner's channels in the order /channels numbers them (oldest first)."""
        async with self._uow() as tx:
            channels = await tx.channels.by_owner(owner)
        return sorted(channels, key=lambda c: (c.created_at, c.id))

    async def numbered(self, owner: UserId, word: str) -> tuple[int, Channel]:
        """The owner's channel ``word`` (its number in /channels) and that number."""
        owned = await self.owned_by(owner)
        if not owned:
            raise BadInput(texts.no_channels())
        index = parse_channel_number(word, len(owned))
        return index + 1, owned[index]

    async def get(self, channel_id: ChannelId) -> Channel | None:
        async with self._uow() as tx:
            try:
                return await tx.channels.get(channel_id)
            except NotFound:
                return None

    async def by_chat(self, chat_id: ChatId) -> Channel | None:
        async with self._uow() as tx:
            return await tx.channels.by_chat(chat_id)
