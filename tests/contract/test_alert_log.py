"""AlertLog contract: alerts recorded with the channel they concern, read back
newest first for some channels or all, and forgotten past the history on the next
write; in memory, SQLite and Postgres. And the sink that records every alert."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

import pytest

from adapters.outbound.alerts.recording_sink import RecordingAlertSink
from adapters.outbound.memory import FrozenClock
from adapters.outbound.memory.alert_log import InMemoryAlertLog
from adapters.outbound.sqla.alert_log import SqlAlertLog
from core.domain.ids import ChannelId
from core.ports.alert_log import AlertLog, RecordedAlert
from core.ports.alerts import Alert, Severity
from tests.contract.backends_sql import postgres_engine, sqlite_engine
from tests.contract.builders import at

HISTORY = timedelta(days=7)
A, B = ChannelId("chalpha000000000000001"), ChannelId("chbeta0000000000000002")


@asynccontextmanager
async def memory() -> AsyncIterator[AlertLog]:
    yield InMemoryAlertLog(HISTORY)


def _sql(
    engine: Callable[[], AbstractAsyncContextManager[object]],
) -> Callable[[], AbstractAsyncContextManager[AlertLog]]:
    @asynccontextmanager
    async def log() -> AsyncIterator[AlertLog]:
        async with engine() as db:
            yield SqlAlertLog(db, HISTORY)  # type: ignore[arg-type]

    return log


LOGS = {"memory": memory, "sqlite": _sql(sqlite_engine), "postgres": _sql(postgres_engine)}


@pytest.fixture(params=list(LOGS), ids=list(LOGS))
async def log(request: pytest.FixtureRequest) -> AsyncIterator[AlertLog]:
    async with LOGS[request.param]() as found:
        yield found


def alert(title: str, channel: ChannelId | None, **delta: float) -> RecordedAlert:
    return RecordedAlert(
        at=at(**delta),
        severity=Severity.CRITICAL,
        title=title,
        key=f"k:{title}",
        channel_id=channel,
        details={"intent": "in000001", "note": "«ünïcode» ✅"},
    )


async def test_alerts_read_back_newest_first_by_channel(log: AlertLog) -> None:
    await log.record(alert("a1", A, minutes=1))
    await log.record(alert("none", None, minutes=2))
    await log.record(alert("b1", B, minutes=3))
    await log.record(alert("a2", A, minutes=4))
    assert [x.title for x in await log.recent([A], 10)] == ["a2", "a1"]
    assert [x.title for x in await log.recent([A, B], 10)] == ["a2", "b1", "a1"]
    assert [x.title for x in await log.recent(None, 10)] == ["a2", "b1", "none", "a1"]
    assert [x.title for x in await log.recent(None, 2)] == ["a2", "b1"]
    assert await log.recent([], 10) == []
    first = (await log.recent([A], 10))[-1]
    assert first == alert("a1", A, minutes=1)


async def test_alerts_past_the_history_are_forgotten_on_the_next_write(log: AlertLog) -> None:
    await log.record(alert("old", A))
    await log.record(alert("kept", A, days=6))
    assert [x.title for x in await log.recent(None, 10)] == ["kept", "old"]
    await log.record(alert("new", A, days=7, minutes=1))
    assert [x.title for x in await log.recent(None, 10)] == ["new", "kept"]


async def test_the_recording_sink_keeps_each_alert_with_its_channel() -> None:
    log = InMemoryAlertLog(HISTORY)
    clock = FrozenClock(at())
    sink = RecordingAlertSink(log, clock)
    await sink.send(Alert(Severity.WARNING, "about a channel", "k1", {"channel": A}))
    await sink.send(Alert(Severity.INFO, "about nothing", "k2", {"channel": "not an id!"}))
    recorded = await log.recent(None, 10)
    assert [(x.title, x.channel_id, x.at) for x in recorded] == [
        ("about nothing", None, at()),
        ("about a channel", A, at()),
    ]
