"""What happens in the channels themselves: join requests to a closed channel,
members of a Telegram Stars subscription link (``chat_member``), and changes to the
bot's own standing (``my_chat_member``) in a registered chat."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from adapters.inbound.telegram.deps import BotDeps
from adapters.inbound.telegram.queries import ChannelViews
from adapters.inbound.telegram.replies import Context
from adapters.inbound.telegram.updates import chat_rights
from core.domain.channel import Channel
from core.domain.ids import ChatId, UserId
from core.domain.pause import PauseCause, PauseReason, encode
from core.domain.rights import BOT_RIGHTS_CLOSED, BOT_RIGHTS_OPEN, ChatRights, Right
from core.domain.stars_link import StarsLinkMember

logger = logging.getLogger("paygate.bot")


def needed_rights(channel: Channel, chat_id: ChatId) -> frozenset[Right]:
    return BOT_RIGHTS_OPEN if chat_id == channel.open_chat_id else BOT_RIGHTS_CLOSED


def lost_rights_reason(role: str, rights: ChatRights, missing: tuple[Right, ...]) -> str:
    """The stored pause reason (a code the catalog words for each reader)."""
    if not rights.is_admin:
        return encode([PauseReason(PauseCause.BOT_NOT_ADMIN, role)])
    return encode([PauseReason(PauseCause.RIGHTS_LOST, role, missing)])


class ChatEventHandlers:
    def __init__(self, deps: BotDeps, views: ChannelViews) -> None:
        self._deps = deps
        self._views = views

    async def join_request(self, update: Update, context: Context) -> None:
        """Someone opened a join-request link: the use case approves only the holder
        of an active subscription to that channel (through the outbox)."""
        request = update.chat_join_request
        if request is None:
            return
        await self._deps.join_requests.execute(
            ChatId(request.chat.id), UserId(request.from_user.id), request.date
        )

    async def chat_member(self, update: Update, context: Context) -> None:
        """Someone joined or renewed through a Stars subscription link: Telegram says
        who, through which link, and until when; the use case records it once (other
        members' changes are not PayGate's: it removes its own members itself)."""
        change = update.chat_member
        if change is None or change.invite_link is None:
            return
        if change.invite_link.subscription_price is None:
            return
        member = change.new_chat_member
        until = getattr(member, "until_date", None)
        if member.status != ChatMemberStatus.MEMBER or until is None:
            return
        report = StarsLinkMember(
            change.chat.id, member.user.id, change.invite_link.invite_link, until
        )
        await self._deps.stars_link_members.member(report)

    async def my_chat_member(self, update: Update, context: Context) -> None:
        """The bot's rights changed in a chat. Losing any right a registered chat needs
        pauses that channel's sales (the use case tells the owner); when both of its
        chats are in order again, sales resume."""
        change = update.my_chat_member
        if change is None or change.chat.type == ChatType.PRIVATE:
            return  # a person blocked or unblocked the bot: not a channel matter
        chat_id = ChatId(change.chat.id)
        channel = await self._views.by_chat(chat_id)
        if channel is None:
            return
        rights = chat_rights(change.new_chat_member)
        missing = rights.missing(needed_rights(channel, chat_id))
        if missing:
            role = "open" if chat_id == channel.open_chat_id else "closed"
            await self._deps.sales.pause(chat_id, lost_rights_reason(role, rights, missing))
            return
        if not channel.sales_paused:
            return
        other = channel.closed_chat_id if chat_id == channel.open_chat_id else channel.open_chat_id
        try:
            member = await context.bot.get_chat_member(other, context.bot.id)
        except TelegramError:
            logger.warning(
                "could not check the bot's rights in chat %s; sales stay as they are", other
            )
            return
        if chat_rights(member).missing(needed_rights(channel, other)):
            return
        await self._deps.sales.resume(chat_id)
