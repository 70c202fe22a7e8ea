"""Owners' own wording: per channel and per language, the text of the offer post, its
tier buttons' label, the welcome with the invite link, the reminder and the goodbye.

The core keeps the texts as the owner wrote them and never reads them: the catalog
checks them when they are saved and fills them in when a message goes out, in the
language its recipient reads then (as it looks the language up). A saved text may
still fail at send time (a title too long for the limit, a rule tightened since): the
catalog's own words go out instead and the owner is told once, so a template can
never stop a grant.

A change is staged as a draft first (what the owner previews) and takes effect when
published, so a preview never reaches a subscriber.
"""

from __future__ import annotations

import enum
from typing import Protocol

import attrs

from core.domain.ids import ChannelId, UserId
from core.ports.errors import Unavailable
from core.ports.languages import language_code

__all__ = ["MAX_TEMPLATE", "Unavailable", "Wording", "WordingBook", "WordingKind"]

MAX_TEMPLATE = 8192
"""Characters a stored template may hold (its markup and placeholders included); the
catalog holds the rendered text to Telegram's tighter limits."""


class WordingKind(enum.StrEnum):
    OFFER = "offer"
    """The offer post in the open channel."""
    OFFER_BUTTON = "button"
    """The label of each tier's button under the offer."""
    INVITE = "welcome"
    """The welcome with the subscriber's invite link."""
    REMINDER = "reminder"
    ENDED = "goodbye"


def _template(_: object, __: attrs.Attribute[str], text: str) -> None:
    if not text.strip():
        raise ValueError("a template has words")
    if len(text) > MAX_TEMPLATE:
        raise ValueError(f"a template is at most {MAX_TEMPLATE} characters")


@attrs.frozen
class Wording:
    channel_id: ChannelId
    kind: WordingKind = attrs.field(converter=WordingKind)
    language: str = attrs.field(converter=language_code)
    text: str = attrs.field(validator=_template)
    author: UserId
    """Who wrote it: the one told when it cannot be used."""


class WordingBook(Protocol):
    """Raises Unavailable when its store cannot be reached."""

    async def get(self, channel_id: ChannelId, kind: WordingKind, language: str) -> Wording | None:
        """The published text, None when the channel uses the catalog's words."""
        ...

    async def published(self, channel_id: ChannelId) -> list[Wording]:
        """Every published text of the channel, by kind then language."""
        ...

    async def stage(self, draft: Wording) -> None:
        """Keep ``draft`` for its author to look at; replaces an earlier draft of the
        same kind and language, and changes nothing subscribers read."""
        ...

    async def draft(
        self, channel_id: ChannelId, kind: WordingKind, language: str
    ) -> Wording | None: ...

    async def publish(
        self, channel_id: ChannelId, kind: WordingKind, language: str
    ) -> Wording | None:
        """The staged draft becomes the published text (None: there was no draft)."""
        ...

    async def reset(self, channel_id: ChannelId, kind: WordingKind, language: str) -> bool:
        """Back to the catalog's words (draft dropped too); False when there was none."""
        ...

    async def first_failure(self, channel_id: ChannelId, kind: WordingKind, language: str) -> bool:
        """The published text could not be used: True the first time since it was
        published (its author is told then), False every later time."""
        ...
