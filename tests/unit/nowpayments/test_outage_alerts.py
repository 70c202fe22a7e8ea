"""NowPayments lost and back, as a process reports it: its gateway's breaker opening
and closing makes one alert each way through the process's alert service."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from datetime import UTC, datetime

import aiohttp

from adapters.outbound.alerts import AlertRoute, AlertService
from adapters.outbound.breaker import CircuitBreaker
from adapters.outbound.memory.clock import FrozenClock
from composition.processes.process import report_provider_outages
from core.ports.alerts import Severity
from core.ports.errors import NotFound, Unavailable
from sandbox.nowpayments import NowPaymentsEmulator
from tests.unit.breaker.test_outage_alerts import RecordingChannel, settle
from tests.unit.nowpayments.conftest import API_KEY, IPN_SECRET
from tests.unit.nowpayments.test_gateway import gateway_for


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_nowpayments_lost_and_back_alerts_once_each_way() -> None:
    port, channel = closed_port(), RecordingChannel()
    alerts = AlertService([AlertRoute(channel)], FrozenClock(datetime(2026, 3, 1, tzinfo=UTC)))
    emulator = NowPaymentsEmulator(api_key=API_KEY, ipn_secret=IPN_SECRET)
    async with aiohttp.ClientSession() as session:
        gateway = gateway_for(
            session,
            f"http://127.0.0.1:{port}",
            breaker=CircuitBreaker("nowpayments", failure_threshold=2, reset_timeout=0.2),
        )
        report_provider_outages(gateway, alerts)
        for _ in range(5):
            with contextlib.suppress(Unavailable):
                await gateway.lookup_payment("1")
        await settle()
        lost = [(a.severity, a.key) for a in channel.delivered]

        await emulator.start(port=port)
        try:
            await asyncio.sleep(0.3)  # past the reset timeout: a trial call goes through
            for _ in range(2):
                with contextlib.suppress(NotFound):  # the provider answers: no such payment
                    await gateway.lookup_payment("1")
            await settle()
        finally:
            await emulator.stop()
    assert lost == [(Severity.CRITICAL, "nowpayments:unreachable")]
    assert [(a.severity, a.key) for a in channel.delivered] == [
        (Severity.CRITICAL, "nowpayments:unreachable"),
        (Severity.WARNING, "nowpayments:reachable"),
    ]
    assert channel.delivered[0].title.startswith("NowPayments is unreachable")
