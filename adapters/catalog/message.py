"""A message as Telegram shows it: text and rows of inline buttons."""

from __future__ import annotations

import attrs

MAX_CALLBACK_BYTES = 64
"""Telegram's limit on a button's callback data."""


@attrs.frozen
class Button:
    """An inline button: opens ``url``, sends ``callback_data``, or opens ``login_url``
    with the person's Telegram identity appended and signed (Telegram's seamless login)."""

    text: str
    url: str | None = None
    callback_data: str | None = None
    login_url: str | None = None

    def __attrs_post_init__(self) -> None:
        if [self.url, self.callback_data, self.login_url].count(None) != 2:
            raise ValueError("a button has exactly one of url, callback_data and login_url")
        if self.callback_data is not None and len(self.callback_data.encode()) > MAX_CALLBACK_BYTES:
            raise ValueError(f"callback_data is at most {MAX_CALLBACK_BYTES} bytes")


@attrs.frozen
class OutgoingMessage:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    html: bool = False
    """The text is Telegram HTML (an owner's own wording, values escaped); otherwise
    plain text, sent with no parse mode."""
