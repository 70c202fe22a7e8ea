"""The production clock and id generator keep the promises the ports make."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.outbound.system import RandomIdGenerator, SystemClock
from core.domain.ids import ID_PATTERN


def test_the_clock_tells_aware_utc_time_of_now() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    after = datetime.now(UTC)
    assert now.tzinfo is UTC
    assert now.utcoffset() == timedelta(0)
    assert before <= now <= after


def test_ids_fit_the_id_contract() -> None:
    ids = [RandomIdGenerator().new_id() for _ in range(200)]
    assert all(ID_PATTERN.match(new) for new in ids)
    assert {len(new) for new in ids} == {32}
    assert all(set(new) <= set("0123456789abcdef") for new in ids)


def test_ids_do_not_repeat() -> None:
    generator = RandomIdGenerator()
    ids = [generator.new_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
