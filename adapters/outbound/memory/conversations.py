"""Conversations in process memory: the unit tests' and bot tests' store. A deployment
keeps them in its database or Redis, where every process sees them. Tests can make
the next calls fail as an unreachable store would (``fail_next``)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from adapters.outbound.memory.scripted_failures import ScriptedFailures
from core.domain.ids import UserId
from core.ports.clock import Clock
from core.ports.conversations import (
    Conversation,
    StoredConversation,
    require_positive_limit,
    require_positive_ttl,
)
from core.ports.errors import Unavailable


class InMemoryConversationStore:
    """Implements ConversationStore. No method awaits between reading and writing, so
    each one is atomic among the tasks of one event loop, as a database statement is
    among processes."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._held: dict[UserId, StoredConversation] = {}
        self._versions = itertools.count(1)
        self.failures = ScriptedFailures()

    def fail_next(self, count: int = 1) -> None:
        """The next ``count`` calls raise Unavailable, as a store that is down would."""
        self.failures.arm(Unavailable("conversation store unreachable"), count)

    def _live(self, user_id: UserId) -> StoredConversation | None:
        held = self._held.get(user_id)
        if held is None or held.expires_at <= self._clock.now():
            return None
        return held

    async def get(self, user_id: UserId) -> StoredConversation | None:
        self.failures.check()
        return self._live(user_id)

    async def put(
        self,
        user_id: UserId,
        conversation: Conversation,
        ttl: timedelta,
        *,
        if_version: str | None = None,
    ) -> str | None:
        require_positive_ttl(ttl)
        self.failures.check()
        if if_version is not None:
            held = self._live(user_id)
            if held is None or held.version != if_version:
                return None
        version = str(next(self._versions))
        expires_at = self._clock.now() + ttl
        self._held[user_id] = StoredConversation(user_id, conversation, version, expires_at)
        return version

    async def delete(self, user_id: UserId, *, if_version: str | None = None) -> bool:
        self.failures.check()
        held = self._live(user_id)
        if held is None or (if_version is not None and held.version != if_version):
            return False
        del self._held[user_id]
        return True

    async def take_expired(self, limit: int) -> list[StoredConversation]:
        require_positive_limit(limit)
        self.failures.check()
        now = self._clock.now()
        due = sorted(
            (held for held in self._held.values() if held.expires_at <= now),
            key=lambda held: (held.expires_at, held.user_id),
        )[:limit]
        for held in due:
            del self._held[held.user_id]
        return due
