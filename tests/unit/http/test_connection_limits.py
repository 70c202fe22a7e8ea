"""The pure parts of the connection caps: the refusal log's pace, the caps' arithmetic,
and the fit to the process's file limit. The caps at work on real sockets are in
tests/e2e/test_held_connections.py."""

from __future__ import annotations

import asyncio
import ipaddress
import logging

import pytest

from adapters.inbound.http.connections import (
    DESCRIPTOR_HEADROOM,
    ConnectionGuard,
    ConnectionLimits,
    fit_to_descriptors,
    refusal_log,
)
from adapters.inbound.http.metrics import HttpMetrics


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def refusal_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]


async def test_a_flood_of_refusals_is_logged_once_and_summed_up_once_per_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    ticks = Ticks()
    log = refusal_log(interval=0.05, now=ticks)
    for _ in range(1000):
        log.note("too many", "203.0.113.9", "too many")
    ticks.now = 0.05
    await asyncio.sleep(0.1)
    assert refusal_lines(caplog) == [
        "refused a connection from 203.0.113.9: too many",
        "refused 999 more connections in the last 0.05 s (999 too many)",
    ]


def guard(limits: ConnectionLimits, reserved_for: str = "") -> ConnectionGuard:
    networks = [ipaddress.ip_network(reserved_for)] if reserved_for else []
    return ConnectionGuard(
        asyncio.Protocol, limits, networks, HttpMetrics(), refusal_log(now=Ticks())
    )


def address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


async def test_the_reserve_is_left_to_webhook_senders() -> None:
    caps = guard(ConnectionLimits(max_connections=4, max_per_client=10, reserved=2), "10.0.0.0/8")
    verdicts = [caps.admit(address(f"198.51.100.{n}"))[1] for n in range(3)]
    assert verdicts[:2] == [None, None]
    assert verdicts[2] is not None and "kept for webhook senders" in verdicts[2]
    assert [caps.admit(address("10.1.2.3"))[1] for _ in range(3)][:2] == [None, None]
    assert caps.open == 4


async def test_one_ipv6_host_is_counted_by_its_64() -> None:
    caps = guard(ConnectionLimits(max_connections=100, max_per_client=2, reserved=0))
    assert caps.admit(address("2001:db8:1:2::1"))[1] is None
    assert caps.admit(address("2001:db8:1:2::ffff"))[1] is None
    key, refusal = caps.admit(address("2001:db8:1:2:abcd::9"))
    assert key == "2001:db8:1:2::/64"
    assert refusal == "2 connections already open"
    assert caps.admit(address("2001:db8:1:3::1"))[1] is None


async def test_a_released_connection_frees_its_slot() -> None:
    caps = guard(ConnectionLimits(max_connections=10, max_per_client=1, reserved=0))
    key, _ = caps.admit(address("192.0.2.1"))
    assert caps.admit(address("192.0.2.1"))[1] is not None
    caps.release(key)
    assert caps.admit(address("192.0.2.1"))[1] is None


def test_a_cap_beyond_the_file_limit_is_lowered_to_fit() -> None:
    wanted = ConnectionLimits(max_connections=1000, reserved=100)
    fitted = fit_to_descriptors(wanted, 1024)
    assert fitted.max_connections == 1024 - DESCRIPTOR_HEADROOM
    assert fitted.reserved == (1024 - DESCRIPTOR_HEADROOM) // 10
    assert fit_to_descriptors(wanted, 65536) == wanted


def test_limits_refuse_a_reserve_as_large_as_the_cap() -> None:
    with pytest.raises(ValueError, match="reserved"):
        ConnectionLimits(max_connections=10, reserved=10)
