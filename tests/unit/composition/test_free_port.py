"""Ports chosen for servers started later never collide with ports the kernel hands
out meanwhile (the e2e fleets and the demo start emulators between choosing a port
and binding it)."""

from __future__ import annotations

import socket
from pathlib import Path

from composition.demo.environment import free_port

RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def test_a_port_for_later_is_free_and_below_the_ephemeral_range() -> None:
    lowest_ephemeral = int(RANGE.read_text().split()[0]) if RANGE.exists() else 32768

    ports = {free_port() for _ in range(20)}

    assert all(10_000 <= port < lowest_ephemeral for port in ports)
    for port in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # still free: nothing took it
