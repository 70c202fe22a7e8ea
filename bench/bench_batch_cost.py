"""Where a batch of payment notifications spends its time on Postgres.

``bench_ipn_path`` measures the whole path under load; this one takes the HTTP edge
and the load away and applies batches of verified, unique, paying notifications one
after another on one connection, so the process's CPU during a batch is the batch's
own. For each batch size it prints:

* CPU and wall time per batch and per notification;
* statements per batch (BEGIN and COMMIT not counted) and, of the CPU, the share
  spent inside the driver's calls (sending, waiting for and decoding each statement:
  what a round trip costs the process) against the rest (the use case, building
  parameters, SQLAlchemy's own work, reading rows back into domain objects).

What it showed when written (2-core VM): a batch of one costs ~4.9 ms of CPU and
7.6 ms of wall time; each further notification adds only ~0.5 ms of CPU. About a
third of the CPU is inside the driver's calls, two thirds around them (SQLAlchemy's
execution and result machinery, the use case, parameters and rows). So under light
load (batches of one or two) the fixed cost of a unit of work decides latency, and
removing round trips alone moves it less than their count suggests.

Since then a batch went from five statements plus BEGIN and COMMIT to two and none
(the audit chain hashed in SQL, the events and the compare-and-set held for the one
write, which runs alone outside a transaction): a batch of one is ~3.7 ms of CPU and
6.2 ms of wall time, a batch of sixteen ~9.5 ms and 17 ms.

Postgres: ``PAYGATE_BENCH_POSTGRES_URL`` (default the test server); a database of its
own is created and dropped. Run it from the checkout as a module (it borrows the
set-up of ``bench_ipn_path``): ``.venv/bin/python -m bench.bench_batch_cost``.
Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from contextlib import AsyncExitStack
from typing import Any

import aiohttp
from multidict import CIMultiDict
from sqlalchemy import event

from adapters.outbound.memory import InMemoryAlertSink
from bench.bench_ipn_path import (
    bench_gateway,
    bench_use_cases,
    ipn,
    postgres_database,
    say,
    seed,
)
from composition.assembly import database_config, opened_store
from core.domain.payment import EventOutcome, ProviderNotification
from core.services.verify_payment import VerificationResult

SIZES = (1, 2, 4, 8, 16)
WARM_UP = 100


class DriverTime:
    """CPU and wall time spent inside the driver's calls (SQLAlchemy cursor events)."""

    def __init__(self) -> None:
        self.statements = 0
        self.cpu = 0.0
        self._started = 0.0

    def before(self, *_: Any) -> None:
        self._started = time.thread_time()

    def after(self, *_: Any) -> None:
        self.statements += 1
        self.cpu += time.thread_time() - self._started


async def run(notifications_per_size: int) -> None:
    async with AsyncExitStack() as stack:
        session = await stack.enter_async_context(aiohttp.ClientSession())
        gateway = bench_gateway(session)
        url = await postgres_database(stack)
        if url is None:
            return
        # The store as a process on that database opens it (production's engine).
        store = await stack.enter_async_context(opened_store(database_config(url)))
        engine = store.engine
        uc = bench_use_cases(store.uow, gateway, InMemoryAlertSink())
        total = WARM_UP + notifications_per_size * len(SIZES)
        intents = await seed(uc, store.uow, total)
        verify = uc.verify_payment()
        notifications: list[ProviderNotification] = []
        for n, intent in enumerate(intents):
            body, headers = ipn(intent, 9_000_000_000 + n)
            notifications.append(gateway.verify_notification(body, CIMultiDict(headers)))

        driver = DriverTime()
        event.listen(engine.sync_engine, "before_cursor_execute", driver.before)
        event.listen(engine.sync_engine, "after_cursor_execute", driver.after)

        def granted(results: list[VerificationResult | Exception]) -> None:
            for result in results:
                if not isinstance(result, VerificationResult):
                    raise RuntimeError(f"a notification was not applied: {result}")
                if result.outcome is not EventOutcome.GRANTED:
                    raise RuntimeError(f"a notification was not granted: {result.outcome}")

        for start in range(WARM_UP):  # statements prepared, pool filled, caches warm
            granted(list(await verify.execute_many(notifications[start : start + 1])))

        python = sys.version.split()[0]
        say(f"Batches of paying notifications on Postgres, one at a time, Python {python}")
        say(
            f"{'size':>4} {'batches':>7} {'CPU/batch':>10} {'CPU/IPN':>8} {'wall/batch':>11}"
            f" {'statements':>10} {'in driver':>9}"
        )
        cursor = WARM_UP
        for size in SIZES:
            batches = notifications_per_size // size
            cpu: list[float] = []
            wall: list[float] = []
            driver.statements, driver.cpu = 0, 0.0
            for _ in range(batches):
                batch = notifications[cursor : cursor + size]
                cursor += size
                cpu_before, wall_before = time.thread_time(), time.perf_counter()
                granted(list(await verify.execute_many(batch)))
                cpu.append((time.thread_time() - cpu_before) * 1000)
                wall.append((time.perf_counter() - wall_before) * 1000)
            mean_cpu = statistics.mean(cpu)
            say(
                f"{size:4d} {batches:7d} {mean_cpu:8.2f}ms {mean_cpu / size:6.2f}ms"
                f" {statistics.median(wall):9.2f}ms {driver.statements / batches:10.1f}"
                f" {driver.cpu * 1000 / sum(cpu):8.0%}"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=(
            "CPU and wall time of batches of 1-16 paying notifications applied on Postgres "
            "one after another, and the share of CPU spent in the driver's calls. Takes "
            "under a minute."
        )
    )
    parser.add_argument(
        "--notifications",
        type=int,
        default=800,
        help="notifications applied per batch size (default 800)",
    )
    args = parser.parse_args(argv)
    if args.notifications < max(SIZES):
        parser.error(f"--notifications must be at least {max(SIZES)}")
    asyncio.run(run(args.notifications))


if __name__ == "__main__":
    main()
