"""The pacing rate limiter with buckets shared by every process of the bot, on
virtual time: it waits for the slots the shared buckets book, shares a 429's pause,
and, while they cannot be reached, paces alone at its share of every limit, saying so
once. The shared buckets here are a scripted fake; the Redis ones are checked against
a real server in tests/contract/redis/test_telegram_pacing.py."""

from __future__ import annotations

import itertools
import logging
from collections import defaultdict
from collections.abc import Awaitable
from typing import Any

import pytest
from telegram.error import RetryAfter

from adapters.outbound.memory import InMemoryAlertSink
from adapters.outbound.telegram.errors import retry_after_seconds
from adapters.outbound.telegram.pacing import (
    ALERT_KEY,
    BACK_ALERT_KEY,
    PacedRateLimiter,
    PacingLimits,
    SharedBucket,
    Turn,
)
from core.ports.alerts import Severity
from core.ports.errors import Unavailable
from tests.unit.telegram.test_pacing import FakeBotApi, most_in_any_window, request
from tests.unit.telegram.virtual_time import VirtualTime

CHANNEL = -1001234567890


class ScriptedSharedPacing:
    """Implements SharedPacing: books every call at once unless a test scripted the
    answers for a bucket, or took the buckets down; records what it was asked."""

    def __init__(self) -> None:
        self.down = False
        self.answers: dict[str, list[Turn]] = defaultdict(list)
        self.booked: list[tuple[str, str | None]] = []
        self.pauses: list[tuple[str, float]] = []
        self.refusals = 0

    async def book(self, own: SharedBucket, lane: SharedBucket | None, max_pause: float) -> Turn:
        if self.down:
            self.refusals += 1
            raise Unavailable("redis telegram pacing failed: ConnectionError")
        scripted = self.answers[own.key]
        turn = scripted.pop(0) if scripted else Turn(booked=True, wait=0.0)
        if turn.booked:
            self.booked.append((own.key, None if lane is None else lane.key))
        return turn

    async def pause(self, key: str, seconds: float) -> None:
        if self.down:
            raise Unavailable("redis telegram pacing failed: ConnectionError")
        self.pauses.append((key, seconds))


@pytest.fixture
def time() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
def shared() -> ScriptedSharedPacing:
    return ScriptedSharedPacing()


def limiter_on(
    time: VirtualTime,
    shared: ScriptedSharedPacing,
    alerts: InMemoryAlertSink | None = None,
    **overrides: Any,
) -> PacedRateLimiter:
    return PacedRateLimiter(
        PacingLimits(**overrides),
        shared=shared,
        alerts=alerts,
        clock=time.clock,
        sleep=time.sleep,
    )


def send(limiter: PacedRateLimiter, api: FakeBotApi, chat_id: int) -> Awaitable[Any]:
    return request(limiter, api, "sendMessage", chat_id)


async def test_a_call_goes_out_at_the_slot_the_shared_buckets_booked_for_it(
    time: VirtualTime, shared: ScriptedSharedPacing
) -> None:
    limiter, api = limiter_on(time, shared), FakeBotApi(time)
    shared.answers["chat:42"] = [Turn(booked=True, wait=0.7)]

    await time.run([send(limiter, api, 42)])

    assert api.times() == [0.7]
    assert shared.booked == [("chat:42", "overall")]


async def test_the_shared_buckets_set_the_pace_not_this_process(
    time: VirtualTime, shared: ScriptedSharedPacing
) -> None:
    # Booked at once every time: this process adds no spacing of its own on top.
    limiter, api = limiter_on(time, shared), FakeBotApi(time)

    await time.run(send(limiter, api, user) for user in range(1, 61))

    assert api.times() == [0.0] * 60


async def test_a_chat_busy_elsewhere_waits_without_holding_up_other_chats(
    time: VirtualTime, shared: ScriptedSharedPacing
) -> None:
    limiter, api = limiter_on(time, shared), FakeBotApi(time)
    shared.answers["chat:7"] = [Turn(booked=False, wait=0.8)]

    await time.run([send(limiter, api, 7), send(limiter, api, 8), send(limiter, api, 9)])

    assert api.times(chat_id=7) == [0.8]
    assert api.times(chat_id=8) == api.times(chat_id=9) == [0.0]


async def test_admin_calls_book_in_the_shared_admin_budget(
    time: VirtualTime, shared: ScriptedSharedPacing
) -> None:
    limiter, api = limiter_on(time, shared), FakeBotApi(time)
    shared.answers["admin"] = [Turn(booked=True, wait=0.25)]

    await time.run([request(limiter, api, "banChatMember", CHANNEL)])

    assert api.times() == [0.25]
    assert shared.booked == [("admin", None)]


async def test_a_chat_paused_elsewhere_for_long_refuses_at_once_without_calling(
    time: VirtualTime, shared: ScriptedSharedPacing
) -> None:
    limiter, api = limiter_on(time, shared, max_retry_wait=30.0), FakeBotApi(time)
    shared.answers[f"chat:{CHANNEL}"] = [Turn(booked=False, wait=119.2, paused=True)]

    (task,) = await time.run([send(limiter, api, CHANNEL)])

    error = task.exception()
    assert isinstance(error, RetryAfter)
    assert retry_after_seconds(error) == 120
    assert api.sent == []
    assert limiter.stats.surfaced == 1


async def test_a_429_pauses_the_bucket_for_every_process(
    time: VirtualTime, shared: ScriptedSharedPacing
) -> None:
    limiter, api = limiter_on(time, shared), FakeBotApi(time)
    api.refuse("sendMessage", 42, 5)

    await time.run([send(limiter, api, 42)])

    assert shared.pauses == [("chat:42", 5.0)]
    assert api.times(chat_id=42) == [0.0, 5.0]


async def test_unpaced_calls_still_heed_a_pause_shared_by_another_process(
    time: VirtualTime, shared: ScriptedSharedPacing
) -> None:
    limiter, api = limiter_on(time, shared), FakeBotApi(time)
    shared.answers[f"getChatMember:{CHANNEL}"] = [Turn(booked=False, wait=3.0)]

    await time.run([request(limiter, api, "getChatMember", CHANNEL)])

    assert api.times() == [3.0]


async def test_without_the_shared_buckets_each_process_keeps_to_its_share_of_every_limit(
    time: VirtualTime, shared: ScriptedSharedPacing
) -> None:
    shared.down = True
    limiter, api = limiter_on(time, shared, processes=3), FakeBotApi(time)

    calls = [send(limiter, api, user) for user in range(1, 31)]
    calls += [send(limiter, api, 42) for _ in range(3)]
    calls += [request(limiter, api, "unbanChatMember", CHANNEL) for _ in range(20)]
    await time.run(calls)

    # 30/s overall, 1/s per private chat, 10/s admin: a third of each, with headroom.
    assert most_in_any_window(api.times("sendMessage"), 1.0) == 10
    chat = api.times(chat_id=42)
    assert [round(b - a, 6) for a, b in itertools.pairwise(chat)] == [3.15, 3.15]
    admin = api.times("unbanChatMember")
    assert most_in_any_window(admin, 1.0) == 4
    assert max(admin) == pytest.approx(19 * 0.315)
    assert limiter.pacing_alone


async def test_without_redis_configured_the_limits_are_not_divided(time: VirtualTime) -> None:
    limiter = PacedRateLimiter(PacingLimits(processes=3), clock=time.clock, sleep=time.sleep)
    api = FakeBotApi(time)

    await time.run(send(limiter, api, user) for user in range(1, 31))

    assert max(api.times()) == pytest.approx(29 * 1.05 / 30)
    assert not limiter.pacing_alone


async def test_an_outage_is_alerted_and_logged_once(
    time: VirtualTime, shared: ScriptedSharedPacing, caplog: pytest.LogCaptureFixture
) -> None:
    shared.down = True
    alerts = InMemoryAlertSink()
    limiter, api = limiter_on(time, shared, alerts, processes=3), FakeBotApi(time)

    with caplog.at_level(logging.INFO, logger="adapters.outbound.telegram.pacing"):
        await time.run(send(limiter, api, user) for user in range(1, 21))

    assert len(api.sent) == 20
    assert shared.refusals == 20
    (alert,) = alerts.alerts
    assert alert.key == ALERT_KEY
    assert alert.severity is Severity.CRITICAL
    assert alert.details["processes"] == "3"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "1/3" in errors[0].getMessage()


async def test_when_the_shared_buckets_answer_again_every_call_books_in_them_again(
    time: VirtualTime, shared: ScriptedSharedPacing
) -> None:
    shared.down = True
    alerts = InMemoryAlertSink()
    limiter, api = limiter_on(time, shared, alerts, processes=3), FakeBotApi(time)
    await time.run(send(limiter, api, user) for user in range(1, 6))

    shared.down = False
    await time.run(send(limiter, api, user) for user in range(100, 110))

    assert not limiter.pacing_alone
    assert [own for own, _ in shared.booked] == [f"chat:{u}" for u in range(100, 110)]
    # Booked at once by the shared buckets: no longer a third of the pace.
    assert api.times()[5:] == [api.times()[5]] * 10
    # Back is said once; a second outage is news again.
    shared.down = True
    await time.run([send(limiter, api, 200)])
    assert [a.key for a in alerts.alerts] == [ALERT_KEY, BACK_ALERT_KEY, ALERT_KEY]


async def test_redis_lost_and_back_alerts_once_each_way(
    time: VirtualTime, shared: ScriptedSharedPacing
) -> None:
    shared.down = True
    alerts = InMemoryAlertSink()
    limiter, api = limiter_on(time, shared, alerts, processes=3), FakeBotApi(time)
    await time.run(send(limiter, api, user) for user in range(1, 11))
    shared.down = False
    await time.run(send(limiter, api, user) for user in range(100, 110))

    assert [(a.severity, a.key) for a in alerts.alerts] == [
        (Severity.CRITICAL, ALERT_KEY),
        (Severity.WARNING, BACK_ALERT_KEY),
    ]


async def test_redis_lost_and_back_before_the_alert_sink_is_attached_is_not_alerted(
    time: VirtualTime, shared: ScriptedSharedPacing
) -> None:
    shared.down = True
    limiter, api = limiter_on(time, shared), FakeBotApi(time)
    await time.run([send(limiter, api, 1)])
    shared.down = False
    await time.run([send(limiter, api, 2)])

    alerts = InMemoryAlertSink()
    limiter.report_outages_to(alerts)
    await time.run([])

    assert alerts.alerts == []


async def test_an_outage_seen_before_the_alert_sink_is_attached_is_alerted_then(
    time: VirtualTime, shared: ScriptedSharedPacing
) -> None:
    shared.down = True
    limiter, api = limiter_on(time, shared), FakeBotApi(time)
    await time.run([request(limiter, api, "getMe", 0)])

    alerts = InMemoryAlertSink()
    limiter.report_outages_to(alerts)
    await time.run([])

    assert [a.key for a in alerts.alerts] == [ALERT_KEY]


async def test_a_caller_waking_too_late_for_its_booked_slot_books_the_next_one(
    time: VirtualTime, shared: ScriptedSharedPacing
) -> None:
    stalls = [0.05]

    async def oversleep(seconds: float) -> None:
        # Once, a stalled process: it wakes far past the lane's slack.
        await time.sleep(seconds + (stalls.pop() if stalls else 0.0))

    limiter = PacedRateLimiter(PacingLimits(), shared=shared, clock=time.clock, sleep=oversleep)
    api = FakeBotApi(time)
    shared.answers["chat:42"] = [Turn(booked=True, wait=0.2)]
    shared.answers["overall"] = [Turn(booked=True, wait=0.1)]

    await time.run([send(limiter, api, 42)])

    # Booked for 0.2, awake at 0.25: going then would crowd the calls booked after it.
    assert shared.booked == [("chat:42", "overall"), ("overall", None)]
    assert api.times() == [pytest.approx(0.35)]
    assert limiter.stats.rebooked == 1


async def test_a_caller_waking_within_the_slack_keeps_its_slot(
    time: VirtualTime, shared: ScriptedSharedPacing
) -> None:
    async def oversleep(seconds: float) -> None:
        await time.sleep(seconds + 0.005)  # a busy event loop: late, within the slack

    limiter = PacedRateLimiter(PacingLimits(), shared=shared, clock=time.clock, sleep=oversleep)
    api = FakeBotApi(time)
    shared.answers["chat:42"] = [Turn(booked=True, wait=0.2)]

    await time.run([send(limiter, api, 42)])

    assert shared.booked == [("chat:42", "overall")]
    assert api.times() == [pytest.approx(0.205)]
    assert limiter.stats.rebooked == 0


async def test_the_next_call_books_while_the_one_before_waits_for_its_slot(
    time: VirtualTime, shared: ScriptedSharedPacing
) -> None:
    limiter, api = limiter_on(time, shared), FakeBotApi(time)
    shared.answers["admin"] = [Turn(booked=True, wait=w) for w in (0.5, 0.6, 0.7)]

    await time.run(request(limiter, api, "unbanChatMember", CHANNEL) for _ in range(3))

    # Two of this process's calls wait for booked slots at once; the third books when
    # the first goes out (0.5), so its slot is 0.7 after that.
    assert api.times() == [0.5, 0.6, pytest.approx(1.2)]
