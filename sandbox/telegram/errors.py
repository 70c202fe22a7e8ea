"""The Bot API's error answers, worded as the official server words them.

The descriptions were checked against code and docs that quote the real server
(TDLib's own messages and the wording bots see in the field). Where Telegram's
servers decide and the wording is not public, the closest known wording is used
and marked as such.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A refused call: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(what: str) -> ApiError:
    return ApiError(400, f"Bad Request: {what}")


def forbidden(what: str) -> ApiError:
    return ApiError(403, f"Forbidden: {what}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)


UNAUTHORIZED = ApiError(401, "Unauthorized")
NOT_FOUND = ApiError(404, "Not Found")

CHAT_NOT_FOUND = "chat not found"
CHAT_ID_EMPTY = "chat_id is empty"
USER_NOT_FOUND = "user not found"
USER_ID_INVALID = "invalid user_id specified"
MESSAGE_TEXT_EMPTY = "message text is empty"
MESSAGE_TOO_LONG = "message is too long"
BUTTON_DATA_INVALID = "BUTTON_DATA_INVALID"
BUTTON_URL_INVALID = "BUTTON_URL_INVALID"
MESSAGE_TO_EDIT_NOT_FOUND = "message to edit not found"
MESSAGE_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
MESSAGE_TO_DELETE_NOT_FOUND = "message to delete not found"
MESSAGE_CANT_BE_DELETED = "message can't be deleted"
QUERY_ID_INVALID = "query is too old and response timeout expired or query ID is invalid"
NEED_ADMIN_RIGHTS_CHANNEL = "need administrator rights in the channel chat"
NOT_ENOUGH_RIGHTS_SEND_TEXT = "not enough rights to send text messages to the chat"
NOT_ENOUGH_RIGHTS_INVITE_LINK = "not enough rights to manage chat invite link"
NOT_ENOUGH_RIGHTS_JOIN_REQUESTS = "not enough rights to manage chat join requests"
NOT_ENOUGH_RIGHTS_RESTRICT = "not enough rights to restrict/unrestrict chat member"
NO_ADMINS_IN_PRIVATE = "there are no administrators in the private chat"
PRIVATE_CHAT_NO_INVITES = "can't invite members to a private chat"
PRIVATE_CHAT_NO_JOIN_REQUESTS = "the chat can't have join requests"
PRIVATE_CHAT_NO_BANS = "can't ban members in private chats"
MEMBER_LIMIT_WITH_JOIN_REQUEST = (
    "member limit can't be specified for links requiring administrator approval"
)
EXPIRE_DATE_INVALID = "EXPIRE_DATE_INVALID"
USAGE_LIMIT_INVALID = "USAGE_LIMIT_INVALID"
INVITE_LINK_EMPTY = "invite link must be non-empty"
# Which error Telegram's servers give for revoking an unknown link is not public;
# MTProto's editExportedChatInvite answers an unknown or expired hash with this one.
INVITE_HASH_EXPIRED = "INVITE_HASH_EXPIRED"
SUBSCRIPTION_CHANNEL_ONLY = "CHAT_TYPE_INVALID"
"""createChatSubscriptionInviteLink outside a channel; not public, the closest known
wording (Telegram's name for a chat of the wrong kind)."""
USER_ALREADY_PARTICIPANT = "USER_ALREADY_PARTICIPANT"
HIDE_REQUESTER_MISSING = "HIDE_REQUESTER_MISSING"
USER_IS_ADMIN = "user is an administrator of the chat"
CANT_REMOVE_OWNER = "can't remove chat owner"
CANT_RESTRICT_SELF = "can't restrict self"
BOT_BLOCKED = "bot was blocked by the user"
BOT_CANT_INITIATE = "bot can't initiate conversation with a user"
SECRET_TOKEN_TOO_LONG = "secret token is too long"  # noqa: S105 (a description)
SECRET_TOKEN_ILLEGAL = "secret token contains illegal characters"  # noqa: S105
WEBHOOK_URL_INVALID = "invalid webhook URL specified"
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
TERMINATED_BY_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


def bot_not_member(chat_kind: str) -> ApiError:
    """``chat_kind`` is how Telegram names it: "channel", "supergroup" or "group"."""
    return forbidden(f"bot is not a member of the {chat_kind} chat")


def bot_kicked(chat_kind: str) -> ApiError:
    return forbidden(f"bot was kicked from the {chat_kind} chat")
