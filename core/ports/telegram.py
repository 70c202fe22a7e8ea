"""What the core needs from Telegram: messages and access to chats."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import attrs

from core.domain.grant import GrantMode
from core.domain.ids import ChatId, MessageId, UserId
from core.domain.messages import Notice
from core.domain.money import Money
from core.domain.rights import ChatRights
from core.ports.errors import NotFound, PortError, Unavailable

__all__ = [
    "ChatAccess",
    "ChatGone",
    "InviteLink",
    "LinkGone",
    "MessageGone",
    "Messenger",
    "NotEnoughRights",
    "RecipientUnreachable",
    "Unavailable",
]


class ChatGone(PortError):
    """The chat does not exist or the bot is no longer in it."""


class LinkGone(PortError):
    """The invite link was revoked, or Telegram no longer knows it."""


class NotEnoughRights(PortError):
    """The bot lacks the admin right this call needs."""


class MessageGone(NotFound):
    """The message is not in the chat (any more): someone deleted it. Telegram tells
    the bot nothing when that happens; editing the message is how the bot finds out."""


class RecipientUnreachable(PortError):
    """The user blocked the bot or never started it: retrying will not help."""


@attrs.frozen
class InviteLink:
    url: str
    expires_at: datetime | None = None


class Messenger(Protocol):
    """Sends notices: the adapter renders each into the words and buttons people see."""

    async def send(self, chat_id: ChatId, message: Notice) -> MessageId: ...

    async def edit(self, chat_id: ChatId, message_id: MessageId, message: Notice) -> None:
        """An edit that changes nothing is done (the message is there as asked).
        Raises MessageGone when the message is not in the chat."""
        ...

    async def delete(self, chat_id: ChatId, message_id: MessageId) -> None:
        """Deleting a message that is already gone is not an error."""
        ...


class ChatAccess(Protocol):
    async def create_invite_link(
        self, chat_id: ChatId, name: str, mode: GrantMode, expires_at: datetime | None
    ) -> InviteLink:
        """A join-request link (approved by the bot) or a one-use link, per ``mode``."""
        ...

    async def edit_invite_link(self, chat_id: ChatId, url: str, expires_at: datetime) -> InviteLink:
        """Make a join-request link (one the bot created) expire at ``expires_at``
        instead. Raises LinkGone when the link was revoked or is unknown."""
        ...

    async def revoke_invite_link(self, chat_id: ChatId, url: str) -> None: ...

    async def create_subscription_link(self, chat_id: ChatId, price: Money) -> str:
        """Telegram's own Stars subscription link to a channel (``price`` in Stars every
        30 days, Telegram charging and removing); its URL. Raises the port's errors
        when the chat is not a channel or the bot may not invite."""
        ...

    async def approve_join_request(self, chat_id: ChatId, user_id: UserId) -> None:
        """Approving a request that was already handled is not an error."""
        ...

    async def decline_join_request(self, chat_id: ChatId, user_id: UserId) -> None:
        """Declining a request that was already handled is not an error."""
        ...

    async def remove_member(self, chat_id: ChatId, user_id: UserId) -> None:
        """The user leaves and may join again later (by paying again). One API call
        where the platform allows it; removing a non-member is not an error."""
        ...

    async def rights(self, chat_id: ChatId, user_id: UserId) -> ChatRights:
        """A user's status and admin rights in a chat. Raises ChatGone."""
        ...

    async def bot_rights(self, chat_id: ChatId) -> ChatRights:
        """The bot's own status and admin rights in a chat. Raises ChatGone."""
        ...
