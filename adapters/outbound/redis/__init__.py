"""Redis adapters of the security ports: token buckets and replay nonces shared by
every web process. Keys are prefixed and every key has a TTL; each multi-step update
is one Lua script, so concurrent processes never interleave inside it."""

from adapters.outbound.redis.client import RedisProbe, connect_redis, redis_breaker
from adapters.outbound.redis.nonce_store import RedisNonceStore
from adapters.outbound.redis.rate_limiter import RedisRateLimiter

__all__ = [
    "RedisNonceStore",
    "RedisProbe",
    "RedisRateLimiter",
    "connect_redis",
    "redis_breaker",
]
