"""A breaker's outage alerts: one when the circuit opens, one when it closes again,
through the alert service (whose repeat window folds repeats of one key)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from adapters.outbound.alerts import AlertRoute, AlertService
from adapters.outbound.breaker import CircuitBreaker, OutageAlerts
from adapters.outbound.memory.clock import FrozenClock
from core.ports.alerts import Alert, Severity
from tests.unit.breaker.test_breaker import Boom, FakeClock, boom, ok


class RecordingChannel:
    """An alert channel that keeps what it delivered."""

    name = "recording"

    def __init__(self) -> None:
        self.delivered: list[Alert] = []

    async def deliver(self, alert: Alert) -> None:
        self.delivered.append(alert)

    async def send(self, alert: Alert) -> None:
        await self.deliver(alert)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_an_outage_alerts_once_when_the_circuit_opens_and_once_when_it_closes() -> None:
    clock, channel = FakeClock(), RecordingChannel()
    service = AlertService([AlertRoute(channel)], FrozenClock(datetime(2026, 3, 1, tzinfo=UTC)))
    breaker = CircuitBreaker("dep", failure_threshold=2, reset_timeout=30.0, clock=clock)
    breaker.listen(OutageAlerts(service, "The provider", "checkouts fail"))

    for _ in range(2):
        with pytest.raises(Boom):
            await breaker.call(boom)
    clock.advance(31)
    with pytest.raises(Boom):  # the trial fails: open again, the same outage
        await breaker.call(boom)
    await settle()
    assert [(a.severity, a.key) for a in channel.delivered] == [
        (Severity.CRITICAL, "dep:unreachable")
    ]
    assert channel.delivered[0].title == "The provider is unreachable: checkouts fail"

    clock.advance(31)
    assert await breaker.call(ok) == "ok"
    await settle()
    assert [(a.severity, a.key) for a in channel.delivered] == [
        (Severity.CRITICAL, "dep:unreachable"),
        (Severity.WARNING, "dep:reachable"),
    ]


async def test_a_listener_added_later_hears_transitions_beside_the_constructors() -> None:
    clock, seen = FakeClock(), []
    breaker = CircuitBreaker(
        "dep",
        failure_threshold=1,
        clock=clock,
        on_state_change=lambda name, old, new: seen.append(("first", str(new))),
    )
    breaker.listen(lambda name, old, new: seen.append(("later", str(new))))
    with pytest.raises(Boom):
        await breaker.call(boom)
    assert seen == [("first", "open"), ("later", "open")]
