"""Telegram's errors in the ports' terms.

PTB raises by HTTP status (403 Forbidden, 400 BadRequest, 429 RetryAfter, network
errors) and keeps Telegram's description as the message, with "Bad Request: " cut
and the rest capitalised ("USER_ALREADY_PARTICIPANT" becomes
"User_already_participant"), so descriptions are matched in lower case.
"""

from __future__ import annotations

import warnings
from datetime import timedelta

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

from core.ports.errors import PortError, Unavailable
from core.ports.telegram import ChatGone, MessageGone, NotEnoughRights, RecipientUnreachable

__all__ = ["describe", "has", "retry_after", "retry_after_seconds", "translate"]

_UNREACHABLE = (
    "bot was blocked by the user",
    "user is deactivated",
    "bot can't initiate conversation",
    "bot can't send messages to bots",
)
_GONE = (
    "chat not found",
    "bot was kicked",
    "bot is not a member",
    "group chat was deactivated",
    "channel_private",
    "peer_id_invalid",
    "chat_id_invalid",
)
_NO_RIGHTS = (
    "not enough rights",
    "need administrator rights",
    "chat_admin_required",
    "have no rights",
    "user is an administrator of the chat",
    "can't remove chat owner",
    "message can't be deleted",
    "message can't be edited",
)


def retry_after_seconds(exc: RetryAfter) -> float:
    """The wait a 429 asked for, in seconds (without PTB's int-vs-timedelta warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def retry_after(seconds: int) -> RetryAfter:
    """A RetryAfter as PTB raises it for a 429 (built without PTB's warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        return RetryAfter(seconds)


def describe(exc: TelegramError) -> str:
    return exc.message.lower()


def has(exc: TelegramError, *fragments: str) -> bool:
    text = describe(exc)
    return any(fragment in text for fragment in fragments)


def translate(exc: TelegramError, chat_id: int) -> PortError:
    """The port error for a failed call to ``chat_id``; raise it ``from exc``."""
    if isinstance(exc, RetryAfter):
        wait = retry_after_seconds(exc)
        return Unavailable(f"Telegram asked to wait {wait:g} s (flood control)", wait)
    if isinstance(exc, ChatMigrated):
        return ChatGone(f"chat {chat_id} became supergroup {exc.new_chat_id}")
    if isinstance(exc, InvalidToken):
        # A rotated or mistyped token: nothing is lost by waiting for the fix.
        return Unavailable("Telegram refused the bot token")
    if isinstance(exc, Forbidden):
        if has(exc, "not enough rights"):
            return NotEnoughRights(exc.message)
        if has(exc, *_UNREACHABLE) or (chat_id > 0 and not has(exc, *_GONE)):
            return RecipientUnreachable(exc.message)
        return ChatGone(exc.message)
    if isinstance(exc, BadRequest):
        if has(exc, *_GONE):
            # A private chat that is "not found" is a user who never started the bot.
            if chat_id > 0:
                return RecipientUnreachable(exc.message)
            return ChatGone(exc.message)
        if has(exc, *_NO_RIGHTS):
            return NotEnoughRights(exc.message)
        if has(exc, "message to edit not found", "message to delete not found"):
            return MessageGone(exc.message)
        return PortError(f"Telegram refused the call: {exc.message}")
    if isinstance(exc, NetworkError):
        cause = exc.__cause__
        if isinstance(cause, Unavailable):
            return cause  # the circuit breaker's own verdict (open, or timed out)
        return Unavailable(f"Telegram is unreachable: {exc.message}")
    return PortError(f"Telegram refused the call: {exc.message}")
