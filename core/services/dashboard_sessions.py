"""Dashboard sessions, kept on the server: the browser holds only a random token.

A session starts at login with a fresh token (the id is rotated: a token planted
before login is never promoted), ends after 30 idle minutes or 12 hours in all,
whichever comes first, and can be ended here or on every device at once. The store
is keyed by the token's SHA-256, so what the store holds opens nothing.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import attrs

from core.domain.ids import UserId
from core.ports.clock import Clock, IdGenerator
from core.ports.dashboard import DashboardSession, SessionStore

TOUCH_EVERY = timedelta(minutes=1)
"""``last_seen`` is written at most this often: a page view need not be a write."""


@attrs.frozen
class SessionPolicy:
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)


def session_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@attrs.frozen
class StartedSession:
    token: str
    """For the cookie; never stored."""
    session: DashboardSession


@attrs.define(eq=False)
class DashboardSessions:
    _store: SessionStore
    _clock: Clock
    _ids: IdGenerator
    _policy: SessionPolicy = SessionPolicy()

    def _ttl(self, session: DashboardSession) -> int:
        now = self._clock.now()
        left = min(
            session.last_seen + self._policy.idle, session.created_at + self._policy.absolute
        )
        return max(1, int((left - now).total_seconds()) + 1)

    async def start(self, user_id: UserId, previous_token: str | None = None) -> StartedSession:
        """A new session for ``user_id``; the one the browser had (if any) ends."""
        if previous_token:
            await self._store.delete(session_key(previous_token))
        token = self._ids.new_id() + self._ids.new_id()
        now = self._clock.now()
        session = DashboardSession(
            session_key(token), user_id, self._ids.new_id() + self._ids.new_id(), now, now
        )
        await self._store.put(session, self._ttl(session))
        return StartedSession(token, session)

    async def resume(self, token: str) -> DashboardSession | None:
        """The live session of ``token``, its idle time restarted; None when there is
        none or it timed out (then it is also removed)."""
        if not token:
            return None
        key = session_key(token)
        session = await self._store.get(key)
        if session is None:
            return None
        now = self._clock.now()
        if (
            now >= session.last_seen + self._policy.idle
            or now >= session.created_at + self._policy.absolute
        ):
            await self._store.delete(key)
            return None
        if now - session.last_seen >= TOUCH_EVERY:
            session = attrs.evolve(session, last_seen=now)
            await self._store.put(session, self._ttl(session))
        return session

    async def end(self, token: str) -> None:
        await self._store.delete(session_key(token))

    async def end_everywhere(self, user_id: UserId) -> int:
        return await self._store.delete_user(user_id)
