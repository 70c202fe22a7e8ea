"""Dashboard sessions in Redis, shared by every web process.

A session is one JSON string under ``<prefix>s:<key>`` that expires with the session;
``<prefix>u:<user>`` is the set of a user's session keys (for logout everywhere),
kept as long as the longest session could live. Puts and removals are Lua scripts,
so the session and the set never disagree for another process.
"""

from __future__ import annotations

import json
from datetime import datetime

from redis.asyncio import Redis

from adapters.outbound.breaker import CircuitBreaker
from adapters.outbound.redis.client import guarded, redis_breaker
from core.domain.ids import UserId
from core.ports.dashboard import DashboardSession

DEFAULT_PREFIX = "paygate:dash:"
USER_SET_TTL = 12 * 3600 + 60

_PUT = """
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1
"""

_DELETE_USER = """
local keys = redis.call('SMEMBERS', KEYS[1])
local live = 0
for _, key in ipairs(keys) do
  live = live + redis.call('DEL', ARGV[1] .. key)
end
redis.call('DEL', KEYS[1])
return live
"""


def _dump(session: DashboardSession) -> str:
    return json.dumps(
        {
            "user": session.user_id,
            "csrf": session.csrf,
            "created": session.created_at.isoformat(),
            "seen": session.last_seen.isoformat(),
        }
    )


def _load(key: str, raw: bytes | str) -> DashboardSession:
    data = json.loads(raw)
    return DashboardSession(
        key,
        UserId(int(data["user"])),
        str(data["csrf"]),
        datetime.fromisoformat(data["created"]),
        datetime.fromisoformat(data["seen"]),
    )


class RedisSessionStore:
    """Implements SessionStore. Raises Unavailable when Redis cannot answer."""

    def __init__(
        self, client: Redis, *, prefix: str = DEFAULT_PREFIX, breaker: CircuitBreaker | None = None
    ) -> None:
        if not prefix:
            raise ValueError("Redis keys of PayGate are prefixed")
        self._client = client
        self._prefix = prefix
        self._breaker = breaker or redis_breaker()

    def _session(self, key: str) -> str:
        return f"{self._prefix}s:{key}"

    def _user(self, user_id: UserId) -> str:
        return f"{self._prefix}u:{user_id}"

    async def put(self, session: DashboardSession, ttl_seconds: int) -> None:
        if ttl_seconds < 1:
            raise ValueError("a session is kept for at least one second")
        keys = [self._session(session.key), self._user(session.user_id)]
        args: list[str | int] = [_dump(session), ttl_seconds, session.key, USER_SET_TTL]

        async def put() -> None:
            await self._client.eval(_PUT, 2, *keys, *args)

        await guarded(self._breaker, "keep a dashboard session", put)

    async def get(self, key: str) -> DashboardSession | None:
        async def read() -> bytes | str | None:
            raw: bytes | str | None = await self._client.get(self._session(key))
            return raw

        raw = await guarded(self._breaker, "read a dashboard session", read)
        return None if raw is None else _load(key, raw)

    async def delete(self, key: str) -> None:
        async def remove() -> None:
            await self._client.delete(self._session(key))

        await guarded(self._breaker, "end a dashboard session", remove)

    async def delete_user(self, user_id: UserId) -> int:
        async def remove_all() -> int:
            live = await self._client.eval(
                _DELETE_USER, 1, self._user(user_id), f"{self._prefix}s:"
            )
            return int(live)

        return await guarded(self._breaker, "end a user's dashboard sessions", remove_all)
