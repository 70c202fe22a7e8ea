"""A local emulator of the Telegram Bot API: a real HTTP server the real adapters talk
to in tests and the demo. Never imported by core or adapters."""

from sandbox.telegram.errors import ApiError
from sandbox.telegram.flood import ADMIN_METHODS, MESSAGE_METHODS, FloodLimits, Rate
from sandbox.telegram.model import CallRecord, ChatType, InviteLink, Message, Status, User
from sandbox.telegram.outage import Outage, OutageKind
from sandbox.telegram.server import TelegramEmulator
from sandbox.telegram.updates import SECRET_HEADER, DeliveryAttempt, Webhook
from sandbox.telegram.world import JoinOutcome, new_token

__all__ = [
    "ADMIN_METHODS",
    "MESSAGE_METHODS",
    "SECRET_HEADER",
    "ApiError",
    "CallRecord",
    "ChatType",
    "DeliveryAttempt",
    "FloodLimits",
    "InviteLink",
    "JoinOutcome",
    "Message",
    "Outage",
    "OutageKind",
    "Rate",
    "Status",
    "TelegramEmulator",
    "User",
    "Webhook",
    "new_token",
]
