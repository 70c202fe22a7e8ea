"""Telegram Bot API adapters (python-telegram-bot): Messenger and ChatAccess, sharing
one paced, circuit-broken bot."""

from adapters.outbound.telegram.chat_access import TelegramChatAccess
from adapters.outbound.telegram.client import DEFAULT_API_URL, TelegramBotClient
from adapters.outbound.telegram.messenger import TelegramMessenger
from adapters.outbound.telegram.pacing import PacedRateLimiter, PacingLimits, PacingStats, Rate

__all__ = [
    "DEFAULT_API_URL",
    "PacedRateLimiter",
    "PacingLimits",
    "PacingStats",
    "Rate",
    "TelegramBotClient",
    "TelegramChatAccess",
    "TelegramMessenger",
]
