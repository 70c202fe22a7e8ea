"""The emulated Telegram as tests set it up and as its users act in it.

Setting up (``add_user``, ``add_chat``, ``set_member``, ``set_bot_rights``) changes
state directly. Users acting (``user_sends``, ``user_presses``, ``user_opens_login``,
``user_opens_link``, ``user_leaves``, ``user_blocks_bot``) change state the way
Telegram would and queue the updates the bot would receive.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from sandbox.telegram.login import signed_login_url
from sandbox.telegram.model import (
    ALL_RIGHTS,
    IN_CHAT,
    JSON,
    RESTRICTED_PERMISSIONS,
    Chat,
    ChatType,
    InviteLink,
    JoinRequest,
    Member,
    Message,
    Status,
    User,
    member_json,
    message_json,
)
from sandbox.telegram.stars import (
    PRE_CHECKOUT_DEADLINE,
    STARS,
    Charge,
    PayOutcome,
    PayResult,
    StarsInvoice,
    StarsLedger,
    successful_payment_json,
)
from sandbox.telegram.updates import UpdateHub

TOKEN_PATTERN = re.compile(r"\A(\d{1,20}):[A-Za-z0-9_-]{30,50}\Z")

REQUESTER_CONTACT_SECONDS = 5 * 60
"""A bot may write to someone with a pending join request for five minutes."""

DEFAULT_BOT_RIGHTS = {
    ChatType.CHANNEL: frozenset(
        {
            "can_post_messages",
            "can_edit_messages",
            "can_delete_messages",
            "can_invite_users",
            "can_restrict_members",
        }
    ),
    ChatType.SUPERGROUP: frozenset(
        {"can_delete_messages", "can_invite_users", "can_restrict_members", "can_pin_messages"}
    ),
    ChatType.GROUP: frozenset(
        {"can_delete_messages", "can_invite_users", "can_restrict_members", "can_pin_messages"}
    ),
}


class JoinOutcome(StrEnum):
    JOINED = "joined"
    REQUESTED = "requested"
    """The link needs approval: a join request is pending."""
    REQUEST_PENDING = "request_pending"
    ALREADY_MEMBER = "already_member"
    BANNED = "banned"
    LINK_INVALID = "link_invalid"
    """Unknown, revoked, expired or used up."""


@dataclass
class CallbackQuery:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False
    answer_text: str | None = None
    show_alert: bool = False


def new_token() -> str:
    return f"{secrets.randbelow(9 * 10**9) + 10**9}:{secrets.token_urlsafe(26)[:35]}"


BotCommand = tuple[str, str]
"""A menu entry: the command (without its slash) and its description."""
CommandScope = tuple[str, int, int]
"""A BotCommandScope as (type, chat id, user id); 0 where the type has none."""


class World:
    def __init__(
        self,
        token: str | None = None,
        *,
        bot_username: str = "paygate_test_bot",
        wall_clock: Callable[[], float] = time.time,
        webhook_retry_delay: float = 1.0,
        webhook_retry_max_delay: float = 30.0,
    ) -> None:
        self.token = token or new_token()
        match = TOKEN_PATTERN.match(self.token)
        if match is None:
            raise ValueError("a bot token looks like <digits>:<30-50 letters, digits, _ or ->")
        self._wall_clock = wall_clock
        self.bot = User(int(match.group(1)), "PayGate Test Bot", bot_username, is_bot=True)
        self.users: dict[int, User] = {self.bot.id: self.bot}
        self.chats: dict[int, Chat] = {}
        self.callback_queries: dict[str, CallbackQuery] = {}
        self._private_messages: dict[int, Chat] = {}
        self.commands: dict[tuple[CommandScope, str], list[BotCommand]] = {}
        """setMyCommands: the menu per (scope, language code; "" for every language)."""
        self.stars = StarsLedger()
        self.channel_subscriptions: dict[tuple[int, int], str] = {}
        """(channel, user) -> the charge that started their Stars subscription link's
        subscription (its renewals are the ledger's)."""
        self.pre_checkout_deadline = PRE_CHECKOUT_DEADLINE
        """Seconds a pre-checkout query waits for the bot's answer (Telegram: 10)."""
        self.hub = UpdateHub(
            webhook_retry_delay=webhook_retry_delay,
            webhook_retry_max_delay=webhook_retry_max_delay,
            wall_clock=wall_clock,
        )

    def now(self) -> int:
        return int(self._wall_clock())

    # -------------------------------------------------------------- commands
    def menu_in_private_chat(self, user_id: int) -> list[BotCommand]:
        """The command menu a user sees in their private chat with the bot, resolved as
        Telegram documents: the chat's own scope, then all private chats, then the
        default, each first in the user's language and then for every language."""
        user = self.users[user_id]
        language = (user.language_code or "").split("-")[0].lower()
        for scope in (("chat", user_id, 0), ("all_private_chats", 0, 0), ("default", 0, 0)):
            for code in (language, "") if language else ("",):
                found = self.commands.get((scope, code))
                if found:
                    return found
        return []

    # ----------------------------------------------------------------- setup
    def add_user(
        self,
        user_id: int,
        first_name: str = "User",
        *,
        username: str | None = None,
        started_bot: bool = True,
        language_code: str | None = None,
    ) -> User:
        """A Telegram user. ``started_bot`` says whether they opened a chat with the bot;
        ``language_code`` is their app's language, as updates carry it."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        user = User(
            user_id, first_name, username, started_bot=started_bot, language_code=language_code
        )
        self.users[user_id] = user
        return user

    def add_chat(
        self,
        chat_id: int,
        chat_type: ChatType | str,
        title: str = "Chat",
        *,
        username: str | None = None,
        bot_status: Status | str = Status.ADMINISTRATOR,
        bot_rights: Iterable[str] | None = None,
        creator_id: int | None = None,
    ) -> Chat:
        """A group, supergroup or channel with the bot in it (an administrator with the
        usual rights for that kind of chat unless told otherwise). Private chats are
        the users themselves."""
        kind = ChatType(chat_type)
        if kind is ChatType.PRIVATE:
            raise ValueError("a private chat is a user: add_user")
        if chat_id >= 0:
            raise ValueError("group and channel ids are negative")
        chat = Chat(chat_id, kind, title, username)
        self.chats[chat_id] = chat
        rights = DEFAULT_BOT_RIGHTS[kind] if bot_rights is None else frozenset(bot_rights)
        _check_rights(rights)
        chat.members[self.bot.id] = Member(self.bot.id, Status(bot_status), rights)
        if creator_id is not None:
            self._user(creator_id)
            chat.members[creator_id] = Member(creator_id, Status.CREATOR)
        return chat

    def remove_chat(self, chat_id: int) -> None:
        """The chat is deleted: the bot's calls now find no chat."""
        del self.chats[chat_id]

    def set_member(
        self,
        chat_id: int,
        user_id: int,
        status: Status | str = Status.MEMBER,
        rights: Iterable[str] = (),
    ) -> None:
        chat = self.chat(chat_id)
        self._user(user_id)
        granted = frozenset(rights)
        if Status(status) is Status.RESTRICTED:
            _check_permissions(granted)
        else:
            _check_rights(granted)
        chat.members[user_id] = Member(user_id, Status(status), granted)

    def set_admin(self, chat_id: int, user_id: int, *rights: str) -> None:
        self.set_member(chat_id, user_id, Status.ADMINISTRATOR, rights)

    def set_bot_rights(
        self, chat_id: int, status: Status | str, rights: Iterable[str] = ()
    ) -> None:
        """Change the bot's own standing in a chat; the bot is told (my_chat_member)."""
        chat = self.chat(chat_id)
        old = member_json(chat, self.bot)
        granted = frozenset(rights)
        _check_rights(granted)
        chat.members[self.bot.id] = Member(self.bot.id, Status(status), granted)
        creator = next(
            (self.users[m.user_id] for m in chat.members.values() if m.status is Status.CREATOR),
            self.bot,
        )
        self.hub.emit(
            "my_chat_member",
            {
                "chat": chat.to_json(),
                "from": creator.to_json(),
                "date": self.now(),
                "old_chat_member": old,
                "new_chat_member": member_json(chat, self.bot),
            },
        )

    # ------------------------------------------------------------ inspection
    def chat(self, chat_id: int) -> Chat:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise KeyError(f"no chat {chat_id} in the emulator")
        return chat

    def status_of(self, chat_id: int, user_id: int) -> Status:
        return self.chat(chat_id).status_of(user_id)

    def pending_requests(self, chat_id: int) -> list[int]:
        return list(self.chat(chat_id).join_requests)

    def links(self, chat_id: int) -> list[InviteLink]:
        return list(self.chat(chat_id).links.values())

    def messages(self, chat_id: int) -> list[Message]:
        """Messages in a chat, oldest first (a private chat's id is its user's id)."""
        chat = self.chats.get(chat_id) or self._private_messages.get(chat_id)
        return [] if chat is None else list(chat.messages.values())

    # ----------------------------------------------------------- users acting
    def user_sends(self, user_id: int, text: str) -> JSON:
        """The user writes to the bot in their private chat (``/start payload`` too)."""
        user = self._user(user_id)
        if user.blocked_bot:
            # Writing to a blocked bot unblocks it, as Telegram's apps do.
            self.user_unblocks_bot(user_id)
        user.started_bot = True
        chat = self.private_chat(user)
        message = Message(chat.next_message_id, user.id, self.now(), text, user.id)
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        payload = message_json(message, chat, user, user)
        self.hub.emit("message", payload)
        return payload

    def user_presses(self, user_id: int, chat_id: int, message_id: int, data: str) -> str:
        """The user presses an inline button; returns the callback query id."""
        user = self._user(user_id)
        chat = self.chats.get(chat_id) or self._private_messages.get(chat_id)
        message = None if chat is None else chat.messages.get(message_id)
        if chat is None or message is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        if not message.shows_button(data):
            raise ValueError(f"message {message_id} has no button with callback_data {data!r}")
        query_id = str(secrets.randbits(63))
        self.callback_queries[query_id] = CallbackQuery(
            query_id, user.id, chat_id, message_id, data
        )
        sender = self.users.get(message.from_id, self.bot)
        private_user = user if chat.type is ChatType.PRIVATE else None
        self.hub.emit(
            "callback_query",
            {
                "id": query_id,
                "from": user.to_json(),
                "message": message_json(message, chat, sender, private_user),
                "chat_instance": str(abs(chat_id) * 7919 % 10**12),
                "data": data,
            },
        )
        return query_id

    async def user_pays(self, user_id: int, url: str) -> PayResult:
        """The user taps Pay on a Stars invoice link: Telegram sends the bot a
        pre-checkout query and waits for its answer (10 s); on yes the Stars are
        charged and a ``successful_payment`` message reaches the bot."""
        user = self._user(user_id)
        invoice = self.stars.invoices.get(url)
        if invoice is None:
            return PayResult(PayOutcome.UNKNOWN_INVOICE)
        query_id, pending = self.stars.ask(user.id, invoice)
        self.hub.emit(
            "pre_checkout_query",
            {
                "id": query_id,
                "from": user.to_json(),
                "currency": STARS,
                "total_amount": invoice.amount,
                "invoice_payload": invoice.payload,
            },
        )
        try:
            async with asyncio.timeout(self.pre_checkout_deadline):
                ok, error_message = await pending.answer
        except TimeoutError:
            self.stars.pending.pop(query_id, None)
            return PayResult(PayOutcome.TIMED_OUT)
        if not ok:
            return PayResult(PayOutcome.REFUSED, error_message=error_message)
        charge = self.stars.charge(user.id, invoice, self.now())
        self._payment_message(user, charge)
        return PayResult(PayOutcome.PAID, charge_id=charge.charge_id)

    def subscription_renews(self, charge_id: str) -> PayResult:
        """The period of the Stars subscription started by ``charge_id`` ends and
        Telegram charges the next one (no pre-checkout query): the bot gets a new
        ``successful_payment``; nothing happens to a canceled subscription."""
        subscription = self.stars.subscriptions.get(charge_id)
        if subscription is None:
            raise KeyError(f"no Stars subscription {charge_id!r}")
        charge = self.stars.renew(charge_id)
        if charge is None:
            return PayResult(PayOutcome.CANCELED)
        self._payment_message(self._user(subscription.user_id), charge)
        return PayResult(PayOutcome.PAID, charge_id=charge.charge_id)

    def user_edits_subscription(self, user_id: int, charge_id: str, canceled: bool) -> bool:
        """The user cancels (or re-enables) a Stars subscription in their app; the bot
        is not told."""
        return self.stars.user_edits_subscription(user_id, charge_id, canceled)

    def _payment_message(self, user: User, charge: Charge) -> None:
        user.started_bot = True
        chat = self.private_chat(user)
        message = Message(chat.next_message_id, user.id, self.now(), "", user.id)
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        payload = message_json(message, chat, user, user)
        del payload["text"]  # a service message: the payment, no text
        payload["successful_payment"] = successful_payment_json(charge)
        self.hub.emit("message", payload)

    def user_opens_login(self, user_id: int, chat_id: int, message_id: int, text: str) -> str:
        """The user taps the ``login_url`` button labelled ``text``; the URL their
        browser opens, their identity signed with the bot's token as Telegram does."""
        user = self._user(user_id)
        chat = self.chats.get(chat_id) or self._private_messages.get(chat_id)
        message = None if chat is None else chat.messages.get(message_id)
        if chat is None or message is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        rows = (message.reply_markup or {}).get("inline_keyboard", [])
        for row in rows:
            for button in row:
                if button.get("text") == text and isinstance(button.get("login_url"), dict):
                    return signed_login_url(
                        button["login_url"]["url"], user, self.token, self.now()
                    )
        raise ValueError(f"message {message_id} has no login button {text!r}")

    def user_opens_link(self, user_id: int, url: str) -> JoinOutcome:
        """The user opens an invite link, as Telegram's apps would let them."""
        user = self._user(user_id)
        found = self._find_link(url)
        if found is None:
            return JoinOutcome.LINK_INVALID
        chat, link = found
        if not self.link_usable(chat, link):
            return JoinOutcome.LINK_INVALID
        status = chat.status_of(user.id)
        if status is Status.KICKED:
            return JoinOutcome.BANNED
        if status in IN_CHAT:
            return JoinOutcome.ALREADY_MEMBER
        if link.subscription_price is not None:
            self._join_paying(chat, user, link)
            return JoinOutcome.JOINED
        if link.creates_join_request:
            if user.id in chat.join_requests:
                return JoinOutcome.REQUEST_PENDING
            request = JoinRequest(user.id, self.now(), link.url)
            chat.join_requests[user.id] = request
            if self.bot_has(chat, "can_invite_users"):
                self.hub.emit(
                    "chat_join_request",
                    {
                        "chat": chat.to_json(),
                        "from": user.to_json(),
                        "user_chat_id": user.id,
                        "date": request.date,
                        "invite_link": link.to_json(self.bot, chat),
                    },
                )
            return JoinOutcome.REQUESTED
        self.join(chat, user, link, actor=user)
        return JoinOutcome.JOINED

    def _join_paying(self, chat: Chat, user: User, link: InviteLink) -> None:
        """Joining through a subscription link: Telegram charges the Stars itself (the
        bot gets no invoice, query or payment message) and the member's ``until_date``
        is the end of the paid period; the bot hears it as a chat_member update."""
        invoice = StarsInvoice(
            link.url, chat.title or "", "", "", link.subscription_price or 0,
            link.subscription_period,
        )  # fmt: skip
        charge = self.stars.charge(user.id, invoice, self.now())
        self.channel_subscriptions[(chat.id, user.id)] = charge.charge_id
        self.change_status(
            chat, user, Status.MEMBER, actor=user, link=link, until_date=charge.expires or 0
        )

    def channel_subscription(self, chat_id: int, user_id: int) -> str | None:
        """The charge that started the user's subscription to the channel, if any (what
        :meth:`user_edits_subscription` names to cancel it)."""
        return self.channel_subscriptions.get((chat_id, user_id))

    def channel_subscription_renews(self, chat_id: int, user_id: int) -> PayResult:
        """The paid period ends: Telegram charges the next one and moves the member's
        ``until_date`` on (a chat_member update, invite link and all); a canceled
        subscription lapses instead and Telegram removes the member itself."""
        charge_id = self.channel_subscriptions.get((chat_id, user_id))
        if charge_id is None:
            raise KeyError(f"user {user_id} has no subscription to chat {chat_id}")
        chat, user = self.chat(chat_id), self._user(user_id)
        link = chat.links.get(self.stars.subscriptions[charge_id].invoice.url)
        charge = self.stars.renew(charge_id)
        if charge is None:
            del self.channel_subscriptions[(chat_id, user_id)]
            if chat.status_of(user.id) is Status.MEMBER:
                self.change_status(chat, user, Status.LEFT, actor=user)
            return PayResult(PayOutcome.CANCELED)
        if chat.status_of(user.id) is Status.MEMBER:
            self.change_status(
                chat, user, Status.MEMBER, actor=user, link=link, until_date=charge.expires or 0
            )
        return PayResult(PayOutcome.PAID, charge_id=charge.charge_id)

    def user_leaves(self, chat_id: int, user_id: int) -> None:
        chat = self.chat(chat_id)
        user = self._user(user_id)
        if chat.status_of(user.id) in IN_CHAT:
            self.change_status(chat, user, Status.LEFT, actor=user)

    def admin_deletes_message(self, chat_id: int, message_id: int) -> None:
        """An administrator deleted a message by hand. Telegram sends the bot no update
        for it: editing the message now answers "message to edit not found"."""
        self.chat(chat_id).messages.pop(message_id, None)

    def user_blocks_bot(self, user_id: int) -> None:
        user = self._user(user_id)
        if not user.blocked_bot:
            user.blocked_bot = True
            self._private_status_changed(user, "member", "kicked")

    def user_unblocks_bot(self, user_id: int) -> None:
        user = self._user(user_id)
        if user.blocked_bot:
            user.blocked_bot = False
            self._private_status_changed(user, "kicked", "member")

    # ------------------------------------------------------ shared mechanics
    def private_chat(self, user: User) -> Chat:
        chat = self._private_messages.get(user.id)
        if chat is None:
            chat = self._private_messages[user.id] = Chat(user.id, ChatType.PRIVATE)
        return chat

    def may_contact(self, user: User) -> bool:
        """The bot may write to a user who started it, or who asked to join one of its
        chats within the last five minutes and is still waiting."""
        if user.started_bot:
            return True
        now = self.now()
        return any(
            (request := chat.join_requests.get(user.id)) is not None
            and now - request.date <= REQUESTER_CONTACT_SECONDS
            and self.bot_has(chat, "can_invite_users")
            for chat in self.chats.values()
        )

    def bot_has(self, chat: Chat, right: str) -> bool:
        member = chat.members.get(self.bot.id)
        if member is None:
            return False
        if member.status is Status.CREATOR:
            return True
        return member.status is Status.ADMINISTRATOR and right in member.rights

    def link_usable(self, chat: Chat, link: InviteLink) -> bool:
        if link.is_revoked:
            return False
        if link.expire_date is not None and link.expire_date <= self.now():
            return False
        return link.member_limit is None or len(link.joined) < link.member_limit

    def join(self, chat: Chat, user: User, link: InviteLink | None, actor: User) -> None:
        chat.join_requests.pop(user.id, None)
        self.change_status(chat, user, Status.MEMBER, actor=actor, link=link)

    def change_status(
        self,
        chat: Chat,
        user: User,
        status: Status,
        *,
        actor: User,
        link: InviteLink | None = None,
        until_date: int = 0,
    ) -> None:
        """Move a user to ``status``, keep the links' counts right, tell the bot."""
        old = member_json(chat, user)
        previous = chat.members.get(user.id)
        if previous is not None and previous.joined_via is not None:
            via = chat.links.get(previous.joined_via)
            if via is not None:
                via.joined.discard(user.id)
        if status is Status.LEFT:
            chat.members.pop(user.id, None)
        else:
            joined_via = link.url if link is not None and status is Status.MEMBER else None
            chat.members[user.id] = Member(
                user.id, status, until_date=until_date, joined_via=joined_via
            )
            if joined_via is not None and link is not None:
                link.joined.add(user.id)
        if status is Status.KICKED:
            chat.join_requests.pop(user.id, None)
        if not self._bot_is_admin(chat):
            return  # only administrator bots hear about other members
        update: JSON = {
            "chat": chat.to_json(),
            "from": actor.to_json(),
            "date": self.now(),
            "old_chat_member": old,
            "new_chat_member": member_json(chat, user),
        }
        if link is not None:
            update["invite_link"] = link.to_json(self.bot, chat)
        self.hub.emit("chat_member", update)

    def _bot_is_admin(self, chat: Chat) -> bool:
        return chat.status_of(self.bot.id) in (Status.CREATOR, Status.ADMINISTRATOR)

    def _private_status_changed(self, user: User, old: str, new: str) -> None:
        chat = self.private_chat(user)
        self.hub.emit(
            "my_chat_member",
            {
                "chat": chat.to_json(user),
                "from": user.to_json(),
                "date": self.now(),
                # A "kicked" member always carries until_date (0: forever), old or new.
                "old_chat_member": {"user": self.bot.to_json(), "status": old}
                | ({"until_date": 0} if old == "kicked" else {}),
                "new_chat_member": {"user": self.bot.to_json(), "status": new}
                | ({"until_date": 0} if new == "kicked" else {}),
            },
        )

    def _find_link(self, url: str) -> tuple[Chat, InviteLink] | None:
        for chat in self.chats.values():
            link = chat.links.get(url)
            if link is not None:
                return chat, link
        return None

    def _user(self, user_id: int) -> User:
        user = self.users.get(user_id)
        if user is None:
            user = self.add_user(user_id, f"User {user_id}", started_bot=False)
        return user

    def new_link_url(self) -> str:
        return "https://t.me/+" + secrets.token_urlsafe(12)[:16]


def _check_permissions(permissions: frozenset[str]) -> None:
    unknown = permissions - frozenset(RESTRICTED_PERMISSIONS)
    if unknown:
        raise ValueError(f"unknown member permissions: {sorted(unknown)}")


def _check_rights(rights: frozenset[str]) -> None:
    unknown = rights - ALL_RIGHTS
    if unknown:
        raise ValueError(f"unknown administrator rights: {sorted(unknown)}")
