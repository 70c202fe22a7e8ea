"""The AlertService: routing by severity, the repeat window on a fake clock, a circuit
breaker per channel whose state changes are announced on the other channels, and no
exception ever reaching the caller."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest

from adapters.outbound.alerts import AlertRoute, AlertService, BreakerSettings
from adapters.outbound.memory.clock import FrozenClock
from core.ports.alerts import Alert, Severity
from tests.unit.alerts.channels import ScriptedChannel

INFO = Alert(Severity.INFO, "Broadcast posted", key="broadcast.posted")
WARNING = Alert(Severity.WARNING, "Outbox is behind", key="outbox.lag", details={"rows": "412"})
CRITICAL = Alert(Severity.CRITICAL, "IPN signature failures", key="ipn.bad_signatures")

BREAKER = BreakerSettings(
    failure_threshold=3,
    reset_timeout=timedelta(minutes=5),
    call_timeout=timedelta(seconds=0.2),
)


def numbered(n: int) -> Alert:
    return Alert(Severity.WARNING, f"Payment {n} stuck", key=f"payment.stuck.{n}")


def service(clock: FrozenClock, *routes: AlertRoute) -> AlertService:
    return AlertService(routes, clock, repeat_window=timedelta(minutes=10), breaker=BREAKER)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


async def test_each_channel_gets_the_alerts_at_or_above_its_minimum_severity(
    clock: FrozenClock,
) -> None:
    log, chat, pager = ScriptedChannel("log"), ScriptedChannel("chat"), ScriptedChannel("pager")
    alerts = service(
        clock,
        AlertRoute(log),
        AlertRoute(chat, Severity.WARNING),
        AlertRoute(pager, Severity.CRITICAL),
    )

    for alert in (INFO, WARNING, CRITICAL):
        await alerts.send(alert)

    assert log.delivered == [INFO, WARNING, CRITICAL]
    assert chat.delivered == [WARNING, CRITICAL]
    assert pager.delivered == [CRITICAL]


async def test_the_same_key_fires_once_per_window_then_says_how_often_it_repeated(
    clock: FrozenClock,
) -> None:
    chat = ScriptedChannel("chat")
    alerts = service(clock, AlertRoute(chat))

    await alerts.send(WARNING)
    for _ in range(4):
        clock.advance(timedelta(minutes=2))
        await alerts.send(WARNING)
    clock.advance(timedelta(minutes=2))
    await alerts.send(WARNING)

    assert chat.attempts == 2
    assert chat.delivered[0] == WARNING
    assert chat.delivered[1].details == {
        "rows": "412",
        "suppressed_repeats": "4",
        "suppressed_since": "2025-01-01T00:00:00+00:00",
    }


async def test_different_keys_are_not_held_back_by_each_other(clock: FrozenClock) -> None:
    chat = ScriptedChannel("chat")
    alerts = service(clock, AlertRoute(chat))

    await alerts.send(numbered(1))
    await alerts.send(numbered(2))
    await alerts.send(numbered(1))

    assert chat.titles == ["Payment 1 stuck", "Payment 2 stuck"]


async def test_a_failing_channel_neither_stops_the_others_nor_raises(
    clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    down, broken, chat = ScriptedChannel("down"), ScriptedChannel("broken"), ScriptedChannel("chat")
    down.failing = True
    broken.broken = True
    alerts = service(clock, AlertRoute(down), AlertRoute(broken), AlertRoute(chat))

    with caplog.at_level(logging.WARNING, logger="paygate.alerts"):
        await alerts.send(CRITICAL)

    assert chat.delivered == [CRITICAL]
    failures = sorted(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert failures == [
        "alert channel broken could not deliver alert ipn.bad_signatures: RuntimeError",
        "alert channel down could not deliver alert ipn.bad_signatures:"
        " AlertDeliveryFailed: down: the receiver answered HTTP 503",
    ]


async def test_a_channel_that_never_answers_costs_at_most_the_call_timeout(
    clock: FrozenClock,
) -> None:
    stuck, chat = ScriptedChannel("stuck"), ScriptedChannel("chat")
    stuck.hang = True
    alerts = service(clock, AlertRoute(stuck), AlertRoute(chat))

    started = time.monotonic()
    await alerts.send(CRITICAL)
    elapsed = time.monotonic() - started

    assert chat.delivered == [CRITICAL]
    assert stuck.delivered == []
    assert 0.2 <= elapsed < 1.0


async def test_an_alert_no_channel_delivered_is_logged_as_an_error(
    clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    down = ScriptedChannel("down")
    down.failing = True
    alerts = service(clock, AlertRoute(down))

    with caplog.at_level(logging.ERROR, logger="paygate.alerts"):
        await alerts.send(CRITICAL)

    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        "alert ipn.bad_signatures [critical] IPN signature failures reached none of its 1 channels"
    ]


async def test_repeated_failures_open_a_channels_breaker_and_the_other_channels_are_told(
    clock: FrozenClock,
) -> None:
    webhook, chat = ScriptedChannel("webhook"), ScriptedChannel("chat")
    webhook.failing = True
    alerts = service(clock, AlertRoute(webhook), AlertRoute(chat))

    for n in range(1, 6):
        await alerts.send(numbered(n))

    # Three failures open the breaker; alerts 4 and 5 do not even try the webhook.
    assert webhook.attempts == 3
    assert chat.titles == [
        "Payment 1 stuck",
        "Payment 2 stuck",
        "Payment 3 stuck",
        "Alert channel webhook is failing; it is paused and retried in 5 min",
        "Payment 4 stuck",
        "Payment 5 stuck",
    ]
    announcement = chat.delivered[3]
    assert announcement.severity is Severity.WARNING
    assert announcement.key == "alerts.channel.webhook.open"
    assert announcement.details == {"channel": "webhook", "state": "open", "retry_in": "5 min"}


async def test_a_channel_that_works_again_after_the_reset_timeout_is_announced_closed(
    clock: FrozenClock,
) -> None:
    webhook, chat = ScriptedChannel("webhook"), ScriptedChannel("chat")
    webhook.failing = True
    alerts = service(clock, AlertRoute(webhook), AlertRoute(chat))
    for n in range(1, 4):
        await alerts.send(numbered(n))

    webhook.failing = False
    clock.advance(timedelta(minutes=5))
    await alerts.send(numbered(4))

    assert webhook.titles == ["Payment 4 stuck"]
    assert chat.titles[-2:] == ["Payment 4 stuck", "Alert channel webhook delivers again"]
    assert chat.delivered[-1].key == "alerts.channel.webhook.closed"
    assert chat.delivered[-1].severity is Severity.INFO


async def test_a_failed_trial_keeps_the_channel_paused_without_a_second_announcement(
    clock: FrozenClock,
) -> None:
    webhook, chat = ScriptedChannel("webhook"), ScriptedChannel("chat")
    webhook.failing = True
    alerts = service(clock, AlertRoute(webhook), AlertRoute(chat))
    for n in range(1, 4):
        await alerts.send(numbered(n))

    clock.advance(timedelta(minutes=5))
    await alerts.send(numbered(4))
    await alerts.send(numbered(5))

    assert webhook.attempts == 4
    assert [t for t in chat.titles if t.startswith("Alert channel")] == [
        "Alert channel webhook is failing; it is paused and retried in 5 min"
    ]


async def test_a_channel_that_opens_again_after_recovering_is_announced_again(
    clock: FrozenClock,
) -> None:
    """Breaker announcements skip the repeat window: "failing again" must not be
    swallowed after "delivers again", or operators would trust a dead channel."""
    webhook, chat = ScriptedChannel("webhook"), ScriptedChannel("chat")
    alerts = service(clock, AlertRoute(webhook), AlertRoute(chat))
    webhook.failing = True
    for n in range(1, 4):
        await alerts.send(numbered(n))
    webhook.failing = False
    clock.advance(timedelta(minutes=5))
    await alerts.send(numbered(4))

    webhook.failing = True
    for n in range(5, 8):
        await alerts.send(numbered(n))

    assert [t for t in chat.titles if t.startswith("Alert channel")] == [
        "Alert channel webhook is failing; it is paused and retried in 5 min",
        "Alert channel webhook delivers again",
        "Alert channel webhook is failing; it is paused and retried in 5 min",
    ]


async def test_when_two_channels_fail_each_is_announced_only_on_the_channel_still_working(
    clock: FrozenClock,
) -> None:
    email, webhook, chat = (
        ScriptedChannel("email"),
        ScriptedChannel("webhook"),
        ScriptedChannel("chat"),
    )
    email.failing = True
    webhook.failing = True
    alerts = service(clock, AlertRoute(email), AlertRoute(webhook), AlertRoute(chat))

    for n in range(1, 6):
        await alerts.send(numbered(n))

    # Both breakers open on the third alert, so neither is asked to carry the other's
    # announcement: only the three alerts were tried on each.
    assert email.attempts == 3
    assert webhook.attempts == 3
    announcements = sorted(t for t in chat.titles if t.startswith("Alert channel"))
    assert announcements == [
        "Alert channel email is failing; it is paused and retried in 5 min",
        "Alert channel webhook is failing; it is paused and retried in 5 min",
    ]


async def test_announcements_follow_each_channels_minimum_severity(clock: FrozenClock) -> None:
    webhook, log, pager = (
        ScriptedChannel("webhook"),
        ScriptedChannel("log"),
        ScriptedChannel("pager"),
    )
    webhook.failing = True
    alerts = service(
        clock, AlertRoute(webhook), AlertRoute(log), AlertRoute(pager, Severity.CRITICAL)
    )

    for _ in range(3):
        await alerts.send(CRITICAL)
        clock.advance(timedelta(minutes=10))

    assert log.titles[-1] == "Alert channel webhook is failing; it is paused and retried in 5 min"
    assert pager.titles == ["IPN signature failures"] * 3


def test_channel_names_must_be_unique(clock: FrozenClock) -> None:
    with pytest.raises(ValueError, match="unique"):
        service(clock, AlertRoute(ScriptedChannel("chat")), AlertRoute(ScriptedChannel("chat")))


def test_a_service_without_channels_is_refused(clock: FrozenClock) -> None:
    with pytest.raises(ValueError, match="at least one channel"):
        service(clock)
