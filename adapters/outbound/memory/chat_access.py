"""A fake of the bot's powers over chats: invite links, join requests, removals.

Chats, members and the bot's own rights are set up by the test; every call that acts
on a user is recorded in :attr:`InMemoryChatAccess.calls`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import attrs

from adapters.outbound.memory.clock import require_utc
from adapters.outbound.memory.scripted_failures import ScriptedFailures
from core.domain.grant import GrantMode
from core.domain.ids import ChatId, UserId
from core.domain.rights import BOT_RIGHTS_CLOSED, BOT_RIGHTS_OPEN, ChatRights, MemberStatus, Right
from core.ports.errors import NotFound
from core.ports.telegram import ChatGone, InviteLink, NotEnoughRights, Unavailable

MAX_LINK_NAME = 32
FULL_BOT_RIGHTS = ChatRights(MemberStatus.ADMINISTRATOR, BOT_RIGHTS_OPEN | BOT_RIGHTS_CLOSED)
_OUTSIDER = ChatRights(MemberStatus.LEFT)
_IN_CHAT = frozenset({MemberStatus.MEMBER, MemberStatus.RESTRICTED})


class ChatAction(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    REMOVE = "remove"


@attrs.frozen
class ChatCall:
    action: ChatAction
    chat_id: ChatId
    user_id: UserId


@attrs.define
class IssuedLink:
    chat_id: ChatId
    url: str
    name: str
    mode: GrantMode
    expires_at: datetime | None
    revoked: bool = False
    used_by: UserId | None = None


@attrs.define
class _Chat:
    bot: ChatRights
    members: dict[UserId, ChatRights] = attrs.field(factory=dict)
    pending: set[UserId] = attrs.field(factory=set)


class InMemoryChatAccess:
    """Implements ChatAccess.

    Link urls are deterministic (``https://t.me/+<j|o><chat><n>``). The bot needs
    INVITE_USERS for links and join requests and RESTRICT_MEMBERS to remove someone,
    as in Telegram; an unknown chat is ChatGone."""

    def __init__(self) -> None:
        self.calls: list[ChatCall] = []
        self.links: list[IssuedLink] = []
        self.failures = ScriptedFailures()
        self._chats: dict[ChatId, _Chat] = {}

    # -- set-up by tests ---------------------------------------------------------

    def add_chat(self, chat_id: ChatId, bot: ChatRights = FULL_BOT_RIGHTS) -> None:
        self._chats[chat_id] = _Chat(bot)

    def set_bot_rights(self, chat_id: ChatId, bot: ChatRights) -> None:
        self._chat(chat_id).bot = bot

    def set_member(self, chat_id: ChatId, user_id: UserId, rights: ChatRights) -> None:
        self._chat(chat_id).members[user_id] = rights

    def forget_chat(self, chat_id: ChatId) -> None:
        """The chat was deleted or the bot was thrown out of it."""
        self._chats.pop(chat_id, None)

    def fail_next(self, count: int = 1, retry_after: float | None = None) -> None:
        message = "flood control" if retry_after is not None else "telegram unreachable"
        self.failures.arm(Unavailable(message, retry_after=retry_after), count)

    def request_join(self, chat_id: ChatId, user_id: UserId, url: str) -> None:
        """A user opens a join-request link: the request waits for the bot's answer."""
        link = self._link(chat_id, url)
        if link.revoked or link.mode is not GrantMode.JOIN_REQUEST:
            raise ValueError(f"{url} does not take join requests")
        self._chat(chat_id).pending.add(user_id)

    def join_with_link(self, chat_id: ChatId, user_id: UserId, url: str) -> bool:
        """A user opens a one-use link: True if it let them in."""
        link = self._link(chat_id, url)
        if link.mode is not GrantMode.ONE_USE_LINK or link.revoked or link.used_by is not None:
            return False
        link.used_by = user_id
        self._chat(chat_id).members[user_id] = ChatRights(MemberStatus.MEMBER)
        return True

    def pending_requests(self, chat_id: ChatId) -> frozenset[UserId]:
        return frozenset(self._chat(chat_id).pending)

    def is_member(self, chat_id: ChatId, user_id: UserId) -> bool:
        rights = self._chat(chat_id).members.get(user_id, _OUTSIDER)
        return rights.status not in (MemberStatus.LEFT, MemberStatus.KICKED)

    # -- the port ------------------------------------------------------------------

    async def create_invite_link(
        self, chat_id: ChatId, name: str, mode: GrantMode, expires_at: datetime | None
    ) -> InviteLink:
        self._call(chat_id, Right.INVITE_USERS)
        if len(name) > MAX_LINK_NAME:
            raise ValueError(f"an invite link's name is at most {MAX_LINK_NAME} characters")
        expires = None if expires_at is None else require_utc(expires_at, "expires_at")
        kind = "j" if mode is GrantMode.JOIN_REQUEST else "o"
        url = f"https://t.me/+{kind}{abs(chat_id)}n{len(self.links) + 1}"
        self.links.append(IssuedLink(chat_id, url, name, mode, expires))
        return InviteLink(url, expires)

    async def revoke_invite_link(self, chat_id: ChatId, url: str) -> None:
        self._call(chat_id, Right.INVITE_USERS)
        self._link(chat_id, url).revoked = True

    async def approve_join_request(self, chat_id: ChatId, user_id: UserId) -> None:
        chat = self._call(chat_id, Right.INVITE_USERS)
        self.calls.append(ChatCall(ChatAction.APPROVE, chat_id, user_id))
        if user_id in chat.pending:
            chat.pending.discard(user_id)
            chat.members[user_id] = ChatRights(MemberStatus.MEMBER)

    async def decline_join_request(self, chat_id: ChatId, user_id: UserId) -> None:
        chat = self._call(chat_id, Right.INVITE_USERS)
        self.calls.append(ChatCall(ChatAction.DECLINE, chat_id, user_id))
        chat.pending.discard(user_id)

    async def remove_member(self, chat_id: ChatId, user_id: UserId) -> None:
        chat = self._call(chat_id, Right.RESTRICT_MEMBERS)
        current = chat.members.get(user_id, _OUTSIDER)
        if current.is_admin:
            raise NotEnoughRights(f"user {user_id} is an administrator of chat {chat_id}")
        self.calls.append(ChatCall(ChatAction.REMOVE, chat_id, user_id))
        if current.status in _IN_CHAT:
            # Out of the chat, free to come back with a new link (unbanChatMember).
            chat.members[user_id] = _OUTSIDER

    async def rights(self, chat_id: ChatId, user_id: UserId) -> ChatRights:
        self.failures.check()
        return self._chat(chat_id).members.get(user_id, _OUTSIDER)

    async def bot_rights(self, chat_id: ChatId) -> ChatRights:
        self.failures.check()
        return self._chat(chat_id).bot

    # -- internals -------------------------------------------------------------------

    def _chat(self, chat_id: ChatId) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise ChatGone(f"chat {chat_id} does not exist or the bot is not in it")
        return chat

    def _call(self, chat_id: ChatId, needed: Right) -> _Chat:
        self.failures.check()
        chat = self._chat(chat_id)
        if not (chat.bot.is_admin and chat.bot.has(needed)):
            raise NotEnoughRights(f"the bot lacks {needed} in chat {chat_id}")
        return chat

    def _link(self, chat_id: ChatId, url: str) -> IssuedLink:
        for link in self.links:
            if link.chat_id == chat_id and link.url == url:
                return link
        raise NotFound(f"no invite link {url} in chat {chat_id}")
