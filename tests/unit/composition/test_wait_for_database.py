"""A process that starts before its database waits for it, within a bound; a schema
at the wrong revision is never waited for."""

from __future__ import annotations

import pytest

from adapters.outbound.sqla import SchemaMismatch
from composition.processes.process import wait_for_database
from core.ports.errors import Unavailable


class Timeline:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Database:
    """Unreachable for the first ``down`` checks, then answers ``then``."""

    def __init__(self, down: int, then: Exception | None = None) -> None:
        self.down = down
        self.then = then
        self.checks = 0

    async def check(self) -> None:
        self.checks += 1
        if self.checks <= self.down:
            raise Unavailable("connection refused")
        if self.then is not None:
            raise self.then


async def test_a_reachable_database_is_checked_once_without_waiting() -> None:
    time, database = Timeline(), Database(down=0)

    await wait_for_database(database.check, 30, clock=time.clock, sleep=time.sleep)

    assert (database.checks, time.slept) == (1, [])


async def test_a_database_that_comes_up_is_waited_for_with_growing_pauses() -> None:
    time, database = Timeline(), Database(down=3)

    await wait_for_database(database.check, 30, clock=time.clock, sleep=time.sleep)

    assert database.checks == 4
    assert time.slept == [0.5, 1.0, 2.0]


async def test_a_database_that_stays_down_is_given_up_on_at_the_deadline() -> None:
    time, database = Timeline(), Database(down=1_000)

    with pytest.raises(Unavailable):
        await wait_for_database(database.check, 3, clock=time.clock, sleep=time.sleep)

    # The last pause is cut to the deadline; one more check there, then it gives up.
    assert time.slept == [0.5, 1.0, 1.5]
    assert (time.now, database.checks) == (3.0, 4)


async def test_no_wait_means_the_first_refusal_stops_the_start() -> None:
    time, database = Timeline(), Database(down=1)

    with pytest.raises(Unavailable):
        await wait_for_database(database.check, 0, clock=time.clock, sleep=time.sleep)

    assert (database.checks, time.slept) == (1, [])


async def test_a_schema_at_the_wrong_revision_is_refused_at_once() -> None:
    time = Timeline()
    database = Database(down=1, then=SchemaMismatch("behind", ("0002",), ("0003",)))

    with pytest.raises(SchemaMismatch):
        await wait_for_database(database.check, 30, clock=time.clock, sleep=time.sleep)

    assert (database.checks, time.slept) == (2, [0.5])
