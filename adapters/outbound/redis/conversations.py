"""The bot's conversations in Redis, shared by every process.

A person's conversation is a hash ``{data, version, expires}`` under
``<prefix>user:<id>``, and a sorted set ``<prefix>deadlines`` scores each person by
the moment their conversation times out, so the timeout sweep finds due ones without
scanning keys. Moments are the injected Clock's (milliseconds since the epoch), the
same time the SQL store and the rest of PayGate go by.

Every key has a TTL: a conversation's key lives ``grace`` past its timeout, so one
that times out while no bot process is sweeping is still found (and its person told)
when one comes back; after that Redis drops it on its own. Every write is one Lua
script, so racing processes never interleave inside a compare-and-set or a claim.
"""

from __future__ import annotations

import json
import math
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from adapters.outbound.breaker import CircuitBreaker
from adapters.outbound.redis.client import guarded, redis_breaker
from core.domain.ids import UserId
from core.ports.clock import Clock
from core.ports.conversations import (
    Conversation,
    StoredConversation,
    require_positive_limit,
    require_positive_ttl,
)

__all__ = ["DEFAULT_GRACE", "DEFAULT_PREFIX", "RedisConversationStore"]

DEFAULT_PREFIX = "paygate:conversation:"
DEFAULT_GRACE = timedelta(hours=1)

# KEYS: conversation, deadlines. ARGV: data, version, expires ms, key TTL ms, member,
# now ms, expected version ('' for none).
PUT_LUA = """
if ARGV[7] ~= '' then
  local held = redis.call('HMGET', KEYS[1], 'version', 'expires')
  if held[1] ~= ARGV[7] or tonumber(held[2]) <= tonumber(ARGV[6]) then
    return 0
  end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'version', ARGV[2], 'expires', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[5])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[4]) then
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
return 1
"""

# KEYS: conversation, deadlines. ARGV: member, now ms, expected version ('' for none).
DELETE_LUA = """
local held = redis.call('HMGET', KEYS[1], 'version', 'expires')
if not held[1] or tonumber(held[2]) <= tonumber(ARGV[2]) then
  return 0
end
if ARGV[3] ~= '' and held[1] ~= ARGV[3] then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"""

# KEYS: conversation, deadlines. ARGV: member, now ms.
CLAIM_LUA = """
local held = redis.call('HMGET', KEYS[1], 'data', 'version', 'expires')
if not held[1] then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return false
end
if tonumber(held[3]) > tonumber(ARGV[2]) then
  return false
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return held
"""


def _ms(moment: datetime) -> int:
    return math.floor(moment.timestamp() * 1000)


def _moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _data(conversation: Conversation) -> str:
    return json.dumps(
        {"step": conversation.step, "fields": conversation.as_dict()},
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    )


def _stored(user_id: UserId, data: Any, version: Any, expires: Any) -> StoredConversation:
    decoded = json.loads(_text(data))
    return StoredConversation(
        user_id=user_id,
        conversation=Conversation(decoded["step"], decoded["fields"]),
        version=_text(version),
        expires_at=_moment(int(_text(expires))),
    )


class RedisConversationStore:
    """Implements ConversationStore. Raises Unavailable when Redis cannot answer."""

    def __init__(
        self,
        client: Redis,
        clock: Clock,
        *,
        prefix: str = DEFAULT_PREFIX,
        grace: timedelta = DEFAULT_GRACE,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        if not prefix:
            raise ValueError("Redis keys of PayGate are prefixed")
        if grace <= timedelta(0):
            raise ValueError("a timed-out conversation is kept a positive time for its notice")
        self._client = client
        self._clock = clock
        self._prefix = prefix
        self._grace = grace
        self._breaker = breaker or redis_breaker()
        self._deadlines = f"{prefix}deadlines"
        self._put = client.register_script(PUT_LUA)
        self._delete = client.register_script(DELETE_LUA)
        self._claim = client.register_script(CLAIM_LUA)

    def key(self, user_id: UserId) -> str:
        return f"{self._prefix}user:{user_id}"

    async def get(self, user_id: UserId) -> StoredConversation | None:
        key = self.key(user_id)

        async def read() -> list[Any]:
            return list(await self._client.hmget(key, ["data", "version", "expires"]))

        data, version, expires = await guarded(self._breaker, "read conversation", read)
        if data is None or int(_text(expires)) <= _ms(self._clock.now()):
            return None
        return _stored(user_id, data, version, expires)

    async def put(
        self,
        user_id: UserId,
        conversation: Conversation,
        ttl: timedelta,
        *,
        if_version: str | None = None,
    ) -> str | None:
        require_positive_ttl(ttl)
        now = _ms(self._clock.now())
        version = secrets.token_hex(8)
        expires = now + math.ceil(ttl.total_seconds() * 1000)
        key_ttl = math.ceil((ttl + self._grace).total_seconds() * 1000)
        args: list[str | int] = [
            _data(conversation),
            version,
            expires,
            key_ttl,
            str(user_id),
            now,
            if_version or "",
        ]

        async def write() -> int:
            return int(await self._put(keys=[self.key(user_id), self._deadlines], args=args))

        written = await guarded(self._breaker, "write conversation", write)
        return version if written == 1 else None

    async def delete(self, user_id: UserId, *, if_version: str | None = None) -> bool:
        args: list[str | int] = [str(user_id), _ms(self._clock.now()), if_version or ""]

        async def remove() -> int:
            return int(await self._delete(keys=[self.key(user_id), self._deadlines], args=args))

        return await guarded(self._breaker, "end conversation", remove) == 1

    async def take_expired(self, limit: int) -> list[StoredConversation]:
        require_positive_limit(limit)
        now = _ms(self._clock.now())
        taken: list[StoredConversation] = []
        # Another process may claim some of the members read here first; every member
        # read leaves the due set either way (claimed, or its key gone), so reading
        # again gets fresh ones and a racing sweep still fills its batch.
        while len(taken) < limit:
            due = await self._due(now, limit - len(taken))
            if not due:
                break
            for member in due:
                held = await self._take(UserId(int(_text(member))), now)
                if held is not None:
                    taken.append(held)
        return taken

    async def _due(self, now: int, count: int) -> list[Any]:
        async def read() -> list[Any]:
            return list(
                await self._client.zrangebyscore(self._deadlines, "-inf", now, start=0, num=count)
            )

        return await guarded(self._breaker, "find timed-out conversations", read)

    async def _take(self, user_id: UserId, now: int) -> StoredConversation | None:
        """Atomic: of the processes that found the same due person, the first one's
        script removes the conversation and gets it; the others get None."""

        async def claim() -> Any:
            return await self._claim(
                keys=[self.key(user_id), self._deadlines], args=[str(user_id), now]
            )

        held = await guarded(self._breaker, "take timed-out conversation", claim)
        return _stored(user_id, *held) if held else None
