"""A fake of the bot's powers over chats: invite links, join requests, removals.

Chats, members and the bot's own rights are set up by the test; every call that acts
on a user is recorded in :attr:`InMemoryChatAccess.calls`. Where the fake and the
Telegram adapter could differ, the fake does what Telegram (through the adapter)
does: the ChatAccess contract suite runs against both.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import attrs

from adapters.outbound.memory.clock import require_utc
from adapters.outbound.memory.scripted_failures import ScriptedFailures
from core.domain.grant import GrantMode
from core.domain.ids import ChatId, UserId
from core.domain.money import Money
from core.domain.rights import BOT_RIGHTS_CLOSED, BOT_RIGHTS_OPEN, ChatRights, MemberStatus, Right
from core.ports.telegram import ChatGone, InviteLink, LinkGone, NotEnoughRights, Unavailable

MAX_LINK_NAME = 32
FULL_BOT_RIGHTS = ChatRights(MemberStatus.ADMINISTRATOR, BOT_RIGHTS_OPEN | BOT_RIGHTS_CLOSED)
_OUTSIDER = ChatRights(MemberStatus.LEFT)
_IN_CHAT = frozenset(
    {
        MemberStatus.CREATOR,
        MemberStatus.ADMINISTRATOR,
        MemberStatus.MEMBER,
        MemberStatus.RESTRICTED,
    }
)


class ChatAction(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    REMOVE = "remove"


class LinkOutcome(StrEnum):
    """What happens to a user who opens an invite link, as Telegram's apps show it."""

    JOINED = "joined"
    REQUESTED = "requested"
    """The link needs approval: a join request now waits for the bot."""
    REQUEST_PENDING = "request_pending"
    ALREADY_MEMBER = "already_member"
    BANNED = "banned"
    LINK_INVALID = "link_invalid"
    """Unknown, revoked or used up."""


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


def _utc_now() -> datetime:
    return datetime.now(UTC)


class InMemoryChatAccess:
    """Implements ChatAccess.

    Link urls are deterministic (``https://t.me/+<j|o><chat>n<n>``). The bot needs
    INVITE_USERS for links and join requests and RESTRICT_MEMBERS to remove someone,
    as in Telegram; an unknown chat is ChatGone. As through the Telegram adapter, a
    link's name is cut to 32 characters, its expiry to whole seconds, and a one-use
    link without an expiry lasts ``one_use_ttl`` from ``now()``."""

    def __init__(
        self,
        *,
        one_use_ttl: timedelta = timedelta(hours=24),
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.calls: list[ChatCall] = []
        self.links: list[IssuedLink] = []
        self.subscription_links: dict[str, tuple[ChatId, Money]] = {}
        """Live Stars subscription links: URL -> (chat, price)."""
        self.failures = ScriptedFailures()
        self._chats: dict[ChatId, _Chat] = {}
        self._one_use_ttl = one_use_ttl
        self._now = now

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

    # -- users acting --------------------------------------------------------------

    def user_opens_link(self, user_id: UserId, url: str) -> LinkOutcome:
        """A user opens an invite link: a join-request link files a request for the
        bot to answer, a one-use link lets its first user in."""
        found = next((link for link in self.links if link.url == url), None)
        if found is None or not self._usable(found):
            return LinkOutcome.LINK_INVALID
        chat = self._chat(found.chat_id)
        status = chat.members.get(user_id, _OUTSIDER).status
        if status is MemberStatus.KICKED:
            return LinkOutcome.BANNED
        if status in _IN_CHAT:
            return LinkOutcome.ALREADY_MEMBER
        if found.mode is GrantMode.JOIN_REQUEST:
            if user_id in chat.pending:
                return LinkOutcome.REQUEST_PENDING
            chat.pending.add(user_id)
            return LinkOutcome.REQUESTED
        found.used_by = user_id
        chat.members[user_id] = ChatRights(MemberStatus.MEMBER)
        return LinkOutcome.JOINED

    def request_join(self, chat_id: ChatId, user_id: UserId, url: str) -> None:
        """A user opens a join-request link of ``chat_id``: the request waits for the
        bot's answer. Raises ValueError if that cannot happen (a test's mistake)."""
        link = self._link(chat_id, url)
        if link is None or link.mode is not GrantMode.JOIN_REQUEST:
            raise ValueError(f"{url} is no join-request link of chat {chat_id}")
        outcome = self.user_opens_link(user_id, url)
        if outcome not in (LinkOutcome.REQUESTED, LinkOutcome.REQUEST_PENDING):
            raise ValueError(f"user {user_id} cannot request to join with {url}: {outcome}")

    def join_with_link(self, chat_id: ChatId, user_id: UserId, url: str) -> bool:
        """A user opens a one-use link of ``chat_id``: True if it let them in."""
        link = self._link(chat_id, url)
        if link is None or link.mode is not GrantMode.ONE_USE_LINK:
            return False
        return self.user_opens_link(user_id, url) is LinkOutcome.JOINED

    # -- inspection ----------------------------------------------------------------

    def pending_requests(self, chat_id: ChatId) -> frozenset[UserId]:
        return frozenset(self._chat(chat_id).pending)

    def status_of(self, chat_id: ChatId, user_id: UserId) -> MemberStatus:
        return self._chat(chat_id).members.get(user_id, _OUTSIDER).status

    def is_member(self, chat_id: ChatId, user_id: UserId) -> bool:
        return self.status_of(chat_id, user_id) in _IN_CHAT

    def link(self, url: str) -> IssuedLink:
        """The link issued with ``url``; KeyError if none was."""
        for link in self.links:
            if link.url == url:
                return link
        raise KeyError(url)

    # -- the port ------------------------------------------------------------------

    async def create_invite_link(
        self, chat_id: ChatId, name: str, mode: GrantMode, expires_at: datetime | None
    ) -> InviteLink:
        self._call(chat_id, Right.INVITE_USERS)
        if expires_at is None and mode is GrantMode.ONE_USE_LINK:
            expires_at = self._now() + self._one_use_ttl
        # Telegram keeps a link's expiry in whole seconds since the epoch.
        expires = (
            None
            if expires_at is None
            else require_utc(expires_at, "expires_at").replace(microsecond=0)
        )
        kind = "j" if mode is GrantMode.JOIN_REQUEST else "o"
        url = f"https://t.me/+{kind}{abs(chat_id)}n{len(self.links) + 1}"
        self.links.append(IssuedLink(chat_id, url, name[:MAX_LINK_NAME], mode, expires))
        return InviteLink(url, expires)

    async def create_subscription_link(self, chat_id: ChatId, price: Money) -> str:
        """A Stars subscription link, kept in ``subscription_links`` until revoked."""
        self._call(chat_id, Right.INVITE_USERS)
        url = f"https://t.me/+s{abs(chat_id)}n{len(self.subscription_links) + 1}"
        self.subscription_links[url] = (chat_id, price)
        return url

    async def edit_invite_link(self, chat_id: ChatId, url: str, expires_at: datetime) -> InviteLink:
        self._call(chat_id, Right.INVITE_USERS)
        link = self._link(chat_id, url)
        if link is None or link.revoked:
            raise LinkGone(f"no live invite link {url} in chat {chat_id}")
        link.expires_at = require_utc(expires_at, "expires_at").replace(microsecond=0)
        return InviteLink(url, link.expires_at)

    async def revoke_invite_link(self, chat_id: ChatId, url: str) -> None:
        """Revoking a link that is unknown or revoked already is done, not an error:
        either way nobody can use it (Telegram's answer for it is treated alike)."""
        self._call(chat_id, Right.INVITE_USERS)
        self.subscription_links.pop(url, None)
        link = self._link(chat_id, url)
        if link is not None:
            link.revoked = True

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
        """Out of the chat and free to come back, as unbanChatMember leaves them: a
        member is removed, a banned user's ban is lifted, anyone else is untouched."""
        chat = self._call(chat_id, Right.RESTRICT_MEMBERS)
        current = chat.members.get(user_id, _OUTSIDER)
        if current.is_admin:
            raise NotEnoughRights(f"user {user_id} is an administrator of chat {chat_id}")
        self.calls.append(ChatCall(ChatAction.REMOVE, chat_id, user_id))
        chat.members.pop(user_id, None)

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

    def _link(self, chat_id: ChatId, url: str) -> IssuedLink | None:
        return next((k for k in self.links if k.chat_id == chat_id and k.url == url), None)

    @staticmethod
    def _usable(link: IssuedLink) -> bool:
        # Expiry is not checked: tests run the core on a frozen clock of their own,
        # and a link's expiry is Telegram's business, decided by its clock.
        return not link.revoked and link.used_by is None
