"""The frozen clock: moves only when told, always in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from adapters.outbound.memory import FrozenClock


def test_time_stands_still_until_advanced() -> None:
    clock = FrozenClock(datetime(2025, 5, 1, 9, 30, tzinfo=UTC))

    assert clock.now() == clock.now() == datetime(2025, 5, 1, 9, 30, tzinfo=UTC)
    assert clock.advance(timedelta(minutes=90)) == datetime(2025, 5, 1, 11, 0, tzinfo=UTC)
    assert clock.now() == datetime(2025, 5, 1, 11, 0, tzinfo=UTC)


def test_a_time_given_in_another_zone_is_kept_as_the_same_instant_in_utc() -> None:
    clock = FrozenClock()
    clock.set(datetime(2025, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=3))))

    assert clock.now() == datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
    assert clock.now().tzinfo is UTC


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        FrozenClock(datetime(2025, 5, 1))  # noqa: DTZ001 - the naive value is the point
    with pytest.raises(ValueError, match="naive"):
        FrozenClock().set(datetime(2025, 5, 1))  # noqa: DTZ001 - the naive value is the point


def test_advance_does_not_go_back() -> None:
    clock = FrozenClock()
    start = clock.now()

    with pytest.raises(ValueError, match="forward"):
        clock.advance(timedelta(seconds=-1))
    assert clock.now() == start
