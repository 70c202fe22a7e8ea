"""A heavier slowloris than CI runs: thousands of slow sockets from 50 loopback
addresses held against one real ``paygate web`` with its default connection limits,
while a signed IPN is posted through the trusted proxy address every second.

Prints how many connections the process held, how many it refused, and how long the
IPNs and ``/healthz`` took. It is not a test (tests/e2e/test_held_connections.py is).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.e2e.lone_web import PROXY, lone_web
from tests.e2e.slow_clients import Kind, Tally, keep_holding
from tests.e2e.test_held_connections import open_connections

ADDRESSES = [f"127.0.1.{n}" for n in range(1, 51)]
SLOTS_PER_ADDRESS = 60
PACE = 5.0
"""Seconds between the bytes of a trickling socket, as in the issue's attack."""
SECONDS = 30.0


async def run(directory: Path) -> None:
    env = {"PAYGATE_TRUSTED_PROXIES": f"{PROXY}/32"}
    async with lone_web(directory, env) as web:
        tally = Tally()
        kinds = (Kind.IDLE, Kind.HEADERS, Kind.BODY)
        attack = [
            asyncio.create_task(
                keep_holding(kinds[slot % 3], web.port, source, PACE, SECONDS, tally)
            )
            for source in ADDRESSES
            for slot in range(SLOTS_PER_ADDRESS)
        ]
        cpu_before = web.process.cpu_seconds() or 0.0
        await asyncio.sleep(2.0)
        ipns: list[tuple[int, float]] = []
        probes: list[tuple[int, float]] = []
        held: list[float] = []
        while not all(task.done() for task in attack):
            ipns.append(await web.post_ipn())
            probes.append(await web.get("/healthz"))
            count = await open_connections(web.url)
            if count is not None:
                held.append(count)
            await asyncio.sleep(1.0)
        await asyncio.gather(*attack)
        cpu = (web.process.cpu_seconds() or 0.0) - cpu_before
        log = web.process.current_log()

    latencies = sorted(seconds for _, seconds in ipns)
    refusal_lines = sum(1 for line in log.splitlines() if "refused" in line)
    figures = {
        "slow socket slots (addresses x slots, one byte per 5 s)": (
            f"{len(ADDRESSES)} x {SLOTS_PER_ADDRESS} = {len(attack)}"
        ),
        "most open client-side at once": tally.most_open,
        "connections closed by the server": dict(tally.by_outcome()),
        "connections the server held (min / max)": f"{min(held):.0f} / {max(held):.0f}",
        "IPN statuses": sorted({status for status, _ in ipns}),
        "IPN latency median / p95 / max (s)": (
            f"{statistics.median(latencies):.3f} / "
            f"{latencies[int(len(latencies) * 0.95)]:.3f} / {latencies[-1]:.3f}"
        ),
        "/healthz statuses": sorted({status for status, _ in probes}),
        "refusal log lines": refusal_lines,
        "web process CPU seconds during the attack": round(cpu, 1),
    }
    width = max(len(name) for name in figures)
    for name, value in figures.items():
        sys.stdout.write(f"{name.ljust(width)}  {value}\n")


def main() -> None:
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(run(Path(directory)))
    sys.stdout.write(f"({time.monotonic() - started:.0f} s)\n")


if __name__ == "__main__":
    main()
