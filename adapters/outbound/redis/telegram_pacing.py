"""Telegram pacing buckets in Redis, shared by every process of the bot.

Telegram counts a bot's messages and administration calls per bot, whatever process
sends them. Each process's :class:`~adapters.outbound.telegram.pacing.PacedRateLimiter`
keeps its own queues, order and retries, and books each call's slot here: one Lua
script per call reads the call's buckets, books the next slot in each at Redis's own
time (``TIME``), and answers how long the caller waits for it. Redis runs a script
atomically, so two processes never get the same slot, and processes whose clocks
disagree still share one grid.

A bucket is a hash ``{next, paused}`` (microseconds of Redis time) under a prefixed
key: ``next`` is its next slot, ``paused`` the end of a 429's pause. Slots are
``interval`` apart on a grid; a call starting up to ``slack`` after its slot keeps
the grid, a later one restarts it from itself (no catch-up burst after an idle
spell). A key expires a second after it stops holding anything back: an expired
bucket and a free one are the same thing, so memory holds only buckets in use.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from redis.asyncio import Redis

from adapters.outbound.breaker import CircuitBreaker
from adapters.outbound.redis.client import guarded, lua_now, redis_breaker
from adapters.outbound.telegram.pacing import SharedBucket, Turn

__all__ = ["BOOK_LUA", "DEFAULT_PREFIX", "PAUSE_LUA", "RedisTelegramPacing"]

DEFAULT_PREFIX = "paygate:pacing:"

# KEYS[1]: the call's own bucket, KEYS[2] (optional): the lane it shares.
# ARGV[1]: the longest pause of the own bucket the caller waits out (µs); ARGV[2]: now
# (µs) for tests, '' for Redis TIME; then for bucket i: ARGV[3i] interval (µs),
# ARGV[3i+1] slack (µs), ARGV[3i+2] '1' when a slot may be booked ahead.
# Answers {0, wait}: booked, the slot is in `wait` µs; {1, wait}: a bucket that must be
# free now is not, nothing booked, ask again in `wait` µs; {2, wait}: the own bucket is
# paused for `wait` µs more, longer than the caller waits out, nothing booked.
BOOK_LUA = (
    lua_now(2)
    + """
local max_pause = tonumber(ARGV[1])
local nexts = {}
local pauses = {}
local start = now
local wait = 0
for i, key in ipairs(KEYS) do
  local state = redis.call('HMGET', key, 'next', 'paused')
  local next_at = tonumber(state[1])
  local paused = tonumber(state[2]) or 0
  if i == 1 and paused - now > max_pause then
    return {2, paused - now}
  end
  local ready = math.max(next_at or 0, paused)
  if ARGV[3 * i + 2] == '1' then
    start = math.max(start, ready)
  elseif ready - now > wait then
    wait = ready - now
  end
  nexts[i] = next_at
  pauses[i] = paused
end
if wait > 0 then
  return {1, wait}
end
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[3 * i])
  if interval > 0 then
    local next_at = nexts[i]
    if next_at == nil or start - next_at > tonumber(ARGV[3 * i + 1]) then
      next_at = start
    end
    next_at = next_at + interval
    redis.call('HSET', key, 'next', next_at)
    local until_us = math.max(next_at, pauses[i]) - now
    redis.call('PEXPIRE', key, math.ceil(until_us / 1000) + 1000)
  end
end
return {0, start - now}
"""
)

# KEYS[1]: the bucket Telegram paused. ARGV[1]: the pause (µs); ARGV[2]: now as above.
PAUSE_LUA = (
    lua_now(2)
    + """
local state = redis.call('HMGET', KEYS[1], 'next', 'paused')
local paused = math.max(tonumber(state[2]) or 0, now + tonumber(ARGV[1]))
redis.call('HSET', KEYS[1], 'paused', paused)
local until_us = math.max(tonumber(state[1]) or 0, paused) - now
redis.call('PEXPIRE', KEYS[1], math.ceil(until_us / 1000) + 1000)
return 1
"""
)


def _us(seconds: float) -> int:
    return max(0, round(seconds * 1_000_000))


class RedisTelegramPacing:
    """Implements ``SharedPacing`` (adapters/outbound/telegram/pacing.py). Raises
    :class:`~core.ports.errors.Unavailable` when Redis cannot answer; the limiter then
    paces alone at its share of the limits."""

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        breaker: CircuitBreaker | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        """``prefix``: one per bot (its limits are its own). ``clock``: microseconds
        since the epoch, for tests; None uses Redis ``TIME``."""
        if not prefix:
            raise ValueError("Redis keys of PayGate are prefixed")
        self._prefix = prefix
        self._breaker = breaker or redis_breaker("redis-telegram-pacing")
        self._clock = clock
        self._book = client.register_script(BOOK_LUA)
        self._pause = client.register_script(PAUSE_LUA)

    def _now(self) -> int | str:
        return "" if self._clock is None else self._clock()

    async def book(self, own: SharedBucket, lane: SharedBucket | None, max_pause: float) -> Turn:
        buckets = [own] if lane is None else [own, lane]
        keys = [self._prefix + bucket.key for bucket in buckets]
        args: list[int | str] = [_us(max_pause), self._now()]
        for bucket in buckets:
            args += [_us(bucket.interval), _us(bucket.slack), "1" if bucket.queue else "0"]

        async def run() -> tuple[int, int]:
            code, wait = await self._book(keys=keys, args=args)
            return int(code), int(wait)

        code, wait_us = await guarded(self._breaker, "telegram pacing", run)
        return Turn(booked=code == 0, wait=wait_us / 1_000_000, paused=code == 2)

    async def pause(self, key: str, seconds: float) -> None:
        if not seconds > 0 or math.isinf(seconds):
            return
        args: list[int | str] = [_us(seconds), self._now()]

        async def run() -> None:
            await self._pause(keys=[self._prefix + key], args=args)

        await guarded(self._breaker, "telegram pacing", run)
