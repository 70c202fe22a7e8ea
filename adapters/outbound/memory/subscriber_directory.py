"""The dashboard's subscriber directory and the people's usernames in process memory
(tests, the demo), over the committed rows of an InMemoryStore."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.outbound.memory.store import InMemoryStore
from adapters.outbound.memory.table import TableView
from core.domain.audit import AuditEvent
from core.domain.ids import UserId
from core.domain.subscription import Subscription
from core.ports.subscriber_directory import (
    DirectoryQuery,
    SubscriberKey,
    SubscriberRow,
    folded_username,
)


class InMemoryPersonNames:
    """Implements PersonNames."""

    def __init__(self) -> None:
        self.names: dict[UserId, str] = {}

    async def note(self, user_id: UserId, username: str | None) -> None:
        folded = None if username is None else folded_username(username)
        if username is not None and folded is None:
            raise ValueError(f"not a Telegram username: {username[:40]!r}")
        if folded is None:
            self.names.pop(user_id, None)
            return
        for other in [u for u, name in self.names.items() if name == folded and u != user_id]:
            del self.names[other]  # Telegram gives a username to one account at a time
        self.names[user_id] = folded

    async def name_of(self, user_id: UserId) -> str | None:
        return self.names.get(user_id)

    async def forget(self, user_id: UserId) -> bool:
        return self.names.pop(user_id, None) is not None


class InMemorySubscriberDirectory:
    """Implements SubscriberDirectory."""

    def __init__(self, store: InMemoryStore, names: InMemoryPersonNames) -> None:
        self._store = store
        self._names = names

    async def page(
        self, query: DirectoryQuery, after: SubscriberKey | None, limit: int
    ) -> Sequence[SubscriberRow]:
        channels = None if query.channels is None else set(query.channels)
        users = None if query.users is None else set(query.users)

        def wanted(sub: Subscription) -> bool:
            return (
                (channels is None or sub.channel_id in channels)
                and (query.status is None or sub.status is query.status)
                and (users is None or sub.user_id in users)
                and (after is None or (sub.expires_at, sub.id) < after)
            )

        view = TableView(self._store.subscriptions, self._store.locks, self, self._store.next_seq)
        found = sorted(view.select(wanted), key=lambda s: (s.expires_at, s.id), reverse=True)
        return [SubscriberRow(s, self._names.names.get(s.user_id)) for s in found[:limit]]

    async def users_named(self, username: str) -> Sequence[UserId]:
        return sorted(u for u, name in self._names.names.items() if name == username)

    async def audit_about(self, subjects: Sequence[str], limit: int) -> Sequence[AuditEvent]:
        wanted = set(subjects)
        view = TableView(self._store.audit, self._store.locks, self, self._store.next_seq)
        found = view.select(lambda e: e.subject in wanted, order=lambda e: -e.seq)
        return found[:limit]
