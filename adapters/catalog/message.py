"""A message as Telegram shows it: text and rows of inline buttons."""

from __future__ import annotations

import attrs

MAX_CALLBACK_BYTES = 64
"""Telegram's limit on a button's callback data."""


@attrs.frozen
class Button:
    """An inline button: opens ``url`` or sends ``callback_data``."""

    text: str
    url: str | None = None
    callback_data: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.url is None) == (self.callback_data is None):
            raise ValueError("a button has exactly one of url and callback_data")
        if self.callback_data is not None and len(self.callback_data.encode()) > MAX_CALLBACK_BYTES:
            raise ValueError(f"callback_data is at most {MAX_CALLBACK_BYTES} bytes")


@attrs.frozen
class OutgoingMessage:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    html: bool = False
    """The text is Telegram HTML (an owner's own wording, values escaped); otherwise
    plain text, sent with no parse mode."""
