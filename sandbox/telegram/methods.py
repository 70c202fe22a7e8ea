"""The Bot API methods the emulator serves, with Telegram's checks in Telegram's order.

Parameters arrive as the real server takes them: JSON values, or strings from a
query string or form (numbers as digits, booleans as ``true``/``false``, objects as
JSON text).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sandbox.telegram import errors as e
from sandbox.telegram.errors import bad_request, forbidden
from sandbox.telegram.html import HtmlRefused, parse_html
from sandbox.telegram.model import (
    IN_CHAT,
    JSON,
    Chat,
    ChatType,
    InviteLink,
    Message,
    Status,
    User,
    member_json,
    message_json,
)
from sandbox.telegram.stars import (
    MAX_SUBSCRIPTION_STARS,
    SUBSCRIPTION_PERIOD,
    SUBSCRIPTION_PERIOD_INVALID,
    SUBSCRIPTION_PRICE_INVALID,
)
from sandbox.telegram.updates import Webhook
from sandbox.telegram.world import BotCommand, CommandScope, World

_COMMAND = re.compile(r"\A[a-z0-9_]{1,32}\Z")
_LANGUAGE = re.compile(r"\A[a-z]{2}\Z")
_MAX_COMMANDS = 100
_MAX_DESCRIPTION = 256
_PLAIN_SCOPES = frozenset(
    {"default", "all_private_chats", "all_group_chats", "all_chat_administrators"}
)
_CHAT_SCOPES = frozenset({"chat", "chat_administrators", "chat_member"})

MAX_TEXT = 4096
MAX_LINK_NAME = 32
MAX_MEMBER_LIMIT = 99_999
DELETE_WINDOW = 48 * 3600
SECRET_TOKEN = re.compile(r"\A[A-Za-z0-9_-]+\Z")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
BAN_FOREVER_BELOW = 30
BAN_FOREVER_ABOVE = 366 * 86400


@dataclass(frozen=True)
class Described:
    """A result that Telegram answers with a description beside it (setWebhook)."""

    result: Any
    description: str


class Params:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def has(self, name: str) -> bool:
        return self.raw.get(name) not in (None, "")

    def text(self, name: str) -> str | None:
        value = self.raw.get(name)
        return None if value is None else value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str) -> int | None:
        value = self.raw.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        value = self.raw.get(name)
        if isinstance(value, bool):
            return value
        if value is None:
            return False
        return str(value).strip().lower() in {"true", "1"}

    def obj(self, name: str) -> Any:
        value = self.raw.get(name)
        if isinstance(value, str):
            if not value.strip():
                return None
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value


Handler = Callable[[Params], Awaitable[Any]]


class BotApi:
    def __init__(self, world: World) -> None:
        self.world = world
        self.handlers: dict[str, Handler] = {
            "getMe": self.get_me,
            "sendMessage": self.send_message,
            "editMessageText": self.edit_message_text,
            "deleteMessage": self.delete_message,
            "answerCallbackQuery": self.answer_callback_query,
            "getChat": self.get_chat,
            "getChatMember": self.get_chat_member,
            "getChatAdministrators": self.get_chat_administrators,
            "createChatInviteLink": self.create_chat_invite_link,
            "editChatInviteLink": self.edit_chat_invite_link,
            "revokeChatInviteLink": self.revoke_chat_invite_link,
            "createChatSubscriptionInviteLink": self.create_chat_subscription_invite_link,
            "editChatSubscriptionInviteLink": self.edit_chat_subscription_invite_link,
            "approveChatJoinRequest": self.approve_chat_join_request,
            "declineChatJoinRequest": self.decline_chat_join_request,
            "banChatMember": self.ban_chat_member,
            "unbanChatMember": self.unban_chat_member,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "getUpdates": self.get_updates,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "createInvoiceLink": self.create_invoice_link,
            "answerPreCheckoutQuery": self.answer_pre_checkout_query,
            "refundStarPayment": self.refund_star_payment,
            "editUserStarSubscription": self.edit_user_star_subscription,
        }

    def handler(self, method: str) -> Handler | None:
        # Telegram matches method names case-insensitively.
        for name, handler in self.handlers.items():
            if name.lower() == method.lower():
                return handler
        return None

    def canonical(self, method: str) -> str:
        return next((n for n in self.handlers if n.lower() == method.lower()), method)

    # ------------------------------------------------------------- access
    def chat_id_of(self, p: Params) -> int:
        if not p.has("chat_id"):
            raise bad_request(e.CHAT_ID_EMPTY)
        raw = p.text("chat_id") or ""
        if raw.startswith("@"):
            for chat in self.world.chats.values():
                if chat.username and chat.username.lower() == raw[1:].lower():
                    return chat.id
            raise bad_request(e.CHAT_NOT_FOUND)
        try:
            return int(raw)
        except ValueError:
            raise bad_request(e.CHAT_NOT_FOUND) from None

    def chat_of(self, p: Params) -> Chat:
        """The chat as the bot may address it (private chats: users who started it)."""
        chat_id = self.chat_id_of(p)
        if chat_id > 0:
            user = self.world.users.get(chat_id)
            if user is None or user.is_bot or not user.started_bot:
                raise bad_request(e.CHAT_NOT_FOUND)
            return self.world.private_chat(user)
        return self.group_chat(chat_id)

    def group_chat(self, chat_id: int) -> Chat:
        chat = self.world.chats.get(chat_id)
        if chat is None or self.world.bot.id not in chat.members:
            raise bad_request(e.CHAT_NOT_FOUND)
        status = chat.status_of(self.world.bot.id)
        if status is Status.KICKED:
            raise e.bot_kicked(chat.kind_name)
        if status is Status.LEFT:
            raise e.bot_not_member(chat.kind_name)
        return chat

    def user_id_of(self, p: Params) -> int:
        user_id = p.integer("user_id")
        if user_id is None or user_id <= 0:
            raise bad_request(e.USER_ID_INVALID)
        return user_id

    def private_user(self, chat: Chat) -> User | None:
        return self.world.users.get(chat.id) if chat.type is ChatType.PRIVATE else None

    def bot_admin_with(self, chat: Chat, right: str, refusal: str) -> None:
        if not self.world.bot_has(chat, right):
            raise bad_request(refusal)

    # ------------------------------------------------------------ methods
    async def get_me(self, p: Params) -> Any:
        return self.world.bot.to_json() | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def send_message(self, p: Params) -> Any:
        chat_id = self.chat_id_of(p)
        if chat_id > 0:
            user = self.world.users.get(chat_id)
            if user is None or user.is_bot:
                raise bad_request(e.CHAT_NOT_FOUND)
            if user.blocked_bot:
                raise forbidden(e.BOT_BLOCKED)
            if not self.world.may_contact(user):
                raise forbidden(e.BOT_CANT_INITIATE)
            chat = self.world.private_chat(user)
        else:
            chat = self.group_chat(chat_id)
            self._check_may_post(chat)
        text, entities = _formatted(p)
        markup = _inline_markup(p.obj("reply_markup"))
        message = Message(
            chat.next_message_id,
            chat.id,
            self.world.now(),
            text,
            self.world.bot.id,
            markup,
            entities=entities,
        )
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        return message_json(message, chat, self.world.bot, self.private_user(chat))

    def _check_may_post(self, chat: Chat) -> None:
        bot = chat.members[self.world.bot.id]
        if chat.type is ChatType.CHANNEL:
            if not self.world.bot_has(chat, "can_post_messages"):
                raise bad_request(e.NEED_ADMIN_RIGHTS_CHANNEL)
        elif bot.status is Status.RESTRICTED and "can_send_messages" not in bot.rights:
            raise bad_request(e.NOT_ENOUGH_RIGHTS_SEND_TEXT)

    async def edit_message_text(self, p: Params) -> Any:
        chat = self._chat_for_own_messages(p)
        message_id = p.integer("message_id")
        message = chat.messages.get(message_id or 0)
        if message is None:
            raise bad_request(e.MESSAGE_TO_EDIT_NOT_FOUND)
        if message.from_id != self.world.bot.id:
            raise bad_request("message can't be edited")
        text, entities = _formatted(p)
        markup = _inline_markup(p.obj("reply_markup"))
        if text == message.text and markup == message.reply_markup and entities == message.entities:
            raise bad_request(e.MESSAGE_NOT_MODIFIED)
        message.text = text
        message.entities = entities
        message.replace_markup(markup)
        message.edit_date = self.world.now()
        return message_json(message, chat, self.world.bot, self.private_user(chat))

    async def delete_message(self, p: Params) -> Any:
        chat = self._chat_for_own_messages(p)
        message = chat.messages.get(p.integer("message_id") or 0)
        if message is None:
            raise bad_request(e.MESSAGE_TO_DELETE_NOT_FOUND)
        own = message.from_id == self.world.bot.id
        may_delete_any = chat.type in (ChatType.SUPERGROUP, ChatType.CHANNEL) and (
            self.world.bot_has(chat, "can_delete_messages")
        )
        if chat.type is ChatType.CHANNEL and own:
            allowed = may_delete_any or self.world.bot_has(chat, "can_post_messages")
        else:
            allowed = (
                own
                or may_delete_any
                or (chat.type is ChatType.GROUP and self.world.bot_has(chat, "can_delete_messages"))
            )
        too_old = self.world.now() - message.date >= DELETE_WINDOW
        if not allowed or (too_old and not may_delete_any):
            raise bad_request(e.MESSAGE_CANT_BE_DELETED)
        del chat.messages[message.message_id]
        return True

    def _chat_for_own_messages(self, p: Params) -> Chat:
        chat_id = self.chat_id_of(p)
        if chat_id > 0:
            user = self.world.users.get(chat_id)
            if user is None or user.is_bot:
                raise bad_request(e.CHAT_NOT_FOUND)
            if user.blocked_bot:
                raise forbidden(e.BOT_BLOCKED)
            return self.world.private_chat(user)
        return self.group_chat(chat_id)

    async def answer_callback_query(self, p: Params) -> Any:
        query = self.world.callback_queries.get(p.text("callback_query_id") or "")
        if query is None or query.answered:
            raise bad_request(e.QUERY_ID_INVALID)
        query.answered = True
        query.answer_text = p.text("text")
        query.show_alert = p.flag("show_alert")
        return True

    async def get_chat(self, p: Params) -> Any:
        chat = self.chat_of(p)
        body = chat.to_json(self.private_user(chat))
        body.update(
            {
                "accent_color_id": abs(chat.id) % 7,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        return body

    async def get_chat_member(self, p: Params) -> Any:
        chat = self.chat_of(p)
        user_id = self.user_id_of(p)
        user = self.world.users.get(user_id)
        if user is None:
            raise bad_request(e.USER_NOT_FOUND)
        if chat.type is ChatType.PRIVATE:
            status = "member" if user_id in (chat.id, self.world.bot.id) else "left"
            return {"user": user.to_json(), "status": status}
        if (
            chat.type is ChatType.CHANNEL
            and user_id != self.world.bot.id
            and chat.status_of(self.world.bot.id) not in (Status.CREATOR, Status.ADMINISTRATOR)
        ):
            raise bad_request("member list is inaccessible")
        return member_json(chat, user)

    async def get_chat_administrators(self, p: Params) -> Any:
        chat = self.chat_of(p)
        if chat.type is ChatType.PRIVATE:
            raise bad_request(e.NO_ADMINS_IN_PRIVATE)
        return [
            member_json(chat, self.world.users[m.user_id])
            for m in chat.members.values()
            if m.status in (Status.CREATOR, Status.ADMINISTRATOR)
        ]

    async def create_chat_invite_link(self, p: Params) -> Any:
        chat = self.chat_of(p)
        if chat.type is ChatType.PRIVATE:
            raise bad_request(e.PRIVATE_CHAT_NO_INVITES)
        expire_date = p.integer("expire_date") or None
        member_limit = p.integer("member_limit") or None
        creates_join_request = p.flag("creates_join_request")
        if creates_join_request and member_limit is not None:
            raise bad_request(e.MEMBER_LIMIT_WITH_JOIN_REQUEST)
        self.bot_admin_with(chat, "can_invite_users", e.NOT_ENOUGH_RIGHTS_INVITE_LINK)
        if expire_date is not None and expire_date <= self.world.now():
            raise bad_request(e.EXPIRE_DATE_INVALID)
        if member_limit is not None and not 1 <= member_limit <= MAX_MEMBER_LIMIT:
            raise bad_request(e.USAGE_LIMIT_INVALID)
        # Telegram trims a name and cuts it to 32 characters rather than refusing it.
        name = " ".join((p.text("name") or "").split())[:MAX_LINK_NAME] or None
        link = InviteLink(
            url=self.world.new_link_url(),
            creator_id=self.world.bot.id,
            name=name,
            expire_date=expire_date,
            member_limit=member_limit,
            creates_join_request=creates_join_request,
        )
        chat.links[link.url] = link
        return link.to_json(self.world.bot, chat)

    async def create_chat_subscription_invite_link(self, p: Params) -> Any:
        """A link whose joiners pay ``subscription_price`` Stars now and every 30 days
        (channels only; the period must be 2592000 seconds, the price 1-10000)."""
        chat = self.chat_of(p)
        if chat.type is not ChatType.CHANNEL:
            raise bad_request(e.SUBSCRIPTION_CHANNEL_ONLY)
        self.bot_admin_with(chat, "can_invite_users", e.NOT_ENOUGH_RIGHTS_INVITE_LINK)
        if p.integer("subscription_period") != SUBSCRIPTION_PERIOD:
            raise bad_request(SUBSCRIPTION_PERIOD_INVALID)
        price = p.integer("subscription_price")
        if price is None or not 1 <= price <= MAX_SUBSCRIPTION_STARS:
            raise bad_request(SUBSCRIPTION_PRICE_INVALID)
        name = " ".join((p.text("name") or "").split())[:MAX_LINK_NAME] or None
        link = InviteLink(
            url=self.world.new_link_url(),
            creator_id=self.world.bot.id,
            name=name,
            subscription_period=SUBSCRIPTION_PERIOD,
            subscription_price=price,
        )
        chat.links[link.url] = link
        return link.to_json(self.world.bot, chat)

    async def edit_chat_subscription_invite_link(self, p: Params) -> Any:
        """Only a subscription link's name can change (its price and period cannot)."""
        chat, link = self._bots_link(p)
        if link is None or link.is_revoked or link.subscription_period is None:
            raise bad_request(e.INVITE_HASH_EXPIRED)
        if p.has("name"):
            link.name = " ".join((p.text("name") or "").split())[:MAX_LINK_NAME] or None
        return link.to_json(self.world.bot, chat)

    async def edit_chat_invite_link(self, p: Params) -> Any:
        """Changes what is given of a live link the bot created; a revoked or unknown
        link is refused as Telegram refuses it."""
        chat, link = self._bots_link(p)
        if link is None or link.is_revoked:
            raise bad_request(e.INVITE_HASH_EXPIRED)
        expire_date = p.integer("expire_date") if p.has("expire_date") else link.expire_date
        if expire_date is not None and expire_date <= self.world.now():
            raise bad_request(e.EXPIRE_DATE_INVALID)
        member_limit = p.integer("member_limit") if p.has("member_limit") else link.member_limit
        joins = p.flag("creates_join_request") if p.has("creates_join_request") else None
        creates_join_request = link.creates_join_request if joins is None else joins
        if creates_join_request and member_limit is not None:
            raise bad_request(e.MEMBER_LIMIT_WITH_JOIN_REQUEST)
        if p.has("name"):
            link.name = " ".join((p.text("name") or "").split())[:MAX_LINK_NAME] or None
        link.expire_date = expire_date or None
        link.member_limit = member_limit or None
        link.creates_join_request = creates_join_request
        return link.to_json(self.world.bot, chat)

    def _bots_link(self, p: Params) -> tuple[Chat, InviteLink | None]:
        """The chat and the link a link-changing call names, once the bot may change
        links there."""
        chat = self.chat_of(p)
        if chat.type is ChatType.PRIVATE:
            raise bad_request(e.PRIVATE_CHAT_NO_INVITES)
        self.bot_admin_with(chat, "can_invite_users", e.NOT_ENOUGH_RIGHTS_INVITE_LINK)
        url = p.text("invite_link") or ""
        if not url:
            raise bad_request(e.INVITE_LINK_EMPTY)
        return chat, chat.links.get(url)

    async def revoke_chat_invite_link(self, p: Params) -> Any:
        chat, link = self._bots_link(p)
        if link is None:
            raise bad_request(e.INVITE_HASH_EXPIRED)
        link.is_revoked = True
        return link.to_json(self.world.bot, chat)

    async def approve_chat_join_request(self, p: Params) -> Any:
        chat, user = self._join_request_target(p)
        request = chat.join_requests[user.id]
        link = chat.links.get(request.invite_link or "")
        self.world.join(chat, user, link, actor=self.world.bot)
        return True

    async def decline_chat_join_request(self, p: Params) -> Any:
        chat, user = self._join_request_target(p)
        del chat.join_requests[user.id]
        return True

    def _join_request_target(self, p: Params) -> tuple[Chat, User]:
        user_id = self.user_id_of(p)
        chat = self.chat_of(p)
        if chat.type is ChatType.PRIVATE:
            raise bad_request(e.PRIVATE_CHAT_NO_JOIN_REQUESTS)
        self.bot_admin_with(chat, "can_invite_users", e.NOT_ENOUGH_RIGHTS_JOIN_REQUESTS)
        if chat.status_of(user_id) in IN_CHAT:
            raise bad_request(e.USER_ALREADY_PARTICIPANT)
        user = self.world.users.get(user_id)
        if user is None or user_id not in chat.join_requests:
            raise bad_request(e.HIDE_REQUESTER_MISSING)
        return chat, user

    async def ban_chat_member(self, p: Params) -> Any:
        chat, user = self._restrict_target(p, e.CANT_RESTRICT_SELF)
        status = chat.status_of(user.id)
        if status is Status.CREATOR:
            raise bad_request(e.CANT_REMOVE_OWNER)
        if status is Status.ADMINISTRATOR:
            raise bad_request(e.USER_IS_ADMIN)
        now = self.world.now()
        until = p.integer("until_date") or 0
        if until and not BAN_FOREVER_BELOW <= until - now <= BAN_FOREVER_ABOVE:
            until = 0  # under 30 s or over 366 days means forever
        self.world.change_status(chat, user, Status.KICKED, actor=self.world.bot, until_date=until)
        return True

    async def unban_chat_member(self, p: Params) -> Any:
        chat, user = self._restrict_target(p, "can't unrestrict self")
        if chat.type is ChatType.GROUP:
            raise bad_request("method is available for supergroup and channel chats only")
        status = chat.status_of(user.id)
        if status is Status.KICKED:
            self.world.change_status(chat, user, Status.LEFT, actor=self.world.bot)
        elif status in IN_CHAT and not p.flag("only_if_banned"):
            # Without only_if_banned, unbanning a member removes them: a one-call kick.
            if status is Status.CREATOR:
                raise bad_request(e.CANT_REMOVE_OWNER)
            if status is Status.ADMINISTRATOR:
                raise bad_request(e.USER_IS_ADMIN)
            self.world.change_status(chat, user, Status.LEFT, actor=self.world.bot)
        return True

    def _restrict_target(self, p: Params, self_refusal: str) -> tuple[Chat, User]:
        user_id = self.user_id_of(p)
        chat = self.chat_of(p)
        if chat.type is ChatType.PRIVATE:
            raise bad_request(e.PRIVATE_CHAT_NO_BANS)
        self.bot_admin_with(chat, "can_restrict_members", e.NOT_ENOUGH_RIGHTS_RESTRICT)
        if user_id == self.world.bot.id:
            raise bad_request(self_refusal)
        user = self.world.users.get(user_id)
        if user is None:
            raise bad_request("PARTICIPANT_ID_INVALID")
        return chat, user

    # ------------------------------------------------------------ commands
    def command_key(self, p: Params) -> tuple[CommandScope, str]:
        """The (scope, language) a *MyCommands call names; scopes naming a chat need a
        chat the bot can address."""
        language = (p.text("language_code") or "").strip()
        if language and _LANGUAGE.match(language) is None:
            raise bad_request("invalid language code specified")
        raw = p.obj("scope") or {"type": "default"}
        if not isinstance(raw, dict):
            raise bad_request("can't parse scope JSON object")
        kind = str(raw.get("type", ""))
        if kind in _PLAIN_SCOPES:
            return (kind, 0, 0), language
        if kind not in _CHAT_SCOPES:
            raise bad_request("unsupported bot command scope type")
        chat = self.chat_of(Params({"chat_id": raw.get("chat_id")}))
        user_id = 0
        if kind == "chat_member":
            user_id = self.user_id_of(Params({"user_id": raw.get("user_id")}))
        return (kind, chat.id, user_id), language

    async def set_my_commands(self, p: Params) -> Any:
        raw = p.obj("commands")
        if not isinstance(raw, list) or len(raw) > _MAX_COMMANDS:
            raise bad_request(
                "BOT_COMMANDS_TOO_MUCH"
                if isinstance(raw, list)
                else "can't parse commands JSON object"
            )
        commands: list[BotCommand] = []
        for entry in raw:
            if not isinstance(entry, dict):
                raise bad_request("can't parse BotCommand")
            command = str(entry.get("command", ""))
            description = str(entry.get("description", ""))
            if _COMMAND.match(command) is None:
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description.strip()) <= _MAX_DESCRIPTION:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            commands.append((command, description))
        key = self.command_key(p)
        if commands:
            self.world.commands[key] = commands
        else:
            self.world.commands.pop(key, None)
        return True

    async def get_my_commands(self, p: Params) -> Any:
        found = self.world.commands.get(self.command_key(p), [])
        return [{"command": c, "description": d} for c, d in found]

    async def delete_my_commands(self, p: Params) -> Any:
        self.world.commands.pop(self.command_key(p), None)
        return True

    # --------------------------------------------------------------- Stars
    async def create_invoice_link(self, p: Params) -> Any:
        return self.world.stars.create_invoice_link(
            title=p.text("title") or "",
            description=p.text("description") or "",
            payload=p.text("payload") or "",
            currency=p.text("currency") or "",
            prices=p.obj("prices"),
            provider_token=p.text("provider_token"),
            subscription_period=p.integer("subscription_period"),
        )

    async def answer_pre_checkout_query(self, p: Params) -> Any:
        self.world.stars.answer(
            p.text("pre_checkout_query_id") or "", p.flag("ok"), p.text("error_message")
        )
        return True

    async def refund_star_payment(self, p: Params) -> Any:
        user_id = self.user_id_of(p)
        if user_id not in self.world.users:
            raise bad_request(e.USER_NOT_FOUND)
        self.world.stars.refund(user_id, p.text("telegram_payment_charge_id") or "")
        return True

    async def edit_user_star_subscription(self, p: Params) -> Any:
        user_id = self.user_id_of(p)
        if user_id not in self.world.users:
            raise bad_request(e.USER_NOT_FOUND)
        if not p.has("is_canceled"):
            raise bad_request("is_canceled is empty")
        self.world.stars.edit_subscription(
            user_id,
            p.text("telegram_payment_charge_id") or "",
            p.flag("is_canceled"),
            self.world.now(),
        )
        return True

    async def set_webhook(self, p: Params) -> Any:
        url = p.text("url") or ""
        if not url:
            return await self.delete_webhook(p)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_request(e.WEBHOOK_URL_INVALID)
        if parts.hostname not in LOOPBACK_HOSTS:
            # Deviation: Telegram needs a public HTTPS address; the emulator only
            # ever delivers to this machine.
            raise bad_request("bad webhook: the emulator delivers to loopback addresses only")
        secret = p.text("secret_token")
        if secret:
            if len(secret) > 256:
                raise bad_request(e.SECRET_TOKEN_TOO_LONG)
            if SECRET_TOKEN.match(secret) is None:
                raise bad_request(e.SECRET_TOKEN_ILLEGAL)
        max_connections = min(max(p.integer("max_connections") or 40, 1), 100)
        hub = self.world.hub
        hub.set_allowed(p.obj("allowed_updates"))
        hook = Webhook(url, secret or None, max_connections)
        already = hub.webhook == hook
        hub.set_webhook(hook, p.flag("drop_pending_updates"))
        return Described(True, "Webhook is already set" if already else "Webhook was set")

    async def delete_webhook(self, p: Params) -> Any:
        hub = self.world.hub
        was_set = hub.webhook is not None
        hub.set_webhook(None, p.flag("drop_pending_updates"))
        return Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    async def get_webhook_info(self, p: Params) -> Any:
        return self.world.hub.webhook_info()

    async def get_updates(self, p: Params) -> Any:
        limit = min(max(p.integer("limit") or 100, 1), 100)
        timeout = float(max(p.integer("timeout") or 0, 0))
        hub = self.world.hub
        if hub.webhook is None:
            hub.set_allowed(p.obj("allowed_updates"))
        return await hub.get_updates(p.integer("offset") or 0, limit, timeout)


def _formatted(p: Params) -> tuple[str, list[JSON]]:
    """A message's text as Telegram keeps it: parsed by its parse mode (HTML only; no
    PayGate message uses another), then held to the limits, which count what remains
    after parsing."""
    text = p.text("text") or ""
    entities: list[JSON] = []
    mode = p.text("parse_mode")
    if mode is not None:
        if mode.upper() != "HTML":
            raise bad_request(f"unsupported parse_mode {mode!r}")
        try:
            text, entities = parse_html(text)
        except HtmlRefused as exc:
            raise bad_request(str(exc)) from exc
    if not text.strip():
        raise bad_request(e.MESSAGE_TEXT_EMPTY)
    if len(text) > MAX_TEXT:
        raise bad_request(e.MESSAGE_TOO_LONG)
    return text, entities


def _inline_markup(markup: Any) -> JSON | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        # Reply keyboards and the like are accepted and not shown in the emulator.
        return None
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request("can't parse inline keyboard button: Text must be a String")
            data = button.get("callback_data")
            if data is not None and (not isinstance(data, str) or len(data.encode()) > 64):
                raise bad_request(e.BUTTON_DATA_INVALID)
            login = button.get("login_url")
            if login is not None and (
                not isinstance(login, dict)
                or not isinstance(login.get("url"), str)
                or not login["url"].startswith(("http://", "https://"))
            ):
                raise bad_request(e.BUTTON_URL_INVALID)
            if data is None and login is None and not isinstance(button.get("url"), str):
                raise bad_request('can\'t find field "callback_data"')
    return {"inline_keyboard": rows}
