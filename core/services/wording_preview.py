"""What an owner's dashboard shows of their own wording (:mod:`core.ports.wordings`):
the texts they published for a channel, per kind and language, to read back. Only
the channel's owner sees them (an operator's view of every channel stops here: the
texts are the owner's drafts of their voice, and editing stays in the bot); anyone
else is told the channel does not exist, exactly as for a missing one."""

from __future__ import annotations

import attrs

from core.domain.channel import Channel
from core.domain.errors import UnknownChannel, Why
from core.domain.ids import ChannelId
from core.ports.errors import NotFound
from core.ports.repositories import UnitOfWorkFactory
from core.ports.wordings import Wording
from core.services.dashboard import Viewer
from core.services.wordings import OwnWording


@attrs.frozen
class ChannelWording:
    channel: Channel
    wordings: tuple[Wording, ...]
    """Published texts, by kind then language."""


@attrs.define(eq=False)
class WordingPreview:
    _uow: UnitOfWorkFactory
    _wording: OwnWording

    async def of(self, viewer: Viewer, channel_id: ChannelId) -> ChannelWording:
        """The published wording of ``channel_id``. Raises UnknownChannel when it does
        not exist or ``viewer`` does not own it; Unavailable when a store is down."""
        async with self._uow() as tx:
            try:
                channel = await tx.channels.get(channel_id)
            except NotFound as exc:
                raise UnknownChannel(Why.NO_SUCH_CHANNEL) from exc
        if channel.owner_id != viewer.user_id:
            raise UnknownChannel(Why.NO_SUCH_CHANNEL)
        published = await self._wording.published(viewer.user_id, channel.id)
        return ChannelWording(channel, tuple(published))
