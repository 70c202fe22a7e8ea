"""Reading python-telegram-bot objects into domain values."""

from __future__ import annotations

from telegram import (
    ChatMember,
    ChatMemberAdministrator,
    Message,
    MessageOriginChannel,
    MessageOriginChat,
)

from core.domain.rights import ChatRights, MemberStatus, Right


def chat_rights(member: ChatMember) -> ChatRights:
    """A ChatMember (getChatMember, my_chat_member) as the domain's ChatRights."""
    status = MemberStatus(member.status)
    if not isinstance(member, ChatMemberAdministrator):
        return ChatRights(status)
    held = frozenset(right for right in Right if getattr(member, right.value, None) is True)
    return ChatRights(status, held)


def forwarded_chat_id(message: Message) -> int | None:
    """The channel (or group) a forwarded message came from; None if not forwarded
    from a chat (a user's message, or one whose origin is hidden)."""
    origin = message.forward_origin
    if isinstance(origin, MessageOriginChannel):
        return origin.chat.id
    if isinstance(origin, MessageOriginChat):
        return origin.sender_chat.id
    return None
