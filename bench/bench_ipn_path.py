"""The full IPN path over HTTP, against the floor of a handler that only verifies.

Measured on a real aiohttp server on 127.0.0.1, with the load generated from another
process (so client and server do not share one core):

* floor: a bare aiohttp handler that reads the body and checks the signature;
* memory: the PayGate app and the use case on the in-memory store: the cost of the
  HTTP edge and the core without any SQL;
* sqlite: the PayGate app (security headers, metrics, errors, client IP, allowlist,
  rate limit, NowPayments signature) and the verify-payment use case on SQLite;
* postgres: the same on Postgres, with the adapter's engine as configured (no ping
  before each checkout, no reset on return: see adapters/outbound/sqla/engine.py);
* postgres-checked: the same with the ping on each checkout and the rollback on
  return that SQLAlchemy does by default, to show what the adapter's choice saves;
* postgres-unbatched: the same with every notification in a unit of work of its own
  (batches of one, as many at once as arrive), to show what batching saves.

The webhook applies the notifications that arrive while a batch is being written
as the next batch, one unit of work and one statement per step for all of them
(adapters/inbound/http/ipn_batches.py): on Postgres a batch is two statements
whatever its size (a read of the intents with what the fulfilment needs, then one
self-checking write of everything, outside any transaction: no BEGIN, no COMMIT;
see adapters/outbound/sqla/write_behind.py), so under load the cost of a round
trip (most of the CPU here) is shared.

Every target is built as a process builds it: the use cases from the production
containers, and each SQL store opened by them from a configuration of POOL_SIZE
connections (``composition.assembly``): the engine, its pool and its timeouts are
production's, except where a target says otherwise (postgres-checked).

Every request is a unique, correctly signed ``finished`` notification for an intent
of its own, so every one runs the whole write path: event recorded, intent advanced,
subscription created, grant queued in the outbox, audit chained (a replay would
short-circuit on the unique event and hide the database cost). Closed-loop load
(fixed concurrency) gives throughput; open-loop load at fixed rates (50 and 200 IPN/s,
sent on schedule whether or not earlier answers came) gives latency, measured from
the scheduled send time so queueing counts.

The ratio to the floor is printed twice. Once from the two closed loops, each measured
at its target's turn, minutes apart; this machine's speed drifts by tens of percent in
minutes (other tenants, clock scaling), so that ratio swings with it. And once from
closed-loop rounds alternating between the floor and the target, a second or two
apart (the median of the rounds' ratios): the same machine for both, later in the
run (its tables fuller), so it is the stricter figure.

Each SQL database starts as a live one would be: holding earlier payments (HISTORY
events and subscriptions), with its planner statistics up to date after the warm-up
(``ANALYZE``, which autovacuum does on a live database). A database created seconds
before has no statistics, and the plans Postgres caches for prepared statements then
are made for empty tables; kept while the tables grow by thousands of rows a second,
they would show a slowdown no deployed system sees.

Postgres: ``PAYGATE_BENCH_POSTGRES_URL`` (default the test server); a database of its
own is created and dropped. Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import attrs
from aiohttp import web
from sqlalchemy import event, insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from adapters.inbound.http import (
    BucketSize,
    HttpDeps,
    HttpSettings,
    RouteClass,
    build_app,
    rate_rules,
)
from adapters.outbound.memory import (
    InMemoryAlertSink,
    InMemoryChatAccess,
    InMemoryMessenger,
    InMemoryNonceStore,
    InMemoryRateLimiter,
    InMemoryUnitOfWorkFactory,
)
from adapters.outbound.nowpayments.gateway import NowPaymentsGateway, NowPaymentsSettings
from adapters.outbound.sqla import upgrade
from adapters.outbound.sqla.tables import payment_events, subscriptions
from adapters.outbound.system import RandomIdGenerator, SystemClock
from composition.assembly import Store, assembled, database_config, opened_store
from composition.config import Config
from composition.containers import UseCases
from core.domain.ids import ChannelId, ChatId, IntentId, UserId
from core.domain.intent_state import IntentStatus
from core.domain.money import Money
from core.domain.order_id import OrderId
from core.domain.outbox import IssueInvite
from core.domain.payment import EventOutcome, PaymentIntent, Purpose
from core.domain.rights import BOT_RIGHTS_CLOSED, BOT_RIGHTS_OPEN, ChatRights, MemberStatus
from core.domain.signing import MacKeyring
from core.domain.subscription import SubscriptionStatus
from core.domain.tier import Tier
from core.ports.alerts import AlertSink
from core.ports.payments import PaymentGateway
from core.ports.repositories import UnitOfWorkFactory
from core.ports.security import RateLimiter, Secret
from sandbox.nowpayments.js_form import sign

IPN_SECRET = secrets.token_hex(16)
KEYRING = MacKeyring((secrets.token_bytes(32),))
POSTGRES_URL = os.environ.get(
    "PAYGATE_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
CLOSED_REQUESTS = 3000
CONCURRENCY = 16
OPEN_RATES = (50, 200)
OPEN_SECONDS = 10
WARM_UP = 200
HISTORY = 20_000
"""Payments a SQL database holds before the run, as a live one would: the tables the
read looks up (recorded events, payers' subscriptions) are not empty."""
PAIRED_ROUNDS = 3
PAIRED_REQUESTS = 2000
PAIRED_FLOOR_REQUESTS = 10000
"""The floor is 5-8 times faster: its rounds take as long as the target's."""
POOL_SIZE = 10
OWNER = UserId(1000)
PRICE = Decimal("10")
ASKED = Decimal("0.004")


def bench_gateway(session: aiohttp.ClientSession) -> NowPaymentsGateway:
    """The real gateway with the benchmark's IPN secret (its session is never used)."""
    return NowPaymentsGateway(
        session,
        NowPaymentsSettings(
            api_key=Secret("bench-api-key"),
            ipn_secret=Secret(IPN_SECRET),
            ipn_callback_url="http://127.0.0.1/webhooks/nowpayments",
        ),
    )


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# ------------------------------------------------------------------ load generator
# Runs in a process of its own: it only needs bodies, headers and a URL.


@attrs.frozen
class Load:
    url: str
    bodies: list[tuple[bytes, dict[str, str]]]
    concurrency: int = 0
    """Closed loop with this many workers; 0 means open loop at ``rate``."""
    rate: float = 0.0


@attrs.frozen
class Outcome:
    latencies: list[float]
    statuses: dict[int, int]
    elapsed: float


async def _drive(load: Load) -> Outcome:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def send(body: bytes, headers: dict[str, str], due: float) -> None:
            async with session.post(load.url, data=body, headers=headers) as response:
                await response.read()
            latencies.append(time.perf_counter() - due)
            statuses[response.status] = statuses.get(response.status, 0) + 1

        started = time.perf_counter()
        if load.concurrency:
            queue = list(reversed(load.bodies))

            async def worker() -> None:
                while queue:
                    body, headers = queue.pop()
                    await send(body, headers, time.perf_counter())

            await asyncio.gather(*(worker() for _ in range(load.concurrency)))
        else:
            tasks = []
            for index, (body, headers) in enumerate(load.bodies):
                due = started + index / load.rate
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                tasks.append(asyncio.create_task(send(body, headers, due)))
            await asyncio.gather(*tasks)
        return Outcome(latencies, statuses, time.perf_counter() - started)


def drive(load: Load) -> Outcome:
    return asyncio.run(_drive(load))


# ------------------------------------------------------------------ the servers


@attrs.define
class Target:
    name: str
    url: str
    intents: list[IntentId]
    uow: UnitOfWorkFactory | None = None
    sql: bool = False
    statements: list[int] = attrs.Factory(lambda: [0])
    analyze: Callable[[], Awaitable[None]] | None = None
    """Bring the planner's statistics up to date, as autovacuum keeps them on a live
    database (see :func:`measure`)."""


def ipn(intent_id: IntentId, payment_id: int) -> tuple[bytes, dict[str, str]]:
    payload: dict[str, object] = {
        "payment_id": payment_id,
        "parent_payment_id": None,
        "invoice_id": 4522625843,
        "payment_status": "finished",
        "pay_address": "bc1qexampleaddressexampleaddressexample",
        "payin_extra_id": None,
        "price_amount": PRICE,
        "price_currency": "usd",
        "pay_amount": ASKED,
        "actually_paid": ASKED,
        "actually_paid_at_fiat": Decimal(0),
        "pay_currency": "btc",
        "order_id": str(OrderId.issue(intent_id, KEYRING)),
        "order_description": "Alpha Signals, tier 1, 30 days",
        "purchase_id": "6084744717",
        "outcome_amount": ASKED,
        "outcome_currency": "btc",
        "payment_extra_ids": None,
        "fee": {"currency": "btc", "depositFee": 0, "withdrawalFee": 0, "serviceFee": 0},
        "updated_at": 1772366400000,
    }
    body, signature = sign(payload, IPN_SECRET)
    return body, {"Content-Type": "application/json", "x-nowpayments-sig": signature}


async def start(app: web.Application, stack: AsyncExitStack) -> str:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return f"http://127.0.0.1:{port}/webhooks/nowpayments"


async def floor_target(gateway: NowPaymentsGateway, stack: AsyncExitStack, count: int) -> Target:
    async def verify_only(request: web.Request) -> web.Response:
        notification = gateway.verify_notification(await request.read(), request.headers)
        return web.json_response({"payment": notification.payment_id})

    app = web.Application()
    app.router.add_post("/webhooks/nowpayments", verify_only)
    intents = [IntentId(f"floor{i}") for i in range(count)]
    return Target("floor (verify only)", await start(app, stack), intents)


def bench_config(url: URL) -> Config:
    """A process's configuration on ``url`` with POOL_SIZE connections: the store is
    opened as production opens it (engine, pool, timeouts; see composition.assembly)."""
    return database_config(url, {"PAYGATE_DB_POOL_SIZE": str(POOL_SIZE)})


def bench_use_cases(uow: UnitOfWorkFactory, gateway: PaymentGateway, alerts: AlertSink) -> UseCases:
    """The production use cases over ``uow``, with the system clock and random ids,
    and in-memory stand-ins for Telegram (the owner administers both chats)."""
    chat = InMemoryChatAccess()
    for chat_id, rights in ((ChatId(-1001), BOT_RIGHTS_OPEN), (ChatId(-1002), BOT_RIGHTS_CLOSED)):
        chat.add_chat(chat_id, ChatRights(MemberStatus.ADMINISTRATOR, rights))
        chat.set_member(chat_id, OWNER, ChatRights(MemberStatus.CREATOR))
    return assembled(
        clock=SystemClock(),
        uow=uow,
        keyring=KEYRING,
        gateway=gateway,
        chat=chat,
        messenger=InMemoryMessenger(),
        alerts=alerts,
    )


async def seed(uc: UseCases, uow: UnitOfWorkFactory, count: int) -> list[IntentId]:
    """A channel selling one tier, and ``count`` open intents to pay for it."""
    channel = await uc.register_channel().execute(OWNER, ChatId(-1001), ChatId(-1002), "Bench")
    await uc.set_tiers().execute(OWNER, channel.id, (Tier(1, Money.of(PRICE, "USD"), 30),))
    ids = RandomIdGenerator()
    intents: list[IntentId] = []
    now = datetime.now(UTC)
    for first in range(0, count, 500):
        async with uow() as tx:
            for user in range(first, min(count, first + 500)):
                intent = PaymentIntent(
                    id=IntentId(ids.new_id()),
                    purpose=Purpose.SUBSCRIPTION,
                    user_id=UserId(100_000 + user),
                    channel_id=channel.id,
                    price=Money.of(PRICE, "USD"),
                    provider="nowpayments",
                    created_at=now,
                    updated_at=now,
                    tier=1,
                    duration_days=30,
                )
                await tx.intents.add(intent)
                intents.append(intent.id)
            await tx.commit()
    return intents


async def channel_of(uow: UnitOfWorkFactory, intent_id: IntentId) -> ChannelId:
    async with uow() as tx:
        intent = await tx.intents.get(intent_id)
    assert intent is not None
    return intent.channel_id


async def history(engine: AsyncEngine, channel: ChannelId) -> None:
    """HISTORY earlier payments of other subscribers: their events and subscriptions."""
    if not HISTORY:
        return
    now = datetime.now(UTC)
    events = [
        {
            "provider": "nowpayments",
            "payment_id": str(5_000_000_000 + n),
            "status": IntentStatus.FINISHED.value,
            "order_id": "earlier",
            "intent_id": None,
            "received_at": now - timedelta(days=10),
            "outcome": EventOutcome.GRANTED.value,
            "price": PRICE,
            "price_currency": "USD",
            "paid_amount": ASKED,
            "paid_currency": "BTC",
            "parent_payment_id": None,
        }
        for n in range(HISTORY)
    ]
    subscribers = [
        {
            "id": f"earlier{n}",
            "user_id": 50_000_000 + n,
            "channel_id": channel,
            "tier": 1,
            "starts_at": now - timedelta(days=10),
            "expires_at": now + timedelta(days=20),
            "status": SubscriptionStatus.ACTIVE.value,
            "period": 1,
            "reminders_sent": "[]",
            "version": 1,
        }
        for n in range(HISTORY)
    ]
    async with engine.begin() as conn:
        await conn.execute(insert(payment_events), events)
        await conn.execute(insert(subscriptions), subscribers)


async def app_target(
    name: str,
    store: Store | None,
    gateway: NowPaymentsGateway,
    stack: AsyncExitStack,
    count: int,
    settings: HttpSettings | None = None,
) -> Target:
    """The PayGate app over the SQL ``store``, or over the in-memory store."""
    uow: UnitOfWorkFactory = InMemoryUnitOfWorkFactory() if store is None else store.uow
    alerts = InMemoryAlertSink()
    uc = bench_use_cases(uow, gateway, alerts)
    intents = await seed(uc, uow, count)
    clock = SystemClock()

    def local(capacity: int, per_second: float) -> RateLimiter:
        return InMemoryRateLimiter(clock, capacity, per_second)

    verify = uc.verify_payment()
    deps = HttpDeps(
        clock=clock,
        alerts=alerts,
        nonces=InMemoryNonceStore(clock),
        verify_payment=verify,
        gateways={"nowpayments": gateway},
        # Real buckets, sized so the benchmark's single client is never refused.
        rate_limits=rate_rules(
            local, buckets=dict.fromkeys(RouteClass, BucketSize(1_000_000, 100_000.0))
        ),
        settings=settings or HttpSettings(),
    )
    target = Target(name, await start(build_app(deps), stack), intents, uow, store is not None)

    def count_statement(*_: Any) -> None:
        target.statements[0] += 1

    if store is not None:
        await history(store.engine, await channel_of(uow, intents[0]))
        event.listen(store.engine.sync_engine, "before_cursor_execute", count_statement)
        sql_engine = store.engine

        async def analyze() -> None:
            async with sql_engine.connect() as conn:
                await conn.exec_driver_sql("ANALYZE")
                await conn.commit()

        target.analyze = analyze
    return target


# ------------------------------------------------------------------ databases


def _admin(url: URL) -> AsyncEngine:
    return create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


async def postgres_database(stack: AsyncExitStack) -> URL | None:
    admin_url = make_url(POSTGRES_URL)
    name = f"paygate_bench_{secrets.token_hex(4)}"
    admin = _admin(admin_url)
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except OSError as exc:
        say(f"postgres: not reachable at {admin_url.render_as_string()}: {exc}")
        return None
    finally:
        await admin.dispose()

    async def drop() -> None:
        engine = _admin(admin_url)
        async with engine.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await engine.dispose()

    stack.push_async_callback(drop)
    url = admin_url.set(database=name)
    await asyncio.to_thread(upgrade, url)
    return url


async def postgres_target(
    name: str,
    gateway: NowPaymentsGateway,
    stack: AsyncExitStack,
    count: int,
    settings: HttpSettings | None = None,
    engine: Callable[[Config], AsyncEngine] | None = None,
) -> Target | None:
    """The app on a Postgres database of its own (None without a server), its store
    opened as a process opens it; ``engine``: another engine than production's."""
    url = await postgres_database(stack)
    if url is None:
        return None
    store = await stack.enter_async_context(opened_store(bench_config(url), engine=engine))
    return await app_target(name, store, gateway, stack, count, settings)


def checked_postgres_engine(config: Config) -> AsyncEngine:
    """The adapter's Postgres engine plus SQLAlchemy's default checks: a ping on each
    checkout and a rollback on each return."""
    return create_async_engine(
        config.database_url,
        connect_args={"timeout": 10.0},
        pool_size=config.db_pool_size,
        max_overflow=config.db_pool_size,
        pool_pre_ping=True,
        pool_reset_on_return="rollback",
    )


async def sqlite_target(
    url: URL, gateway: NowPaymentsGateway, stack: AsyncExitStack, count: int
) -> Target:
    """The app on the migrated SQLite file at ``url``, opened as a process opens it."""
    store = await stack.enter_async_context(opened_store(bench_config(url)))
    return await app_target("PayGate app on SQLite", store, gateway, stack, count)


# ------------------------------------------------------------------ running


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@attrs.frozen
class Figures:
    throughput: float
    open_loop: dict[int, tuple[float, float, float, float]]
    """Rate -> (p50, p99, max) in milliseconds, and the server's CPU use meanwhile
    (percent of one core)."""
    statuses: dict[int, int]
    statements: float
    cpu_ms: float
    """Server-process CPU time per IPN in the closed loop: steadier than wall-clock
    figures on a busy machine, and what decides how far one process can go."""
    paired: list[tuple[float, float]] = attrs.Factory(list)
    """(floor, this target) closed-loop throughput of each paired round."""


async def measure(
    target: Target, pool: ProcessPoolExecutor, floor: Target | None = None
) -> Figures:
    """``floor``: also run closed-loop rounds alternating between the floor and this
    target. This machine's speed drifts by tens of percent within minutes (other
    tenants, clock scaling), so a ratio of two figures measured minutes apart swings
    with it; rounds a second or two apart see the same machine."""
    loop = asyncio.get_running_loop()
    bodies = [ipn(intent, 6_000_000_000 + i) for i, intent in enumerate(target.intents)]
    cursor = 0

    def take(n: int) -> list[tuple[bytes, dict[str, str]]]:
        nonlocal cursor
        chunk, cursor = bodies[cursor : cursor + n], cursor + n
        return chunk

    async def run(load: Load) -> Outcome:
        outcome: Outcome = await loop.run_in_executor(pool, drive, load)
        return outcome

    statuses: dict[int, int] = {}

    def tally(outcome: Outcome) -> None:
        for status, n in outcome.statuses.items():
            statuses[status] = statuses.get(status, 0) + n

    tally(await run(Load(target.url, take(WARM_UP), concurrency=CONCURRENCY)))
    if target.analyze is not None:
        # The database was created seconds ago and has no statistics yet. Postgres
        # keeps the plan it made for a prepared statement while the tables were empty
        # (sequential scans) until statistics change; autovacuum's first pass on a
        # live database does that within a minute, so the figures would otherwise show
        # reads slowing down as the tables grow, which no deployed system sees. Do
        # what autovacuum would have done by now.
        await target.analyze()
    before = target.statements[0]
    cpu_before = time.process_time()
    closed = await run(Load(target.url, take(CLOSED_REQUESTS), concurrency=CONCURRENCY))
    cpu_ms = (time.process_time() - cpu_before) * 1000 / CLOSED_REQUESTS
    statements = (target.statements[0] - before) / CLOSED_REQUESTS
    tally(closed)
    open_loop: dict[int, tuple[float, float, float, float]] = {}
    for rate in OPEN_RATES:
        await asyncio.sleep(1.0)  # let the closed loop's backlog drain
        cpu_before = time.process_time()
        outcome = await run(Load(target.url, take(rate * OPEN_SECONDS), rate=float(rate)))
        busy = (time.process_time() - cpu_before) / outcome.elapsed * 100
        tally(outcome)
        ms = [v * 1000 for v in outcome.latencies]
        open_loop[rate] = (statistics.median(ms), percentile(ms, 0.99), max(ms), busy)
    paired: list[tuple[float, float]] = []
    if floor is not None:
        await asyncio.sleep(1.0)
        for round_ in range(PAIRED_ROUNDS):
            first = 7_000_000_000 + round_ * PAIRED_FLOOR_REQUESTS
            verify_only = [
                ipn(IntentId(f"pair{first + i}"), first + i) for i in range(PAIRED_FLOOR_REQUESTS)
            ]
            base = await run(Load(floor.url, verify_only, concurrency=CONCURRENCY))
            mine = await run(Load(target.url, take(PAIRED_REQUESTS), concurrency=CONCURRENCY))
            tally(mine)
            paired.append((PAIRED_FLOOR_REQUESTS / base.elapsed, PAIRED_REQUESTS / mine.elapsed))
    throughput = CLOSED_REQUESTS / closed.elapsed
    return Figures(throughput, open_loop, statuses, statements, cpu_ms, paired)


async def grants(target: Target) -> int:
    if target.uow is None:
        return 0
    async with target.uow() as tx:
        far = datetime(2100, 1, 1, tzinfo=UTC)
        messages = await tx.outbox.claim(far, 1_000_000, far + timedelta(days=1))
    return sum(isinstance(m.effect, IssueInvite) for m in messages)


def report(target: Target, figures: Figures, floor: Figures | None, granted: int) -> None:
    ratio = f"{figures.throughput / floor.throughput:6.1%} of floor" if floor else ""
    say(f"{target.name}")
    say(f"  closed loop, {CONCURRENCY} in flight: {figures.throughput:8.0f} IPN/s  {ratio}")
    say(f"  server CPU per IPN: {figures.cpu_ms:.2f} ms")
    for rate, (p50, p99, worst, busy) in figures.open_loop.items():
        figures_ms = (
            f"p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  max {worst:6.1f} ms  server CPU {busy:3.0f}%"
        )
        say(f"  open loop {rate:4d} IPN/s: {figures_ms}")
    if figures.paired:
        ratios = sorted(mine / base for base, mine in figures.paired)
        say(
            f"  paired with the floor, {len(ratios)} rounds of {PAIRED_REQUESTS} each: "
            f"{statistics.median(ratios):.1%} of floor (median; "
            f"{ratios[0]:.1%} to {ratios[-1]:.1%})"
        )
    say(f"  answers: {dict(sorted(figures.statuses.items()))}")
    if target.sql:
        say(f"  SQL statements per IPN: {figures.statements:.1f}; grants queued: {granted}")


TARGETS = ("floor", "memory", "sqlite", "postgres", "postgres-checked", "postgres-unbatched")
UNBATCHED = HttpSettings(ipn_batch=1, ipn_writers=1_000)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "Throughput (closed loop) and p50/p99 latency (open loop at fixed rates) of "
            "the full IPN path over HTTP on each store, beside a verify-only floor. "
            "The whole run takes about 6 minutes."
        ),
    )
    parser.add_argument(
        "--targets",
        default=",".join(TARGETS),
        help=f"comma-separated subset of {', '.join(TARGETS)} (default: all; the floor "
        "is needed for the ratio)",
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=CLOSED_REQUESTS,
        help=f"closed-loop requests per target (default {CLOSED_REQUESTS})",
    )
    parser.add_argument(
        "--seconds",
        type=int,
        default=OPEN_SECONDS,
        help=f"length of each open-loop run (default {OPEN_SECONDS})",
    )
    args = parser.parse_args(argv)
    unknown = set(args.targets.split(",")) - set(TARGETS)
    if unknown:
        parser.error(f"unknown target(s): {', '.join(sorted(unknown))}")
    if args.requests < 1 or args.seconds < 1:
        parser.error("--requests and --seconds must be positive")
    return args


async def main(args: argparse.Namespace) -> None:
    global CLOSED_REQUESTS, OPEN_SECONDS
    CLOSED_REQUESTS, OPEN_SECONDS = args.requests, args.seconds
    chosen = set(args.targets.split(","))
    needed = WARM_UP + CLOSED_REQUESTS + sum(r * OPEN_SECONDS for r in OPEN_RATES)
    needed += PAIRED_ROUNDS * PAIRED_REQUESTS
    say(f"PayGate IPN path, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    say(f"{needed} unique signed paying IPNs per target; load from a separate process")
    say()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        async with AsyncExitStack() as stack:
            session = await stack.enter_async_context(aiohttp.ClientSession())
            gateway = bench_gateway(session)
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            sqlite_url = make_url(f"sqlite+aiosqlite:///{folder / 'bench.db'}")
            await asyncio.to_thread(upgrade, sqlite_url)
            builders: list[tuple[str, Callable[[], Awaitable[Target | None]]]] = [
                ("floor", lambda: floor_target(gateway, stack, needed)),
                (
                    "memory",
                    lambda: app_target(
                        "PayGate app on the in-memory store (the edge and the use case, no SQL)",
                        None,
                        gateway,
                        stack,
                        needed,
                    ),
                ),
                (
                    "sqlite",
                    lambda: sqlite_target(sqlite_url, gateway, stack, needed),
                ),
                (
                    "postgres",
                    lambda: postgres_target(
                        "PayGate app on Postgres (adapter engine: no pre-ping, no reset on return)",
                        gateway,
                        stack,
                        needed,
                    ),
                ),
                (
                    "postgres-unbatched",
                    lambda: postgres_target(
                        "PayGate app on Postgres, each notification in a unit of work of its own",
                        gateway,
                        stack,
                        needed,
                        UNBATCHED,
                    ),
                ),
                (
                    "postgres-checked",
                    lambda: postgres_target(
                        "PayGate app on Postgres (with SQLAlchemy's pre-ping and reset on return)",
                        gateway,
                        stack,
                        needed,
                        engine=checked_postgres_engine,
                    ),
                ),
            ]
            floor: Figures | None = None
            floor_server: Target | None = None
            for key, build in builders:
                if key not in chosen:
                    continue
                started = time.perf_counter()
                target = await build()
                if target is None:
                    continue
                figures = await measure(target, pool, floor_server)
                report(target, figures, floor, await grants(target))
                say(f"  ({time.perf_counter() - started:.0f} s including set-up)")
                say()
                if key == "floor":
                    floor, floor_server = figures, target


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
