"""The repeat window on its own: what fires, what is counted, what is forgotten."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.outbound.alerts.repeats import RepeatSuppressor
from core.ports.alerts import Alert, Severity

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=10)
SLOW = Alert(Severity.WARNING, "Telegram is slow", key="telegram.slow", details={"p99": "2 s"})


def test_the_first_alert_of_a_key_fires_unchanged() -> None:
    repeats = RepeatSuppressor(WINDOW)

    assert repeats.admit(SLOW, T0) == SLOW


def test_repeats_inside_the_window_are_dropped_and_counted_on_the_next_firing() -> None:
    repeats = RepeatSuppressor(WINDOW)
    repeats.admit(SLOW, T0)

    dropped = [repeats.admit(SLOW, T0 + timedelta(minutes=m)) for m in (1, 5, 9)]
    fired = repeats.admit(SLOW, T0 + WINDOW)

    assert dropped == [None, None, None]
    assert fired is not None
    assert fired.details == {
        "p99": "2 s",
        "suppressed_repeats": "3",
        "suppressed_since": "2025-01-01T12:00:00+00:00",
    }


def test_the_count_starts_again_after_each_firing() -> None:
    repeats = RepeatSuppressor(WINDOW)
    repeats.admit(SLOW, T0)
    repeats.admit(SLOW, T0 + timedelta(minutes=1))
    repeats.admit(SLOW, T0 + WINDOW)

    quiet_window = repeats.admit(SLOW, T0 + 2 * WINDOW)

    assert quiet_window == SLOW


def test_a_more_severe_repeat_fires_at_once_and_a_milder_one_does_not() -> None:
    repeats = RepeatSuppressor(WINDOW)
    critical = Alert(Severity.CRITICAL, "Telegram is down", key="telegram.slow")
    repeats.admit(SLOW, T0)

    escalated = repeats.admit(critical, T0 + timedelta(minutes=1))
    milder = repeats.admit(SLOW, T0 + timedelta(minutes=2))

    assert escalated == critical
    assert milder is None


def test_keys_are_independent() -> None:
    repeats = RepeatSuppressor(WINDOW)
    other = Alert(Severity.WARNING, "Redis is slow", key="redis.slow")
    repeats.admit(SLOW, T0)

    assert repeats.admit(other, T0) == other


def test_past_max_keys_the_longest_quiet_key_is_forgotten_and_fires_again() -> None:
    repeats = RepeatSuppressor(WINDOW, max_keys=2)
    a, b, c = (Alert(Severity.INFO, f"event {n}", key=n) for n in "abc")
    for alert in (a, b, c):
        repeats.admit(alert, T0)

    assert repeats.admit(a, T0) == a
    assert repeats.admit(c, T0) is None


def test_a_window_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RepeatSuppressor(timedelta(0))
