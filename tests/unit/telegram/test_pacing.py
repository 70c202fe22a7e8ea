"""The pacing rate limiter against Telegram's documented limits, on virtual time."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable
from typing import Any

import attrs
import pytest
from telegram.error import RetryAfter

from adapters.outbound.telegram.errors import retry_after_seconds
from adapters.outbound.telegram.pacing import PacedRateLimiter, PacingLimits, Rate
from tests.unit.telegram.virtual_time import VirtualTime

CHANNEL = -1001234567890


@attrs.frozen
class Sent:
    at: float
    endpoint: str
    chat_id: int


class FakeBotApi:
    """Stands in for PTB's HTTP call: records when each call reached "Telegram",
    answers 429 where a test scripted one, and may take (virtual) time to answer."""

    def __init__(self, time: VirtualTime, latency: float = 0.0) -> None:
        self.time = time
        self.latency = latency
        self.sent: list[Sent] = []
        self.refusals: dict[tuple[str, int], list[int]] = {}
        self.in_flight = 0
        self.most_in_flight = 0

    def refuse(self, endpoint: str, chat_id: int, *retry_afters: int) -> None:
        self.refusals.setdefault((endpoint, chat_id), []).extend(retry_afters)

    async def call(self, endpoint: str, data: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(data["chat_id"])
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            self.sent.append(Sent(self.time.now, endpoint, chat_id))
            if self.latency:
                await self.time.sleep(self.latency)
            scripted = self.refusals.get((endpoint, chat_id))
            if scripted:
                raise RetryAfter(scripted.pop(0))
            return {"message_id": len(self.sent)}
        finally:
            self.in_flight -= 1

    def times(self, endpoint: str | None = None, chat_id: int | None = None) -> list[float]:
        return [
            s.at
            for s in self.sent
            if (endpoint is None or s.endpoint == endpoint)
            and (chat_id is None or s.chat_id == chat_id)
        ]


def request(
    limiter: PacedRateLimiter, api: FakeBotApi, endpoint: str, chat_id: int
) -> Awaitable[Any]:
    data = {"chat_id": chat_id}
    return limiter.process_request(
        callback=api.call,
        args=(endpoint, data),
        kwargs={},
        endpoint=endpoint,
        data=data,
        rate_limit_args=None,
    )


def most_in_any_window(times: list[float], per: float) -> int:
    """The most calls that fall in any half-open window of ``per`` seconds."""
    ordered = sorted(times)
    best = start = 0
    for end, at in enumerate(ordered):
        while ordered[start] <= at - per:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.fixture
def time() -> VirtualTime:
    return VirtualTime()


def limiter_on(time: VirtualTime, **overrides: Any) -> PacedRateLimiter:
    return PacedRateLimiter(PacingLimits(**overrides), clock=time.clock, sleep=time.sleep)


async def test_a_broadcast_puts_no_more_than_thirty_messages_in_its_first_second(
    time: VirtualTime,
) -> None:
    limiter, api = limiter_on(time), FakeBotApi(time)

    await time.run(request(limiter, api, "sendMessage", user) for user in range(1, 121))

    sent = api.times("sendMessage")
    assert len(sent) == 120
    assert len([t for t in sent if t < 1.0]) <= 30
    assert most_in_any_window(sent, 1.0) <= 30
    # Paced, not stalled: 120 messages in about four seconds.
    assert max(sent) == pytest.approx(119 / 30 * 1.05)


async def test_one_private_chat_gets_at_most_one_message_a_second(time: VirtualTime) -> None:
    limiter, api = limiter_on(time), FakeBotApi(time)

    await time.run(request(limiter, api, "sendMessage", 42) for _ in range(5))

    sent = api.times(chat_id=42)
    assert [round(b - a, 6) for a, b in itertools.pairwise(sent)] == [1.05] * 4


async def test_a_channel_gets_at_most_twenty_posts_a_minute(time: VirtualTime) -> None:
    limiter, api = limiter_on(time), FakeBotApi(time)

    await time.run(request(limiter, api, "sendMessage", CHANNEL) for _ in range(25))

    sent = api.times(chat_id=CHANNEL)
    assert most_in_any_window(sent, 60.0) <= 20
    assert sent[20] >= 60.0


async def test_a_busy_channel_does_not_hold_up_other_chats(time: VirtualTime) -> None:
    limiter, api = limiter_on(time), FakeBotApi(time)

    calls = [request(limiter, api, "sendMessage", CHANNEL) for _ in range(10)]
    calls += [request(limiter, api, "sendMessage", user) for user in range(1, 11)]
    await time.run(calls)

    assert max(api.times(chat_id=CHANNEL)) == pytest.approx(9 * 3.15)
    private = [s.at for s in api.sent if s.chat_id > 0]
    assert len(private) == 10
    assert max(private) < 1.0


async def test_channel_posts_keep_their_pace_through_a_later_broadcast(
    time: VirtualTime,
) -> None:
    limiter, api = limiter_on(time), FakeBotApi(time)

    calls = [request(limiter, api, "sendMessage", CHANNEL) for _ in range(8)]
    calls += [request(limiter, api, "sendMessage", user) for user in range(1, 601)]
    await time.run(calls)

    posts = api.times(chat_id=CHANNEL)
    # Each post waits at most one overall step for a broadcast message already going.
    lane_step = 1.05 / 30
    assert all(at <= n * (3.15 + lane_step) + 1e-9 for n, at in enumerate(posts))
    assert most_in_any_window(api.times(), 1.0) <= 30


async def test_bans_and_unbans_do_not_use_the_channel_message_bucket(time: VirtualTime) -> None:
    posts_only = VirtualTime()
    alone, alone_limiter = FakeBotApi(posts_only), limiter_on(posts_only)
    await posts_only.run(request(alone_limiter, alone, "sendMessage", CHANNEL) for _ in range(20))

    limiter, api = limiter_on(time), FakeBotApi(time)
    calls = [request(limiter, api, "sendMessage", CHANNEL) for _ in range(20)]
    for _ in range(30):
        calls.append(request(limiter, api, "banChatMember", CHANNEL))
        calls.append(request(limiter, api, "unbanChatMember", CHANNEL))
    await time.run(calls)

    assert api.times("sendMessage") == alone.times("sendMessage")
    admin = api.times("banChatMember") + api.times("unbanChatMember")
    assert len(admin) == 60
    # Their own budget (10/s by default): done in about six seconds, not 60 minutes.
    assert max(admin) < 6.5
    assert most_in_any_window(admin, 1.0) <= 10


async def test_admin_calls_are_paced_by_their_own_budget(time: VirtualTime) -> None:
    limiter, api = limiter_on(time, admin=Rate(2, 1.0), headroom=0.0), FakeBotApi(time)

    await time.run(request(limiter, api, "approveChatJoinRequest", CHANNEL) for _ in range(5))

    assert api.times() == [0.0, 0.5, 1.0, 1.5, 2.0]


async def test_waking_late_costs_no_throughput_and_never_crowds_a_window(
    time: VirtualTime,
) -> None:
    async def oversleep(seconds: float) -> None:
        await time.sleep(seconds + 0.002)  # a busy event loop wakes every sleeper late

    limiter = PacedRateLimiter(
        PacingLimits(admin=Rate(100, 1.0)), clock=time.clock, sleep=oversleep
    )
    api = FakeBotApi(time)

    await time.run(request(limiter, api, "unbanChatMember", CHANNEL) for _ in range(1000))

    sent = api.times()
    # On the grid of 10.5 ms slots, each call a little late: 95% of the budget, not 80%.
    assert max(sent) == pytest.approx(999 * 0.0105 + 0.002, abs=1e-6)
    assert most_in_any_window(sent, 1.0) <= 100


async def test_after_a_quiet_spell_the_pace_starts_afresh_without_a_burst(
    time: VirtualTime,
) -> None:
    limiter, api = limiter_on(time), FakeBotApi(time)
    await time.run(request(limiter, api, "sendMessage", 42) for _ in range(2))
    time.now += 10.0  # nothing to send for ten seconds

    await time.run(request(limiter, api, "sendMessage", 42) for _ in range(3))

    assert api.times(chat_id=42) == pytest.approx([0.0, 1.05, 11.05, 12.1, 13.15])


async def test_a_retry_after_pauses_only_the_chat_that_got_it(time: VirtualTime) -> None:
    limiter, api = limiter_on(time), FakeBotApi(time)
    api.refuse("sendMessage", 7, 5)

    await time.run(request(limiter, api, "sendMessage", user) for user in range(1, 31))

    first, retried = api.times(chat_id=7)
    assert first < 1.0
    assert retried >= first + 5
    others = [s.at for s in api.sent if s.chat_id != 7]
    assert len(others) == 29
    assert max(others) < 1.1  # the rest of the broadcast went on at its pace
    assert limiter.stats.retry_afters == 1
    assert limiter.stats.retries == 1


async def test_a_long_retry_after_goes_back_to_the_caller(time: VirtualTime) -> None:
    limiter, api = limiter_on(time, max_retry_wait=30.0), FakeBotApi(time)
    api.refuse("sendMessage", CHANNEL, 120)

    (task,) = await time.run([request(limiter, api, "sendMessage", CHANNEL)])

    error = task.exception()
    assert isinstance(error, RetryAfter)
    assert retry_after_seconds(error) == 120
    assert time.now == 0.0  # nobody sat out the two minutes here
    assert limiter.stats.surfaced == 1


async def test_the_paused_chat_stays_paused_for_the_next_call(time: VirtualTime) -> None:
    limiter, api = limiter_on(time, max_retries=0), FakeBotApi(time)
    api.refuse("sendMessage", CHANNEL, 20)

    (refused,) = await time.run([request(limiter, api, "sendMessage", CHANNEL)])
    assert isinstance(refused.exception(), RetryAfter)
    await time.run([request(limiter, api, "sendMessage", CHANNEL)])

    assert api.times(chat_id=CHANNEL) == [0.0, 20.0]


async def test_a_chat_paused_for_long_refuses_at_once_without_calling(time: VirtualTime) -> None:
    limiter, api = limiter_on(time, max_retry_wait=30.0), FakeBotApi(time)
    api.refuse("sendMessage", CHANNEL, 300)

    first, second = await time.run(
        [
            request(limiter, api, "sendMessage", CHANNEL),
            request(limiter, api, "sendMessage", CHANNEL),
        ]
    )

    assert isinstance(first.exception(), RetryAfter)
    refused = second.exception()
    assert isinstance(refused, RetryAfter)
    assert retry_after_seconds(refused) == 300
    assert api.times() == [0.0]  # Telegram heard one call, not two
    assert limiter.stats.surfaced == 2
    (private,) = await time.run([request(limiter, api, "sendMessage", 5)])
    assert private.result() == {"message_id": 2}


async def test_retries_stop_after_max_retries(time: VirtualTime) -> None:
    limiter, api = limiter_on(time, max_retries=2), FakeBotApi(time)
    api.refuse("sendMessage", 9, 1, 1, 1)

    (task,) = await time.run([request(limiter, api, "sendMessage", 9)])

    assert isinstance(task.exception(), RetryAfter)
    assert len(api.times(chat_id=9)) == 3
    assert limiter.stats.surfaced == 1


async def test_calls_in_flight_are_bounded(time: VirtualTime) -> None:
    limiter, api = limiter_on(time, max_concurrency=4), FakeBotApi(time, latency=2.0)

    await time.run(request(limiter, api, "getChatMember", CHANNEL) for _ in range(12))

    assert api.most_in_flight == 4
    assert api.times() == [0.0] * 4 + [2.0] * 4 + [4.0] * 4


async def test_unpaced_calls_do_not_wait_for_message_pacing(time: VirtualTime) -> None:
    limiter, api = limiter_on(time), FakeBotApi(time)

    calls = [request(limiter, api, "sendMessage", CHANNEL) for _ in range(3)]
    calls += [request(limiter, api, "deleteMessage", CHANNEL) for _ in range(3)]
    await time.run(calls)

    assert api.times("deleteMessage") == [0.0, 0.0, 0.0]
    assert api.times("sendMessage") == [0.0, pytest.approx(3.15), pytest.approx(6.3)]


async def test_concurrent_callers_keep_their_order_within_a_chat(time: VirtualTime) -> None:
    limiter = limiter_on(time)
    order: list[int] = []

    async def numbered(n: int) -> None:
        data = {"chat_id": 42}

        async def call(endpoint: str, payload: dict[str, Any]) -> dict[str, Any]:
            order.append(n)
            return {}

        await limiter.process_request(call, ("sendMessage", data), {}, "sendMessage", data, None)

    await time.run(numbered(n) for n in range(6))

    assert order == [0, 1, 2, 3, 4, 5]


async def test_a_message_retried_after_a_429_still_goes_before_the_next_one_to_its_chat(
    time: VirtualTime,
) -> None:
    # The second message waits for its slot while the first is on its way; the 429
    # then pauses the chat, and when the pause ends, the retry goes first.
    limiter, api = limiter_on(time), FakeBotApi(time, latency=0.1)
    api.refuse("sendMessage", 42, 1)
    order: list[str] = []

    async def note(text: str) -> None:
        await request(limiter, api, "sendMessage", 42)
        order.append(text)

    await time.run([note("first"), note("second")])

    assert order == ["first", "second"]
    assert api.times(chat_id=42) == pytest.approx([0.0, 1.1, 2.15])


async def test_a_cancelled_caller_gives_its_connection_back() -> None:
    limiter = PacedRateLimiter(PacingLimits(max_concurrency=1))
    started = asyncio.Event()

    async def hang(endpoint: str, payload: dict[str, Any]) -> dict[str, Any]:
        started.set()
        await asyncio.Event().wait()
        return {}

    async def quick(endpoint: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True}

    data = {"chat_id": 1}
    stuck = asyncio.create_task(
        limiter.process_request(hang, ("getChat", data), {}, "getChat", data, None)
    )
    await started.wait()
    stuck.cancel()
    result = await asyncio.wait_for(
        limiter.process_request(quick, ("getChat", data), {}, "getChat", data, None), 1.0
    )
    assert result == {"ok": True}
