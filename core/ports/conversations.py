"""Where each person is in a multi-step exchange with the bot (a donation's typed
amount, /register step by step), kept outside every process.

Any process may receive a person's next message (several web processes behind one
webhook URL, or a restarted bot), so the step a person is at is read from this store
for each update and written back before the bot answers: nothing in a process's
memory decides what a message means.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Protocol

import attrs

from core.domain.ids import UserId
from core.ports.errors import Unavailable

__all__ = [
    "Conversation",
    "ConversationStore",
    "FieldValue",
    "StoredConversation",
    "Unavailable",
    "require_positive_limit",
    "require_positive_ttl",
]

FieldValue = int | str
"""What a step may remember: chat and message ids, a channel id, short text."""

MAX_FIELDS = 16
MAX_TEXT = 256
_INT64 = 2**63
_STEP = re.compile(r"\A[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*\Z")
_FIELD = re.compile(r"\A[a-z][a-z0-9_]{0,31}\Z")
STEP_MAX_LENGTH = 64


def _valid_step(_: object, __: attrs.Attribute[str], step: str) -> None:
    if len(step) > STEP_MAX_LENGTH or not _STEP.match(step):
        raise ValueError(f"a conversation step is a dotted lowercase name, got {step!r:.80}")


def _field_value(name: str, value: object) -> FieldValue:
    # bool is an int to Python but would come back from JSON as a different thing.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"field {name!r} holds {type(value).__name__}, not int or str")
    if isinstance(value, int) and not -_INT64 <= value < _INT64:
        raise ValueError(f"field {name!r} does not fit in 64 bits")
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise ValueError(f"field {name!r} is longer than {MAX_TEXT} characters")
    return value


def _fields(
    given: Mapping[str, FieldValue] | tuple[tuple[str, FieldValue], ...],
) -> tuple[tuple[str, FieldValue], ...]:
    # Pairs too, so attrs.evolve() can hand the stored form back.
    pairs = list(given.items() if isinstance(given, Mapping) else given)
    if len(pairs) > MAX_FIELDS:
        raise ValueError(f"a conversation keeps at most {MAX_FIELDS} fields")
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise ValueError("a conversation's field names are unique")
    for name, value in pairs:
        if not isinstance(name, str) or not _FIELD.match(name):
            raise ValueError(f"a field name is a short lowercase identifier, got {name!r:.40}")
        _field_value(name, value)
    return tuple(sorted(pairs, key=lambda pair: pair[0]))


@attrs.frozen
class Conversation:
    """One person's exchange in progress: the step the bot waits at (``register.closed``)
    and what earlier steps collected. Only integers and short text, so every store keeps
    it as JSON and gives back exactly what it was given."""

    step: str = attrs.field(validator=_valid_step)
    fields: tuple[tuple[str, FieldValue], ...] = attrs.field(default=(), converter=_fields)

    def as_dict(self) -> dict[str, FieldValue]:
        return dict(self.fields)

    def number(self, name: str) -> int:
        """The integer field ``name``; KeyError when this step did not collect it."""
        value = self.as_dict()[name]
        if not isinstance(value, int):
            raise KeyError(f"{name} is not a number")
        return value

    def text(self, name: str) -> str:
        """The text field ``name``; KeyError when this step did not collect it."""
        value = self.as_dict()[name]
        if not isinstance(value, str):
            raise KeyError(f"{name} is not text")
        return value

    def with_fields(self, **more: FieldValue) -> Conversation:
        """The same step with ``more`` fields added (or replaced)."""
        return Conversation(self.step, {**self.as_dict(), **more})


@attrs.frozen
class StoredConversation:
    """A conversation as a store holds it."""

    user_id: UserId
    conversation: Conversation
    version: str
    """Changes with every write: a writer that read this version can ask to write only
    if nobody else wrote in between."""
    expires_at: datetime
    """The conversation ends at this moment unless a step is taken before."""


class ConversationStore(Protocol):
    """One conversation per person at most, each ending on its own after an idle time.

    Every adapter goes by the injected Clock (so PayGate's one notion of now decides
    when a conversation is over); where the store can expire data on its own (Redis
    key TTLs) that only clears away what nobody collected. Every method raises
    Unavailable when the store cannot be reached."""

    async def get(self, user_id: UserId) -> StoredConversation | None:
        """The person's conversation; None when there is none or its time is up."""
        ...

    async def put(
        self,
        user_id: UserId,
        conversation: Conversation,
        ttl: timedelta,
        *,
        if_version: str | None = None,
    ) -> str | None:
        """Make ``conversation`` the person's one conversation, ending ``ttl`` from now,
        and return its new version. ValueError unless ``ttl`` is positive
        (:func:`require_positive_ttl`).

        With ``if_version``, only if the conversation held now is still at that version
        and its time is not up: otherwise nothing is written and None is returned (another
        update of the same person got there first)."""
        ...

    async def delete(self, user_id: UserId, *, if_version: str | None = None) -> bool:
        """End the person's conversation (with ``if_version``, only at that version).
        True when a conversation whose time was not up was removed; one whose time is up
        is left for :meth:`take_expired`, so its "timed out" notice still goes out."""
        ...

    async def take_expired(self, limit: int) -> list[StoredConversation]:
        """Remove up to ``limit`` conversations whose time is up, oldest first, and
        return them. However many processes ask at once, each conversation is returned
        to exactly one of them, so exactly one tells the person it timed out. ValueError
        unless ``limit`` is at least one (:func:`require_positive_limit`)."""
        ...


def require_positive_ttl(ttl: timedelta) -> None:
    """A conversation lasts a positive time: one put with no time left would be over
    before the person could answer, and be taken at once as timed out. Every store
    checks this before it touches its data, so a bad ``ttl`` is a ValueError (a bug in
    the caller), never a write."""
    if ttl <= timedelta(0):
        raise ValueError("a conversation lasts a positive time")


def require_positive_limit(limit: int) -> None:
    """A timeout sweep takes at least one conversation: a batch of none would report
    nothing due while conversations wait for their notice. Every store checks this
    before it touches its data."""
    if limit < 1:
        raise ValueError("take at least one conversation")
