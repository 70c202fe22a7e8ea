"""What the emulated Telegram knows: users, chats, members, links, requests, messages,
and how each looks on the wire (the Bot API's JSON objects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

JSON = dict[str, Any]


class ChatType(StrEnum):
    PRIVATE = "private"
    GROUP = "group"
    SUPERGROUP = "supergroup"
    CHANNEL = "channel"


class Status(StrEnum):
    CREATOR = "creator"
    ADMINISTRATOR = "administrator"
    MEMBER = "member"
    RESTRICTED = "restricted"
    LEFT = "left"
    KICKED = "kicked"


IN_CHAT = frozenset({Status.CREATOR, Status.ADMINISTRATOR, Status.MEMBER, Status.RESTRICTED})

ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_send_welcome_messages",
)
"""Every ChatMemberAdministrator carries these (Bot API 10: can_send_welcome_messages
joined them)."""
CHANNEL_ONLY_RIGHTS = ("can_post_messages", "can_edit_messages", "can_manage_direct_messages")
GROUP_ONLY_RIGHTS = ("can_pin_messages", "can_manage_topics", "can_manage_tags")
ALL_RIGHTS = frozenset(ADMIN_RIGHTS + CHANNEL_ONLY_RIGHTS + GROUP_ONLY_RIGHTS)

RESTRICTED_PERMISSIONS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
    "can_react_to_messages",
    "can_edit_tag",
)


@dataclass
class User:
    id: int
    first_name: str
    username: str | None = None
    is_bot: bool = False
    started_bot: bool = True
    """The user opened a private chat with the bot (pressed Start)."""
    blocked_bot: bool = False
    language_code: str | None = None
    """The IETF tag of the user's app language, sent in every update's ``from``."""

    def to_json(self) -> JSON:
        body: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.username is not None:
            body["username"] = self.username
        if self.language_code is not None:
            body["language_code"] = self.language_code
        return body


@dataclass
class Member:
    user_id: int
    status: Status
    rights: frozenset[str] = frozenset()
    """The ``can_*`` administrator rights an administrator holds."""
    until_date: int = 0
    joined_via: str | None = None
    """The invite link a member joined through, while they stay."""


@dataclass
class InviteLink:
    url: str
    creator_id: int
    name: str | None = None
    expire_date: int | None = None
    member_limit: int | None = None
    creates_join_request: bool = False
    is_revoked: bool = False
    joined: set[int] = field(default_factory=set)
    """Members who joined through the link and still are (what member_limit counts)."""
    subscription_period: int | None = None
    """A Stars subscription link's period in seconds (always 30 days); None otherwise."""
    subscription_price: int | None = None
    """The Stars a member pays on joining through it and every period after."""

    def pending_count(self, chat: Chat) -> int:
        return sum(1 for r in chat.join_requests.values() if r.invite_link == self.url)

    def to_json(self, creator: User, chat: Chat) -> JSON:
        body: JSON = {"invite_link": self.url}
        if self.name:
            body["name"] = self.name
        body["creator"] = creator.to_json()
        if self.expire_date is not None:
            body["expire_date"] = self.expire_date
        if self.member_limit is not None:
            body["member_limit"] = self.member_limit
        body["creates_join_request"] = self.creates_join_request
        if self.subscription_period is not None:
            body["subscription_period"] = self.subscription_period
            body["subscription_price"] = self.subscription_price
        body["is_primary"] = False
        body["is_revoked"] = self.is_revoked
        pending = self.pending_count(chat)
        if pending:
            body["pending_join_request_count"] = pending
        return body


@dataclass
class JoinRequest:
    user_id: int
    date: int
    invite_link: str | None


@dataclass
class Message:
    message_id: int
    chat_id: int
    date: int
    text: str
    from_id: int
    reply_markup: JSON | None = None
    edit_date: int | None = None
    entities: list[JSON] = field(default_factory=list)
    """Formatting a parse mode gave the text (``parse_mode=HTML``)."""
    former_buttons: set[str] = field(default_factory=set)
    """Callback data of buttons an edit took away: a client that has not yet drawn the
    edit still shows them, and a press on one still reaches the bot (as in Telegram)."""

    def replace_markup(self, markup: JSON | None) -> None:
        self.former_buttons |= callback_data_of(self.reply_markup)
        self.reply_markup = markup

    def shows_button(self, data: str) -> bool:
        return data in callback_data_of(self.reply_markup) or data in self.former_buttons


def callback_data_of(markup: JSON | None) -> set[str]:
    rows = (markup or {}).get("inline_keyboard", [])
    return {str(b["callback_data"]) for row in rows for b in row if "callback_data" in b}


@dataclass
class Chat:
    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    members: dict[int, Member] = field(default_factory=dict)
    links: dict[str, InviteLink] = field(default_factory=dict)
    join_requests: dict[int, JoinRequest] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    next_message_id: int = 1

    @property
    def kind_name(self) -> str:
        """How Telegram's errors name this kind of chat."""
        return "supergroup" if self.type is ChatType.SUPERGROUP else str(self.type)

    def status_of(self, user_id: int) -> Status:
        member = self.members.get(user_id)
        return member.status if member is not None else Status.LEFT

    def to_json(self, private_user: User | None = None) -> JSON:
        body: JSON = {"id": self.id}
        if self.type is ChatType.PRIVATE and private_user is not None:
            body["first_name"] = private_user.first_name
            if private_user.username is not None:
                body["username"] = private_user.username
        else:
            body["title"] = self.title or ""
            if self.username is not None:
                body["username"] = self.username
        body["type"] = str(self.type)
        return body


def member_json(chat: Chat, user: User) -> JSON:
    """A ChatMember object as getChatMember returns it."""
    member = chat.members.get(user.id)
    status = member.status if member is not None else Status.LEFT
    body: JSON = {"user": user.to_json(), "status": str(status)}
    if member is None:
        return body
    if status is Status.CREATOR:
        body["is_anonymous"] = False
    elif status is Status.ADMINISTRATOR:
        body["can_be_edited"] = False
        body["is_anonymous"] = False
        for right in ADMIN_RIGHTS:
            body[right] = right in member.rights or right == "can_manage_chat"
        only = CHANNEL_ONLY_RIGHTS if chat.type is ChatType.CHANNEL else GROUP_ONLY_RIGHTS
        for right in only:
            body[right] = right in member.rights
    elif status is Status.RESTRICTED:
        body["is_member"] = True
        for permission in RESTRICTED_PERMISSIONS:
            body[permission] = permission in member.rights
        body["until_date"] = member.until_date
    elif status is Status.KICKED:
        body["until_date"] = member.until_date
    elif status is Status.MEMBER and member.until_date:
        body["until_date"] = member.until_date  # a Stars subscription's end
    return body


def message_json(message: Message, chat: Chat, sender: User, private_user: User | None) -> JSON:
    body: JSON = {"message_id": message.message_id}
    if chat.type is not ChatType.CHANNEL:
        body["from"] = sender.to_json()
    else:
        body["sender_chat"] = chat.to_json()
    body["chat"] = chat.to_json(private_user)
    body["date"] = message.date
    if message.edit_date is not None:
        body["edit_date"] = message.edit_date
    body["text"] = message.text
    if message.entities:
        body["entities"] = list(message.entities)
    elif message.text.startswith("/"):
        command = message.text.split(maxsplit=1)[0]
        body["entities"] = [{"offset": 0, "length": len(command), "type": "bot_command"}]
    if message.reply_markup is not None:
        body["reply_markup"] = message.reply_markup
    return body


@dataclass(frozen=True)
class CallRecord:
    """One Bot API call as the emulator saw it, for tests to inspect."""

    method: str
    params: JSON
    at: float
    """Monotonic seconds, the clock flood control counts with."""
    ok: bool
    error_code: int | None = None
    description: str | None = None
