"""ChatAccess over the Bot API: invite links, join requests, removals and rights."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from telegram import ChatMemberAdministrator
from telegram.error import BadRequest, TelegramError

from adapters.outbound.telegram.client import TelegramBotClient
from adapters.outbound.telegram.errors import has, translate
from core.domain.grant import GrantMode
from core.domain.ids import ChatId, UserId
from core.domain.money import Money
from core.domain.rights import ChatRights, MemberStatus, Right
from core.domain.stars_link import PERIOD_SECONDS
from core.ports.telegram import InviteLink, LinkGone

__all__ = ["MAX_LINK_NAME", "TelegramChatAccess"]

MAX_LINK_NAME = 32
SUBSCRIPTION_LINK_NAME = "PayGate Stars"

# Telegram's answers that mean a join request was already decided (approved: the user
# is in; declined, withdrawn or expired: there is no request any more).
_ALREADY_DECIDED = ("user_already_participant", "hide_requester_missing")
# A revoke of a link Telegram no longer knows as live: the link is unusable already.
_LINK_GONE = ("invite_hash_expired", "invite_hash_invalid", "invite_revoked_missing")
# Nobody by that id can be in the chat (deleted account, never seen).
_NO_SUCH_USER = ("participant_id_invalid", "user not found", "user_id_invalid")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class TelegramChatAccess:
    """``core.ports.telegram.ChatAccess``.

    A JOIN_REQUEST link (the default) lets nobody in by itself: each user who opens it
    sends a join request the bot approves only for the subscriber. A ONE_USE_LINK
    admits one person and expires; without an ``expires_at`` it lasts ``one_use_ttl``.
    """

    def __init__(
        self,
        client: TelegramBotClient,
        *,
        one_use_ttl: timedelta = timedelta(hours=24),
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._client = client
        self._bot = client.bot
        self._one_use_ttl = one_use_ttl
        self._now = now

    async def create_invite_link(
        self, chat_id: ChatId, name: str, mode: GrantMode, expires_at: datetime | None
    ) -> InviteLink:
        """A join-request link (approved by the bot) or a one-use link, per ``mode``."""
        name = name[:MAX_LINK_NAME]
        try:
            if mode is GrantMode.JOIN_REQUEST:
                # member_limit cannot go with creates_join_request: Telegram refuses it.
                link = await self._bot.create_chat_invite_link(
                    chat_id, expire_date=expires_at, name=name or None, creates_join_request=True
                )
            else:
                link = await self._bot.create_chat_invite_link(
                    chat_id,
                    expire_date=expires_at or self._now() + self._one_use_ttl,
                    member_limit=1,
                    name=name or None,
                )
        except TelegramError as exc:
            raise translate(exc, chat_id) from exc
        return InviteLink(link.invite_link, link.expire_date)

    async def create_subscription_link(self, chat_id: ChatId, price: Money) -> str:
        try:
            link = await self._bot.create_chat_subscription_invite_link(
                chat_id, PERIOD_SECONDS, int(price.amount), name=SUBSCRIPTION_LINK_NAME
            )
        except TelegramError as exc:
            raise translate(exc, chat_id) from exc
        return link.invite_link

    async def edit_invite_link(self, chat_id: ChatId, url: str, expires_at: datetime) -> InviteLink:
        """editChatInviteLink, restating creates_join_request so the edit cannot turn
        the subscriber's link into one that lets anybody in."""
        try:
            link = await self._bot.edit_chat_invite_link(
                chat_id, url, expire_date=expires_at, creates_join_request=True
            )
        except BadRequest as exc:
            if has(exc, *_LINK_GONE):
                raise LinkGone(f"the invite link of chat {chat_id} is gone") from exc
            raise translate(exc, chat_id) from exc
        except TelegramError as exc:
            raise translate(exc, chat_id) from exc
        if link.is_revoked:
            raise LinkGone(f"the invite link of chat {chat_id} was revoked")
        return InviteLink(link.invite_link, link.expire_date)

    async def _tolerating(
        self, call: Awaitable[object], chat_id: ChatId, harmless: tuple[str, ...]
    ) -> None:
        """Run ``call``; a Bad Request naming one of ``harmless`` means the wanted state
        already holds (idempotency), anything else is translated to the port's errors."""
        try:
            await call
        except BadRequest as exc:
            if has(exc, *harmless):
                return
            raise translate(exc, chat_id) from exc
        except TelegramError as exc:
            raise translate(exc, chat_id) from exc

    async def revoke_invite_link(self, chat_id: ChatId, url: str) -> None:
        await self._tolerating(self._bot.revoke_chat_invite_link(chat_id, url), chat_id, _LINK_GONE)

    async def approve_join_request(self, chat_id: ChatId, user_id: UserId) -> None:
        """Approving a request that was already handled is not an error."""
        await self._tolerating(
            self._bot.approve_chat_join_request(chat_id, user_id), chat_id, _ALREADY_DECIDED
        )

    async def decline_join_request(self, chat_id: ChatId, user_id: UserId) -> None:
        """Declining a request that was already handled is not an error."""
        await self._tolerating(
            self._bot.decline_chat_join_request(chat_id, user_id), chat_id, _ALREADY_DECIDED
        )

    async def remove_member(self, chat_id: ChatId, user_id: UserId) -> None:
        """The user leaves and may join again later. Idempotent.

        One call: unbanChatMember without ``only_if_banned`` removes a current member
        of a supergroup or channel and leaves them free to rejoin; for someone banned
        it lifts the ban, and for someone absent it does nothing. (Ban then unban
        would take two calls and leave a moment in which the user is banned.)"""
        try:
            await self._bot.unban_chat_member(chat_id, user_id, only_if_banned=False)
        except BadRequest as exc:
            if has(exc, *_NO_SUCH_USER):
                return  # nobody by that id can be in the chat
            raise translate(exc, chat_id) from exc
        except TelegramError as exc:
            raise translate(exc, chat_id) from exc

    async def rights(self, chat_id: ChatId, user_id: UserId) -> ChatRights:
        """A user's status and admin rights in a chat. Raises ChatGone."""
        try:
            member = await self._bot.get_chat_member(chat_id, user_id)
        except BadRequest as exc:
            if has(exc, *_NO_SUCH_USER):
                return ChatRights(MemberStatus.LEFT)
            raise translate(exc, chat_id) from exc
        except TelegramError as exc:
            raise translate(exc, chat_id) from exc
        status = MemberStatus(member.status)
        if not isinstance(member, ChatMemberAdministrator):
            return ChatRights(status)
        held = frozenset(r for r in Right if getattr(member, r.value, None) is True)
        return ChatRights(status, held)

    async def bot_rights(self, chat_id: ChatId) -> ChatRights:
        """The bot's own status and admin rights in a chat. Raises ChatGone."""
        return await self.rights(chat_id, UserId(self._client.bot_id))
