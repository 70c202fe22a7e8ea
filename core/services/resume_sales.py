"""The owner asks for sales to resume (``/resume <n>``) without waiting for the
periodic rights check: the bot's rights in both chats are checked first, and sales
resume only when both are in order; otherwise the owner learns exactly what the bot
lacks in which chat. Only the owner, while still the creator of both chats, may ask.
"""

from __future__ import annotations

import attrs

from core.domain.channel import Channel
from core.domain.ids import ChannelId, UserId
from core.ports.repositories import UnitOfWorkFactory
from core.ports.telegram import ChatAccess
from core.services.channel_settings import ChangeSales, owned_by_its_creator
from core.services.check_rights import Shortfall, bot_shortfalls
from core.services.creators import CreatorCheck


@attrs.frozen
class ResumeOutcome:
    channel: Channel
    resumed: bool
    """False when sales were not paused, or the bot still lacks rights."""
    shortfalls: tuple[Shortfall, ...] = ()
    """What the bot lacks, chat by chat (empty when both chats are in order)."""


@attrs.define(eq=False)
class ResumeSales:
    _uow: UnitOfWorkFactory
    _chat: ChatAccess = attrs.field(alias="chat_access")
    _sales: ChangeSales

    async def execute(
        self, actor: UserId, channel_id: ChannelId, reason: str | None = None
    ) -> ResumeOutcome:
        """``reason``, when the owner gave one (the dashboard asks), is audited.
        Raises NotAuthorized (not the owner), MissingRights (no longer the creator
        of both chats), UnknownChannel, Unavailable (Telegram did not answer)."""
        channel = await owned_by_its_creator(self._uow, CreatorCheck(self._chat), channel_id, actor)
        shortfalls = await bot_shortfalls(self._chat, channel)
        if shortfalls:
            return ResumeOutcome(channel, False, shortfalls)
        resumed = await self._sales.resume_channel(channel.id, actor, reason=reason)
        if resumed is None:
            return ResumeOutcome(channel, False)
        return ResumeOutcome(resumed, True)
