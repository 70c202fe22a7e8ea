"""The Redis client as PayGate uses it: short timeouts, no silent retries, a breaker.

A web request must never wait on a dead Redis. The driver's defaults would (a 20 s
pool wait, retries with backoff on every connection error), so the client made here
fails within a fraction of a second, and the breaker in front of every call refuses
at once while Redis is known to be down. Callers see
:class:`~core.ports.errors.Unavailable` and decide: webhooks fall back to a
per-process bucket, signed requests are refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from redis import exceptions as redis_errors
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from adapters.outbound.breaker import CircuitBreaker
from core.ports.errors import Unavailable

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "RedisProbe",
    "connect_redis",
    "lua_now",
    "redis_breaker",
    "translated",
]

T = TypeVar("T")

DEFAULT_TIMEOUT_SECONDS = 0.25
"""Connect, read and pool-wait budget of one command. A healthy Redis on the same
network answers in well under a millisecond; a request should not notice a dead one."""


def connect_redis(
    url: str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS, max_connections: int = 32
) -> Redis:
    """A client for ``url`` that gives up fast. The caller closes it (``aclose()``)."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        # The breaker and the caller's fallback handle failures; a retry loop inside
        # the driver would only make the request wait longer for the same answer.
        retry=Retry(NoBackoff(), 0),
    )
    return Redis.from_pool(pool)


def redis_breaker(
    name: str = "redis", *, timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> CircuitBreaker:
    """The breaker the Redis adapters share by default: a few failures open it, and a
    single trial call probes Redis again after a short pause."""
    return CircuitBreaker(
        name,
        failure_threshold=3,
        reset_timeout=5.0,
        half_open_max_calls=1,
        call_timeout=timeout * 4,
    )


def lua_now(arg: int) -> str:
    """Lua that sets ``now``, in microseconds: ``ARGV[arg]`` where a test gave a time,
    else Redis's own ``TIME``, so processes whose clocks disagree share one clock."""
    return f"""
local now = tonumber(ARGV[{arg}])
if now == nil then
  local clock = redis.call('TIME')
  now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
end
"""


@contextmanager
def translated(action: str) -> Iterator[None]:
    """Driver errors in, the port's Unavailable out (the message names no key or URL)."""
    try:
        yield
    except (redis_errors.RedisError, OSError) as exc:
        raise Unavailable(f"redis {action} failed: {type(exc).__name__}") from exc


async def guarded(breaker: CircuitBreaker, action: str, call: Callable[[], Awaitable[T]]) -> T:
    """``call()`` behind ``breaker`` with driver errors translated."""

    async def attempt() -> T:
        with translated(action):
            return await call()

    return await breaker.call(attempt)


class RedisProbe:
    """Readiness: Redis answers PING within the client's timeout."""

    def __init__(self, client: Redis) -> None:
        self._client = client

    async def __call__(self) -> None:
        with translated("ping"):
            await self._client.ping()
