"""Messages the bot sends, as plain values (the Telegram adapter renders them)."""

from __future__ import annotations

import attrs


@attrs.frozen
class Button:
    """An inline button: opens ``url`` or sends ``callback_data`` (<= 64 bytes)."""

    text: str
    url: str | None = None
    callback_data: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.url is None) == (self.callback_data is None):
            raise ValueError("a button has exactly one of url and callback_data")
        if self.callback_data is not None and len(self.callback_data.encode()) > 64:
            raise ValueError("callback_data is at most 64 bytes")


@attrs.frozen
class OutgoingMessage:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
