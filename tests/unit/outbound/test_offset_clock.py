"""The shifted clock that lets a test move several real processes through time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.outbound.system.clock import OffsetFileClock


def test_without_the_file_the_clock_tells_real_time(tmp_path: Path) -> None:
    clock = OffsetFileClock(tmp_path / "offset")
    before = datetime.now(UTC)
    now = clock.now()
    assert before <= now <= datetime.now(UTC)


def test_every_reader_of_the_file_sees_the_offset_written_to_it(tmp_path: Path) -> None:
    path = tmp_path / "offset"
    first, second = OffsetFileClock(path), OffsetFileClock(path)
    OffsetFileClock.write(path, timedelta(days=27, hours=1))
    for clock in (first, second):
        shift = clock.now() - datetime.now(UTC)
        assert timedelta(days=27, minutes=59) < shift <= timedelta(days=27, hours=1)


def test_a_rewritten_offset_is_picked_up_and_a_removed_file_means_none(tmp_path: Path) -> None:
    path = tmp_path / "offset"
    clock = OffsetFileClock(path)
    OffsetFileClock.write(path, timedelta(days=1))
    assert clock.now() - datetime.now(UTC) > timedelta(hours=23)
    OffsetFileClock.write(path, timedelta(days=-2))
    assert clock.now() - datetime.now(UTC) < timedelta(days=-1)
    path.unlink()
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


@pytest.mark.parametrize("content", ["soon", "", "nan", "inf"])
def test_a_file_that_is_not_a_number_of_seconds_stops_the_clock_loudly(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / "offset"
    path.write_text(content)
    with pytest.raises(ValueError, match="offset"):
        OffsetFileClock(path).now()
