"""Which language each chat reads: a person's private chat (their own choice, else
what their Telegram app reports) and a channel's chats (the owner's choice for the
posts the bot keeps there).

The words live in the catalog; the core only keeps the code (``ru``, ``es``) each
chat is read in, so a notice queued in the outbox is rendered in the language its
recipient reads when it is sent, not when it was queued.
"""

from __future__ import annotations

import re
from typing import Protocol

import attrs

from core.domain.ids import ChatId
from core.ports.errors import Unavailable

__all__ = ["ChatLanguage", "LanguageBook", "Unavailable", "language_code"]

_CODE = re.compile(r"\A[a-z]{2,3}\Z")


def language_code(code: str) -> str:
    """A primary language subtag (ISO 639: ``en``, ``ru``, ``es``)."""
    if not _CODE.match(code):
        raise ValueError(f"a language is a two- or three-letter code, got {code[:16]!r}")
    return code


@attrs.frozen
class ChatLanguage:
    language: str = attrs.field(converter=language_code)
    chosen: bool
    """Chosen by a person (``/language``, an owner for a channel); otherwise noted from
    Telegram's ``language_code``, which a later note may change but never overrides a
    choice."""


class LanguageBook(Protocol):
    """Raises Unavailable when its store cannot be reached."""

    async def get(self, chat_id: ChatId) -> ChatLanguage | None:
        """What ``chat_id`` reads, None when nothing was noted or chosen."""
        ...

    async def note(self, chat_id: ChatId, language: str) -> None:
        """What the person's Telegram app reports: kept unless a language was chosen."""
        ...

    async def choose(self, chat_id: ChatId, language: str) -> None:
        """A language chosen for ``chat_id``: it wins over every later note."""
        ...

    async def forget(self, chat_id: ChatId) -> bool:
        """Remove what is kept for ``chat_id`` (a person's data erased); True when
        something was kept."""
        ...
