"""Replay nonces in Redis: one ``SET key 1 NX EX ttl`` per nonce.

``NX`` makes the first writer win atomically across every process, and a refused
replay leaves the key (and so its remaining time to live) untouched.
"""

from __future__ import annotations

from redis.asyncio import Redis

from adapters.outbound.breaker import CircuitBreaker
from adapters.outbound.redis.client import guarded, redis_breaker

__all__ = ["DEFAULT_PREFIX", "RedisNonceStore"]

DEFAULT_PREFIX = "paygate:nonce:"


class RedisNonceStore:
    """Implements NonceStore. Raises Unavailable when Redis cannot answer."""

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        if not prefix:
            raise ValueError("Redis keys of PayGate are prefixed")
        self._client = client
        self._prefix = prefix
        self._breaker = breaker or redis_breaker()

    def key(self, scope: str, nonce: str) -> str:
        # The scope's length goes first, so ("a:b", "c") and ("a", "b:c") differ.
        return f"{self._prefix}{len(scope)}:{scope}:{nonce}"

    async def remember(self, scope: str, nonce: str, ttl_seconds: int) -> bool:
        if ttl_seconds < 1:
            raise ValueError("a nonce is remembered for at least one second")
        key = self.key(scope, nonce)

        async def put() -> bool:
            return bool(await self._client.set(key, b"1", nx=True, ex=ttl_seconds))

        return await guarded(self._breaker, "remember nonce", put)

    async def seen(self, scope: str, nonce: str) -> bool:
        key = self.key(scope, nonce)

        async def look() -> bool:
            return bool(await self._client.exists(key))

        return await guarded(self._breaker, "look up nonce", look)
