"""Owners' own wording, in this process's memory (tests, the demo)."""

from __future__ import annotations

import attrs

from core.domain.ids import ChannelId
from core.ports.wordings import Wording, WordingKind

_Key = tuple[ChannelId, WordingKind, str]


@attrs.define
class _Entry:
    published: Wording | None = None
    draft: Wording | None = None
    failed: bool = False


class InMemoryWordingBook:
    """Implements WordingBook."""

    def __init__(self) -> None:
        self._entries: dict[_Key, _Entry] = {}

    async def get(self, channel_id: ChannelId, kind: WordingKind, language: str) -> Wording | None:
        entry = self._entries.get((channel_id, WordingKind(kind), language))
        return entry.published if entry is not None else None

    async def published(self, channel_id: ChannelId) -> list[Wording]:
        found = [
            entry.published
            for (channel, _, _), entry in self._entries.items()
            if channel == channel_id and entry.published is not None
        ]
        return sorted(found, key=lambda w: (list(WordingKind).index(w.kind), w.language))

    async def stage(self, draft: Wording) -> None:
        key = (draft.channel_id, draft.kind, draft.language)
        self._entries.setdefault(key, _Entry()).draft = draft

    async def draft(
        self, channel_id: ChannelId, kind: WordingKind, language: str
    ) -> Wording | None:
        entry = self._entries.get((channel_id, WordingKind(kind), language))
        return entry.draft if entry is not None else None

    async def publish(
        self, channel_id: ChannelId, kind: WordingKind, language: str
    ) -> Wording | None:
        entry = self._entries.get((channel_id, WordingKind(kind), language))
        if entry is None or entry.draft is None:
            return None
        entry.published, entry.draft, entry.failed = entry.draft, None, False
        return entry.published

    async def reset(self, channel_id: ChannelId, kind: WordingKind, language: str) -> bool:
        entry = self._entries.pop((channel_id, WordingKind(kind), language), None)
        return entry is not None and entry.published is not None

    async def first_failure(self, channel_id: ChannelId, kind: WordingKind, language: str) -> bool:
        entry = self._entries.get((channel_id, WordingKind(kind), language))
        if entry is None or entry.published is None or entry.failed:
            return False
        entry.failed = True
        return True
