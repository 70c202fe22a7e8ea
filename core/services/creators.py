"""Who may own a channel pair: the creator of both of its chats.

Telegram names one creator per chat (getChatMember status ``creator``). An admin the
creator appointed can do a lot in a chat, but selling access to somebody else's
channel is not among it: registering a pair needs its creator, and so does every
later change the owner makes (tiers, donation limits, resuming sales), so an owner
who gave a chat away (Telegram's ownership transfer) can no longer change its
channel. Letting "an admin the creator named" own a pair is not supported.
"""

from __future__ import annotations

import attrs

from core.domain.errors import MissingRights, Why
from core.domain.ids import ChatId, UserId
from core.domain.rights import ChatRights, MemberStatus
from core.ports.telegram import ChatAccess, ChatGone


@attrs.define(eq=False)
class CreatorCheck:
    _chat: ChatAccess = attrs.field(alias="chat_access")

    async def is_creator(self, user: UserId, chat: ChatId) -> bool:
        """False also where the bot cannot see the chat (it is not in it)."""
        try:
            return (await self._chat.rights(chat, user)).status is MemberStatus.CREATOR
        except ChatGone:
            return False

    async def ensure_can_register(
        self, user: UserId, open_chat: ChatId, closed_chat: ChatId
    ) -> None:
        """Raises MissingRights naming the first chat ``user`` did not create."""
        for chat, which in ((open_chat, "open"), (closed_chat, "closed")):
            rights = await self._rights(chat, user, which)
            if rights.status is MemberStatus.CREATOR:
                continue
            if rights.status is MemberStatus.ADMINISTRATOR:
                raise MissingRights(Why.CREATOR_ONLY_ADMIN, which=which)
            raise MissingRights(Why.CREATOR_ONLY, which=which)

    async def ensure_still_creator(
        self, user: UserId, open_chat: ChatId, closed_chat: ChatId
    ) -> None:
        """The owner changing a channel must still have created both chats; raises
        MissingRights naming the chat they no longer own."""
        for chat, which in ((open_chat, "open"), (closed_chat, "closed")):
            rights = await self._rights(chat, user, which)
            if rights.status is not MemberStatus.CREATOR:
                raise MissingRights(Why.NO_LONGER_CREATOR, which=which, chat=chat)

    async def _rights(self, chat: ChatId, user: UserId, which: str) -> ChatRights:
        try:
            return await self._chat.rights(chat, user)
        except ChatGone as exc:
            raise MissingRights(Why.BOT_CANNOT_SEE_CREATOR, which=which) from exc
