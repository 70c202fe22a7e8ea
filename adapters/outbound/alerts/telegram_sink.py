"""Alerts as plain-text messages in an admin chat, through the Messenger port."""

from __future__ import annotations

from adapters.outbound.alerts.channel import (
    AlertDeliveryFailed,
    BestEffortChannel,
    describe_failure,
)
from adapters.outbound.alerts.rendering import plain_text, truncate
from core.domain.ids import ChatId
from core.domain.messages import Verbatim
from core.ports.alerts import Alert
from core.ports.errors import PortError, Unavailable
from core.ports.telegram import Messenger

__all__ = ["TelegramAlertSink"]

TELEGRAM_TEXT_LIMIT = 4096
"""Telegram refuses longer messages outright."""

DEFAULT_VALUE_LIMIT = 500


class TelegramAlertSink(BestEffortChannel):
    """Implements AlertSink (and AlertChannel). Sends each alert to ``chat_id`` (an
    admin group or an operator's private chat) through whichever Messenger the
    composition root built, so it shares that Messenger's pacing and flood control.

    No buttons and no markup: the Messenger sends plain text, so a detail holding a
    channel title cannot inject formatting."""

    def __init__(
        self,
        messenger: Messenger,
        chat_id: ChatId,
        *,
        name: str = "telegram",
        value_limit: int = DEFAULT_VALUE_LIMIT,
    ) -> None:
        if value_limit < 1:
            raise ValueError("value_limit is at least one character")
        self._messenger = messenger
        self._chat_id = chat_id
        self._name = name
        self._value_limit = value_limit

    @property
    def name(self) -> str:
        return self._name

    async def deliver(self, alert: Alert) -> None:
        text = plain_text(alert, value_limit=self._value_limit)
        if len(text) > TELEGRAM_TEXT_LIMIT:
            # Many details can still add up past the limit; the head of the message
            # (severity, title, first details) is what an operator needs first.
            text = truncate(text, TELEGRAM_TEXT_LIMIT - 40)
        try:
            await self._messenger.send(self._chat_id, Verbatim(text))
        except PortError as exc:
            raise AlertDeliveryFailed(
                f"{self._name}: the message to the admin chat failed ({describe_failure(exc)})",
                retry_after=exc.retry_after if isinstance(exc, Unavailable) else None,
            ) from exc
