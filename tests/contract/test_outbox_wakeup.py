"""The OutboxWakeup port, on every adapter, as the composition wires it: a unit of
work that commits outbox work wakes the dispatcher, in its own process and, where
the adapter reaches them (Postgres, a shared SQLite file), in another.

"Another process" here is a second adapter with a database connection of its own,
which is all a process is to the database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from sqlalchemy import text

from adapters.outbound.memory import InMemoryUnitOfWorkFactory
from adapters.outbound.memory.outbox_wakeup import InProcessOutboxWakeup
from adapters.outbound.postgres.outbox_wakeup import LISTENER_NAME, PostgresOutboxWakeup
from adapters.outbound.sqlite.outbox_wakeup import SqliteOutboxWakeup
from adapters.outbound.waking_uow import WakingUnitOfWorkFactory
from core.domain.ids import ChatId
from core.domain.messages import Verbatim
from core.domain.outbox import SendMessage
from core.ports.outbox_wakeup import OutboxWakeup
from core.ports.repositories import UnitOfWorkFactory
from tests.contract.backends_sql import postgres_engine, side_engine, sql_uow, sqlite_engine

SOON = timedelta(seconds=5)
"""How long a test lets a wake-up take to arrive; they take milliseconds."""
QUIET = timedelta(milliseconds=300)
"""How long a test listens to make sure no wake-up arrives."""


@attrs.define
class Processes:
    """Process A commits work; process B's dispatcher waits on ``b``. For the in-process
    adapter they are one process."""

    a_uow: UnitOfWorkFactory
    a: OutboxWakeup
    b: OutboxWakeup
    listening: Callable[[], Awaitable[None]]
    """Returns once B would hear of what A commits from now on."""
    database_url: str | None = None


async def _nothing() -> None:
    return None


async def in_process() -> AsyncIterator[Processes]:
    wakeup = InProcessOutboxWakeup()
    yield Processes(
        WakingUnitOfWorkFactory(InMemoryUnitOfWorkFactory(), wakeup), wakeup, wakeup, _nothing
    )


async def sqlite_file() -> AsyncIterator[Processes]:
    async with sqlite_engine() as engine:
        path = Path(str(engine.url.database))
        a = SqliteOutboxWakeup(path)
        b = SqliteOutboxWakeup(path)

        async def listening() -> None:
            await b.wait(timedelta(0))  # B's first look at the file

        try:
            yield Processes(
                WakingUnitOfWorkFactory(sql_uow(engine), a),
                a,
                b,
                listening,
            )
        finally:
            await a.close()
            await b.close()


async def postgres() -> AsyncIterator[Processes]:
    async with postgres_engine() as engine:
        url = engine.url.render_as_string(hide_password=False)
        a = PostgresOutboxWakeup(url)
        b = PostgresOutboxWakeup(url, reconnect_after=timedelta(milliseconds=100))

        async def listening() -> None:
            await b.wait(timedelta(0))  # starts B's listener
            await asyncio.wait_for(b.listening.wait(), SOON.total_seconds())
            await b.wait(timedelta(0))  # B looks once when it starts listening

        try:
            yield Processes(
                WakingUnitOfWorkFactory(sql_uow(engine), a),
                a,
                b,
                listening,
                url,
            )
        finally:
            await a.close()
            await b.close()


ADAPTERS = {"in-process": in_process, "sqlite": sqlite_file, "postgres": postgres}


@pytest.fixture(params=list(ADAPTERS), ids=list(ADAPTERS))
async def processes(request: pytest.FixtureRequest) -> AsyncIterator[Processes]:
    async for made in ADAPTERS[request.param]():
        yield made


async def queue_work(uow: UnitOfWorkFactory, key: str, commit: bool = True) -> None:
    async with uow() as tx:
        effect = SendMessage(ChatId(42), Verbatim("your link"))
        await tx.outbox.enqueue(key, effect, datetime.now(UTC))
        if commit:
            await tx.commit()


async def timed_wait(wakeup: OutboxWakeup, at_most: timedelta) -> tuple[bool, float]:
    loop = asyncio.get_running_loop()
    started = loop.time()
    woken = await wakeup.wait(at_most)
    return woken, loop.time() - started


async def test_committed_outbox_work_wakes_the_dispatcher(processes: Processes) -> None:
    await processes.listening()
    await queue_work(processes.a_uow, "grant:1")
    woken, took = await timed_wait(processes.b, SOON)
    assert woken
    assert took < 2.0


async def test_work_rolled_back_wakes_nobody(processes: Processes) -> None:
    await processes.listening()
    await queue_work(processes.a_uow, "grant:1", commit=False)
    assert await processes.b.wait(QUIET) is False


async def test_a_wait_with_nothing_to_hear_ends_after_at_most(processes: Processes) -> None:
    await processes.listening()
    woken, took = await timed_wait(processes.b, QUIET)
    assert woken is False
    assert took >= QUIET.total_seconds() * 0.9


async def test_a_wakeup_before_the_wait_is_kept_and_many_make_one(processes: Processes) -> None:
    await processes.listening()
    for _ in range(3):
        await processes.b.notify()
    woken, took = await timed_wait(processes.b, SOON)
    assert woken
    assert took < 1.0
    # Its own notifications reach a process once, not again by way of the database.
    assert await processes.b.wait(QUIET) is False


async def test_the_postgres_listener_comes_back_when_its_connection_is_killed() -> None:
    async for processes in postgres():
        b = processes.b
        assert isinstance(b, PostgresOutboxWakeup) and processes.database_url is not None
        await processes.listening()
        admin = side_engine(processes.database_url)
        try:
            async with admin.connect() as conn:
                killed = await conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = :name AND datname = current_database()"
                    ),
                    {"name": LISTENER_NAME},
                )
                assert killed.scalar_one() == 1
        finally:
            await admin.dispose()
        deadline = asyncio.get_running_loop().time() + SOON.total_seconds()
        while b.listening.is_set():  # until the listener notices
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.01)
        await asyncio.wait_for(b.listening.wait(), SOON.total_seconds())
        await b.wait(timedelta(0))
        await queue_work(processes.a_uow, "grant:2")
        assert await b.wait(SOON)
