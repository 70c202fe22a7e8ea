"""The expiry sweep at 100,000 and 1,000,000 subscriptions, 10% of them due, on
Postgres and SQLite: time, and peak memory (prints figures; not a test).

What runs is the real use case, ``ExpireSubscriptions`` from the production
containers over the store a process opens (``composition.assembly``: production's
engine, pool and timeouts), with the production defaults (reminders 72 h and 24 h
ahead, no grace, keyset pages of 200, one unit of work per page), with the clock
frozen at the moment the data was made. It sweeps until nothing is due: one sweep
does the work, a second one must find nothing (its time is what an idle sweep costs
at that size).

The data, made through the adapter's own row mapping (``subscription_to_row``; the
channels through the channel repository, with three tiers and a sealed payout
wallet), loaded with COPY on Postgres and big ``executemany`` batches on SQLite:

    10%  active, ended within the last 30 days      due for expiry
     2%  active, ending within the next 72 hours    due for a reminder
    20%  ended earlier (expired or revoked)         history the sweep must skip
    68%  active, ending 3 to 365 days from now      not due

Ids are random like ``RandomIdGenerator``'s, so the table's physical order has
nothing to do with the sweep's order (the pessimistic case for the updates).
Postgres gets ``VACUUM ANALYZE`` after the load, as autovacuum would give it; SQLite
gets nothing, as in production.

Each (backend, size) sweeps in a fresh process, so sizes do not share a heap. Memory
is the growth of the peak resident set from just before the sweep to its end: the
peak (VmHWM) is reset through ``/proc/self/clear_refs`` just before the sweep and
compared with the resident set (VmRSS) at that moment; where that is not available,
``ru_maxrss`` (the peak since the process started) stands in. ``--tracemalloc`` adds
the peak of Python allocations, at the price of a much slower sweep.

Targets (issue #6), checked between the smallest and the largest size run:
  * peak RSS growth at the largest size at most 50 MB;
  * that growth at most 10 MB above the smallest size's;
  * time proportional to the due rows: the time per due row at the largest size at
    most 1.5 times that at the smallest (a margin for a shared two-core machine).

Postgres: ``PAYGATE_BENCH_POSTGRES_URL`` (default the test server); a database of its
own per size is created and dropped. SQLite: a file in a temporary directory.

Run:  .venv/bin/python bench/bench_expiry_sweep.py           (100k and 1M: about 17 min
      on a quiet two-core machine, the 1M sweeps acting on ~120,000 rows each at 2-5 ms
      a row; twice that or more while other work shares the cores)
      .venv/bin/python bench/bench_expiry_sweep.py --quick   (10k and 100k, about 2 min)
      --backends sqlite  --sizes 50000,500000  --explain  --tracemalloc; --help for all.
Exit status 1 if a target is missed or the sweep's results are not what the data asks.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import resource
import secrets
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
from sqlalchemy import event, func, insert, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from adapters.outbound.crypto import generate_key
from adapters.outbound.memory import (
    FrozenClock,
    InMemoryAlertSink,
    InMemoryChatAccess,
    InMemoryMessenger,
    InMemoryPaymentGateway,
)
from adapters.outbound.sqla import upgrade
from adapters.outbound.sqla.subscriptions import subscription_to_row
from adapters.outbound.sqla.tables import audit_events, outbox, subscriptions
from composition.assembly import Store, assembled, database_config, opened_store
from composition.config import Config
from core.domain.channel import Channel, DonationBounds, PayoutWallet
from core.domain.ids import ChannelId, ChatId, SubscriptionId, UserId
from core.domain.money import Money
from core.domain.subscription import Subscription, SubscriptionStatus
from core.domain.tier import Tier
from core.services.expiry import ExpirySettings

POSTGRES_URL = os.environ.get(
    "PAYGATE_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ("postgres", "sqlite")
FULL_SIZES = (100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
DUE_SHARE = 0.10
REMIND_SHARE = 0.02
ENDED_SHARE = 0.20
CHANNELS = 100
SEED_BATCH = 20_000
MB = 1024 * 1024

GROWTH_LIMIT_MB = 50.0
GROWTH_SPREAD_LIMIT_MB = 10.0
PER_ROW_RATIO_LIMIT = 1.5

LOADING = {"PAYGATE_DB_STATEMENT_TIMEOUT_SECONDS": "600"}
"""Loading is not what is measured, and a COPY of 20,000 rows or a VACUUM ANALYZE
may take longer than production's statement timeout: like migrations, it gets room."""

LEADS = ExpirySettings().reminder_leads_hours
DURATION_DAYS = {1: 30, 2: 90, 3: 365}


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# ------------------------------------------------------------------ the data


@attrs.frozen
class Seeded:
    """What the data asks of the sweep."""

    size: int
    due: int
    remind: int
    seconds: float


def _channel(rng: random.Random, number: int, now: datetime) -> Channel:
    usd = "USD"
    return Channel(
        id=ChannelId(f"{rng.getrandbits(128):032x}"),
        owner_id=UserId(4_200_000_000 + number),
        open_chat_id=ChatId(-1_001_000_000_000 - 2 * number),
        closed_chat_id=ChatId(-1_001_000_000_001 - 2 * number),
        title=f"Signals #{number}",
        created_at=now - timedelta(days=400),
        tiers=tuple(
            Tier(n, Money.of(Decimal(price), usd), DURATION_DAYS[n])
            for n, price in ((1, "10.50"), (2, "27.00"), (3, "99.99"))
        ),
        donation_bounds=DonationBounds(Money.of("1", usd), Money.of("500", usd)),
        payout_wallet=PayoutWallet("0x52908400098527886E0F7030069857D2E4169EE7", "USDTERC20"),
    )


def _subscription(
    rng: random.Random, index: int, channel_id: ChannelId, now: datetime
) -> tuple[Subscription, str]:
    """One subscription and the share it belongs to (see the module's table)."""
    draw = rng.random()
    second = timedelta(seconds=1)
    status = SubscriptionStatus.ACTIVE
    if draw < DUE_SHARE:
        share, ends = "due", now - rng.uniform(1, 30 * 86400) * second
    elif draw < DUE_SHARE + REMIND_SHARE:
        share, ends = "remind", now + rng.uniform(1, max(LEADS) * 3600 - 1) * second
    elif draw < DUE_SHARE + REMIND_SHARE + ENDED_SHARE:
        share, ends = "ended", now - rng.uniform(1, 365 * 86400) * second
        status = SubscriptionStatus.EXPIRED if rng.random() < 0.8 else SubscriptionStatus.REVOKED
    else:
        share = "later"
        ends = now + rng.uniform(max(LEADS) * 3600 + 1, 365 * 86400) * second
    tier = rng.randint(1, 3)
    period = rng.randint(1, 3)
    return (
        Subscription(
            id=SubscriptionId(f"{rng.getrandbits(128):032x}"),
            user_id=UserId(10_000_000 + index),
            channel_id=channel_id,
            tier=tier,
            starts_at=ends - timedelta(days=DURATION_DAYS[tier]),
            expires_at=ends,
            status=status,
            period=period,
            version=period - 1 + rng.randint(0, 2),
        ),
        share,
    )


def _bound(rows: Sequence[dict[str, Any]], conn: AsyncConnection) -> list[tuple[Any, ...]]:
    """Rows as SQLAlchemy would bind them for this dialect (through every column type's
    bind processing: UTC timestamps, SQLite's timestamp text), in column order."""
    columns = list(subscriptions.columns)
    processors = [c.type.bind_processor(conn.dialect) for c in columns]
    return [
        tuple(
            row[c.name] if process is None else process(row[c.name])
            for c, process in zip(columns, processors, strict=True)
        )
        for row in rows
    ]


async def load_subscriptions(conn: AsyncConnection, batch: Sequence[Subscription]) -> None:
    """Bulk-insert ``batch`` as the repository would write each one: COPY on Postgres,
    one ``executemany`` on SQLite, both with the values SQLAlchemy would bind. Runs in
    the connection's transaction (begun here if need be); the caller commits."""
    rows = _bound([subscription_to_row(sub) for sub in batch], conn)
    if not conn.in_transaction():
        await conn.begin()  # on SQLite: the engine's BEGIN IMMEDIATE
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None
    if conn.dialect.name == "postgresql":
        columns = [c.name for c in subscriptions.columns]
        await driver.copy_records_to_table(subscriptions.name, records=rows, columns=columns)
    else:
        await driver.executemany(str(insert(subscriptions).compile(dialect=conn.dialect)), rows)


def sweep_config(url: URL | str, cipher_key: str, settings: dict[str, str] | None = None) -> Config:
    """A process's configuration on ``url`` whose store encrypts with ``cipher_key``."""
    return database_config(url, {"PAYGATE_ENCRYPTION_KEYS": cipher_key, **(settings or {})})


async def seed(store: Store, size: int, now: datetime) -> Seeded:
    """``size`` subscriptions over ``CHANNELS`` channels, in the shares of the module's
    table (drawn, so the counts are near, not exactly, those shares)."""
    started = time.perf_counter()
    rng = random.Random(size)  # noqa: S311 (reproducible data, not a secret)
    channels = [_channel(rng, n, now) for n in range(CHANNELS)]
    engine = store.engine
    async with store.uow() as tx:
        for channel in channels:
            await tx.channels.add(channel)
        await tx.commit()
    counts = {"due": 0, "remind": 0, "ended": 0, "later": 0}
    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            # Room for the indexes while loading (this connection is discarded after);
            # the sweep runs with the engine's own settings.
            await conn.exec_driver_sql("PRAGMA cache_size = -262144")
        for first in range(0, size, SEED_BATCH):
            batch = []
            for index in range(first, min(size, first + SEED_BATCH)):
                sub, share = _subscription(rng, index, channels[index % CHANNELS].id, now)
                counts[share] += 1
                batch.append(sub)
            await load_subscriptions(conn, batch)
        await conn.commit()
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.exec_driver_sql(f"VACUUM ANALYZE {subscriptions.name}")
    return Seeded(size, counts["due"], counts["remind"], time.perf_counter() - started)


# ------------------------------------------------------------------ the sweep (child process)


@attrs.frozen
class SweepJob:
    url: str
    """With its password, if any: it only crosses to the child process, never a log."""
    now: datetime
    cipher_key: str
    page_size: int
    tracemalloc: bool
    explain: bool


@attrs.frozen
class SweepFigures:
    reminders: int
    expired: int
    seconds: float
    cpu_seconds: float
    """CPU time of the sweeping process (SQLite's work included, Postgres's not): a
    figure that other load on the machine does not inflate as it does the wall time."""
    idle_reminders: int
    idle_expired: int
    idle_seconds: float
    statements: int
    outbox_rows: int
    audit_rows: int
    still_due: int
    rss_start: int
    peak_growth: int
    peak_source: str
    traced_peak: int | None
    plans: tuple[tuple[str, tuple[str, ...]], ...]


def _status_bytes(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset VmHWM to the current resident set (Linux 4.0+)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")
    except OSError:
        return False
    return _status_bytes("VmHWM") is not None


def _resident() -> int:
    rss = _status_bytes("VmRSS")
    if rss is not None:
        return rss
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _peak(reset: bool) -> int:
    hwm = _status_bytes("VmHWM") if reset else None
    if hwm is not None:
        return hwm
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@attrs.define
class _Pages:
    """The sweep's page queries as sent: the deepest page of each phase is kept so
    its plan can be shown after the run."""

    recording: bool = False
    statements: int = 0
    phases: list[tuple[str, Any]] = attrs.Factory(list)

    def seen(self, statement: str, parameters: Any) -> None:
        self.statements += 1
        if not self.recording or "ORDER BY subscriptions.expires_at" not in statement:
            return
        keyset = "subscriptions.id >" in statement or "subscriptions.id) >" in statement
        if not keyset or not self.phases:
            self.phases.append((statement, parameters))
        else:
            self.phases[-1] = (statement, parameters)


async def _plan(conn: AsyncConnection, statement: str, parameters: Any) -> tuple[str, ...]:
    if conn.dialect.name == "postgresql":
        prefix = "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) "
        rows = await conn.exec_driver_sql(prefix + statement, parameters)
        return tuple(str(r[0]) for r in rows)
    rows = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
    return tuple(str(r[-1]) for r in rows)


async def _count(conn: AsyncConnection, query: Any) -> int:
    return int((await conn.execute(query)).scalar_one())


async def measure_sweep(job: SweepJob) -> SweepFigures:
    """Sweep until nothing is due, with the figures of the module's table."""
    pages = _Pages()

    def on_execute(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        pages.seen(statement, parameters)

    config = sweep_config(job.url, job.cipher_key)
    async with opened_store(config) as store:
        engine = store.engine
        event.listen(engine.sync_engine, "before_cursor_execute", on_execute)
        expire = assembled(
            clock=FrozenClock(job.now),
            uow=store.uow,
            keyring=config.keyring,
            gateway=InMemoryPaymentGateway(secret=secrets.token_hex(8)),  # never asked
            chat=InMemoryChatAccess(),
            messenger=InMemoryMessenger(),
            alerts=InMemoryAlertSink(),
            expiry=ExpirySettings(page_size=job.page_size),
        ).expire()
        async with engine.connect() as conn:  # the pool holds a connection, as in a worker
            await conn.exec_driver_sql("SELECT 1")
        rss_start = _resident()
        reset = _reset_peak()
        if job.tracemalloc:
            tracemalloc.start()
        pages.recording = True
        pages.statements = 0
        started, cpu_started = time.perf_counter(), time.process_time()
        report = await expire.execute()
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        statements = pages.statements
        pages.recording = False
        started = time.perf_counter()
        idle = await expire.execute()
        idle_seconds = time.perf_counter() - started
        peak_growth = _peak(reset) - rss_start
        traced_peak = tracemalloc.get_traced_memory()[1] if job.tracemalloc else None
        tracemalloc.stop()
        due = (subscriptions.c.status == SubscriptionStatus.ACTIVE.value) & (
            subscriptions.c.expires_at <= job.now
        )
        async with engine.connect() as conn:
            outbox_rows = await _count(conn, select(func.count()).select_from(outbox))
            audit_rows = await _count(conn, select(func.count()).select_from(audit_events))
            still_due = await _count(
                conn, select(func.count()).select_from(subscriptions).where(due)
            )
            plans: list[tuple[str, tuple[str, ...]]] = []
            if job.explain:
                for name, (statement, parameters) in zip(
                    ("reminders", "expiry"), pages.phases, strict=False
                ):
                    plans.append((name, await _plan(conn, statement, parameters)))
        return SweepFigures(
            reminders=report.reminders,
            expired=report.expired,
            seconds=seconds,
            cpu_seconds=cpu_seconds,
            idle_reminders=idle.reminders,
            idle_expired=idle.expired,
            idle_seconds=idle_seconds,
            statements=statements,
            outbox_rows=outbox_rows,
            audit_rows=audit_rows,
            still_due=still_due,
            rss_start=rss_start,
            peak_growth=peak_growth,
            peak_source="VmHWM reset" if reset else "ru_maxrss",
            traced_peak=traced_peak,
            plans=tuple(plans),
        )


def sweep_in_process(job: SweepJob) -> SweepFigures:
    """Entry point of the fresh process that sweeps one database."""
    return asyncio.run(measure_sweep(job))


# ------------------------------------------------------------------ databases


def _admin(url: URL) -> AsyncEngine:
    # CREATE/DROP DATABASE cannot run inside a transaction.
    return create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


@asynccontextmanager
async def postgres_database() -> AsyncIterator[URL]:
    """A migrated database of its own, dropped on exit."""
    admin_url = make_url(POSTGRES_URL)
    name = f"paygate_bench_{int(time.time())}_{secrets.token_hex(4)}"
    admin = _admin(admin_url)
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        await admin.dispose()
    try:
        url = admin_url.set(database=name)
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        admin = _admin(admin_url)
        try:
            async with admin.connect() as conn:
                await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.dispose()


@asynccontextmanager
async def sqlite_database() -> AsyncIterator[URL]:
    """A migrated file in a temporary directory, removed on exit."""
    with tempfile.TemporaryDirectory(prefix="paygate-bench-") as folder:
        url = make_url(f"sqlite+aiosqlite:///{Path(folder) / 'paygate.db'}")
        await asyncio.to_thread(upgrade, url)
        yield url


async def postgres_reachable() -> str | None:
    """None when the server answers, else why not."""
    admin = _admin(make_url(POSTGRES_URL))
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
    except Exception as exc:  # whatever keeps us from connecting means: skip Postgres
        return f"{type(exc).__name__}: {exc}"
    finally:
        await admin.dispose()
    return None


# ------------------------------------------------------------------ running


@attrs.frozen
class Settings:
    backends: tuple[str, ...]
    sizes: tuple[int, ...]
    page_size: int
    tracemalloc: bool
    explain: bool


@attrs.frozen
class Case:
    backend: str
    seeded: Seeded
    figures: SweepFigures

    @property
    def due_rows(self) -> int:
        return self.figures.expired + self.figures.reminders

    @property
    def per_row(self) -> float:
        return self.figures.seconds / max(1, self.due_rows)

    @property
    def cpu_per_row(self) -> float:
        return self.figures.cpu_seconds / max(1, self.due_rows)

    def problems(self) -> list[str]:
        """Where the sweep's results differ from what the data asks."""
        f, s = self.figures, self.seeded
        wanted = {
            "expired": (f.expired, s.due),
            "reminded": (f.reminders, s.remind),
            "outbox rows": (f.outbox_rows, 2 * s.due + s.remind),
            "audit events": (f.audit_rows, s.due + s.remind),
            "left due": (f.still_due, 0),
            "second sweep's work": (f.idle_expired + f.idle_reminders, 0),
        }
        return [
            f"{what} {got:,}, expected {want:,}"
            for what, (got, want) in wanted.items()
            if got != want
        ]


async def run_case(backend: str, url: URL, size: int, settings: Settings) -> Case:
    now = datetime.now(UTC).replace(microsecond=0)
    key = generate_key()
    async with opened_store(sweep_config(url, key, LOADING)) as store:
        seeded = await seed(store, size, now)
    say(f"  {backend} {size:,}: seeded in {seeded.seconds:.0f} s, sweeping in a fresh process")
    job = SweepJob(
        url=url.render_as_string(hide_password=False),
        now=now,
        cipher_key=key,
        page_size=settings.page_size,
        tracemalloc=settings.tracemalloc,
        explain=settings.explain,
    )
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        figures = await asyncio.get_running_loop().run_in_executor(pool, sweep_in_process, job)
    return Case(backend, seeded, figures)


def mb(value: int | None) -> str:
    return "-" if value is None else f"{value / MB:.1f}"


def render(cases: Sequence[Case], settings: Settings) -> list[str]:
    header = (
        f"{'backend':<9} {'subs':>9} {'expired':>8} {'reminded':>8} {'outbox':>8} "
        f"{'sweep s':>8} {'us/due row':>10} {'CPU us/row':>10} {'SQL/row':>7} {'idle s':>7} "
        f"{'RSS0 MB':>7} {'peak+ MB':>8} {'traced MB':>9}"
    )
    out = [
        f"Expiry sweep: ExpireSubscriptions over SQL, pages of {settings.page_size}, "
        f"{CHANNELS} channels, {DUE_SHARE:.0%} due for expiry and {REMIND_SHARE:.0%} for "
        "a reminder",
        "",
        header,
        "-" * len(header),
    ]
    for case in cases:
        f = case.figures
        out.append(
            f"{case.backend:<9} {case.seeded.size:>9,} {f.expired:>8,} {f.reminders:>8,} "
            f"{f.outbox_rows:>8,} {f.seconds:>8.1f} {case.per_row * 1e6:>10.0f} "
            f"{case.cpu_per_row * 1e6:>10.0f} "
            f"{f.statements / max(1, case.due_rows):>7.1f} {f.idle_seconds:>7.2f} "
            f"{mb(f.rss_start):>7} {mb(f.peak_growth):>8} {mb(f.traced_peak):>9}"
        )
    sources = sorted({c.figures.peak_source for c in cases})
    out += [
        "",
        "us/due row: sweep time / (expired + reminded). CPU us/row: the sweeping process's "
        "CPU time per due row",
        "(SQLite's work included, Postgres's not; other load on the machine does not inflate "
        "it). SQL/row: statements sent per due row.",
        "idle s: the second sweep, which finds nothing due. peak+: peak RSS growth during "
        f"both sweeps ({', '.join(sources)}).",
    ]
    return out


def verdicts(cases: Sequence[Case]) -> tuple[list[str], bool]:
    lines: list[str] = []
    ok = True

    def verdict(met: bool, text: str) -> None:
        nonlocal ok
        ok = ok and met
        lines.append(f"  {'met   ' if met else 'MISSED'} {text}")

    for case in cases:
        for problem in case.problems():
            verdict(False, f"{case.backend} {case.seeded.size:,}: {problem}")
    for backend in BACKENDS:
        mine = sorted((c for c in cases if c.backend == backend), key=lambda c: c.seeded.size)
        if not mine:
            continue
        small, large = mine[0], mine[-1]
        growth = large.figures.peak_growth / MB
        verdict(
            growth <= GROWTH_LIMIT_MB,
            f"{backend}: peak RSS growth at {large.seeded.size:,} is {growth:.1f} MB "
            f"(target <= {GROWTH_LIMIT_MB:.0f} MB)",
        )
        if small is large:
            continue
        spread = (large.figures.peak_growth - small.figures.peak_growth) / MB
        verdict(
            spread <= GROWTH_SPREAD_LIMIT_MB,
            f"{backend}: growth {small.seeded.size:,} -> {large.seeded.size:,} differs by "
            f"{spread:+.1f} MB (target <= {GROWTH_SPREAD_LIMIT_MB:.0f} MB)",
        )
        ratio = large.per_row / small.per_row
        verdict(
            ratio <= PER_ROW_RATIO_LIMIT,
            f"{backend}: {large.due_rows / small.due_rows:.1f}x the due rows took "
            f"{large.figures.seconds / small.figures.seconds:.1f}x the time; per due row "
            f"{ratio:.2f}x (target <= {PER_ROW_RATIO_LIMIT}); CPU per due row "
            f"{large.cpu_per_row / small.cpu_per_row:.2f}x",
        )
    return lines, ok


def plans(cases: Sequence[Case]) -> Iterator[str]:
    for case in cases:
        for phase, lines in case.figures.plans:
            yield f"{case.backend} {case.seeded.size:,}: deepest {phase} page"
            yield from (f"    {line}" for line in lines)


async def main(settings: Settings) -> int:
    say(f"PayGate expiry sweep, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    cases: list[Case] = []
    for backend in settings.backends:
        if backend == "postgres":
            why = await postgres_reachable()
            if why is not None:
                say(f"  postgres: skipped, not reachable at {make_url(POSTGRES_URL)!r}: {why}")
                continue
        for size in settings.sizes:
            database = postgres_database() if backend == "postgres" else sqlite_database()
            async with database as url:
                cases.append(await run_case(backend, url, size, settings))
    say()
    for line in render(cases, settings):
        say(line)
    if settings.explain:
        say()
        for line in plans(cases):
            say(line)
    lines, ok = verdicts(cases)
    say()
    say("Targets (issue #6):")
    for line in lines:
        say(line)
    return 0 if ok and cases else 1


def parse(argv: Sequence[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog="Prints a table of figures and a verdict per target; exit status 1 if one "
        "is missed.",
    )
    parser.add_argument(
        "--backends",
        default=",".join(BACKENDS),
        help=f"comma-separated, of: {', '.join(BACKENDS)} (default both)",
    )
    parser.add_argument(
        "--sizes",
        help="comma-separated subscription counts (default 100000,1000000)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="sizes 10,000 and 100,000 (about 2 minutes)"
    )
    parser.add_argument(
        "--page-size",
        type=int,
        default=ExpirySettings().page_size,
        help="subscriptions per unit of work (default: the production setting)",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also report the peak of Python allocations (slows the sweep several times)",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print the plan of each phase's deepest page query (EXPLAIN ANALYZE on "
        "Postgres, EXPLAIN QUERY PLAN on SQLite)",
    )
    args = parser.parse_args(argv)
    backends = tuple(b.strip() for b in str(args.backends).split(",") if b.strip())
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown or not backends:
        parser.error(f"unknown backends {unknown}; choose from {', '.join(BACKENDS)}")
    if args.sizes:
        try:
            sizes = tuple(int(s.replace("_", "")) for s in str(args.sizes).split(","))
        except ValueError:
            parser.error("--sizes takes comma-separated whole numbers")
    else:
        sizes = QUICK_SIZES if args.quick else FULL_SIZES
    if any(s < 1 for s in sizes) or args.page_size < 1:
        parser.error("sizes and the page size are positive")
    return Settings(
        backends=backends,
        sizes=tuple(sorted(sizes)),
        page_size=args.page_size,
        tracemalloc=args.tracemalloc,
        explain=args.explain,
    )


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))
