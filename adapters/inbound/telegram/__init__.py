"""The bot people talk to (python-telegram-bot): subscribers' offers, checkout,
status and donations; owners' registration, tiers and donation limits; join
requests and the bot's own rights in registered chats.

Composition builds :class:`BotDeps`, then :func:`build_bot_application` and a
:class:`BotRunner`, and either polls (``paygate bot``) or sets the webhook and gives
the HTTP app :meth:`BotRunner.handle_webhook_update`.
"""

from adapters.inbound.telegram.application import (
    ALLOWED_UPDATES,
    DEFAULT_API_URL,
    BotApplication,
    build_bot_application,
)
from adapters.inbound.telegram.deps import BotDeps, BotSettings
from adapters.inbound.telegram.runner import BotRunner

__all__ = [
    "ALLOWED_UPDATES",
    "DEFAULT_API_URL",
    "BotApplication",
    "BotDeps",
    "BotRunner",
    "BotSettings",
    "build_bot_application",
]
