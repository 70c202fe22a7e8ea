"""The pieces of the HTTP edge that need no server: the outage alarm's pacing and the
header sets per environment."""

from __future__ import annotations

import asyncio

import pytest

from adapters.inbound.http.rate_limit import OutageAlarm
from adapters.inbound.http.routes import RouteClass, RoutePolicy
from adapters.inbound.http.security_headers import Environment, security_headers
from adapters.outbound.memory import InMemoryAlertSink
from core.ports.alerts import Alert, Severity
from core.ports.errors import Unavailable


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_outage_alert_is_raised_at_most_once_a_minute() -> None:
    sink, ticks = InMemoryAlertSink(), Ticks()
    alarm = OutageAlarm(sink, every=60.0, clock=ticks)
    down = Unavailable("redis rate limit failed: ConnectionError")

    for step in (0.0, 1.0, 59.0):
        ticks.now += step
        await alarm.raise_once(RouteClass.WEBHOOK, down)
    ticks.now += 1.0
    await alarm.raise_once(RouteClass.WEBHOOK, down)

    assert [(a.severity, a.key) for a in sink.alerts] == [
        (Severity.CRITICAL, "http:rate-limiter-unavailable")
    ] * 2
    assert sink.alerts[0].details == {
        "route_class": "webhook",
        "error": "redis rate limit failed: ConnectionError",
    }


class StuckSink:
    async def send(self, alert: Alert) -> None:
        await asyncio.sleep(30)


async def test_a_stuck_alert_sink_does_not_hold_the_request() -> None:
    alarm = OutageAlarm(StuckSink(), timeout=0.05)

    await asyncio.wait_for(alarm.raise_once(RouteClass.WEBHOOK, Unavailable("down")), 1.0)


def test_production_headers_are_strict_and_carry_the_nonce() -> None:
    headers = security_headers(Environment.PRODUCTION, "n0nce")

    assert headers["Content-Security-Policy"].split("; ")[:2] == [
        "default-src 'none'",
        "script-src 'nonce-n0nce' 'strict-dynamic'",
    ]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
    assert headers["X-Frame-Options"] == "DENY"


def test_development_headers_allow_inline_code_and_skip_hsts() -> None:
    headers = security_headers(Environment.DEVELOPMENT, "n0nce")

    assert "script-src 'self' 'unsafe-inline'" in headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in headers
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_a_route_reads_at_least_one_byte() -> None:
    with pytest.raises(ValueError, match="body_limit must be positive"):
        RoutePolicy(body_limit=0)
