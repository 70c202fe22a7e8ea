"""Outages under load (issue #23): while valid paying IPNs stream in (tens a second)
and a worker grants, one dependency goes away for a while and comes back.

For every outage: no payment is lost, none is granted twice, every payer is granted
exactly once after the recovery, an IPN is never answered 2xx without its event
stored, and where the outage takes the store away the IPNs are answered 503 (what
the provider retries). Where alerting exists for the outage, each process that met
it raises its alert once. Each test prints its figures.

The fleet is one ``web`` and one ``worker`` process (the machine has two cores) on a
SQLite file, or, for the Postgres outage, on a throwaway cluster the test starts.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import attrs

from adapters.outbound.sqla import tables as t
from core.domain.ids import UserId
from core.ports.errors import Unavailable
from sandbox.nowpayments.emulator import Fault, PayPlan
from sandbox.telegram.outage import Outage, OutageKind
from tests.contract.backends_sql import sqlite_url
from tests.e2e.shop import Shop, open_shop, report
from tests.reliability.full_disk_process import FLAG_VARIABLE
from tests.reliability.load import (
    LoadDriver,
    Outcome,
    Phase,
    Timing,
    alerts_raised,
    assert_sound,
    judge,
    keyed,
    run_outage,
)
from tests.reliability.servers import postgres_cluster, redis_server

CHANNELS = 4
RECONCILE_PATIENCE = timedelta(minutes=31)
"""Longer than the reconcile job leaves a notification to arrive (30 minutes)."""


async def _ready(shop: Shop, timing: Timing) -> LoadDriver:
    await shop.set_up_channels(CHANNELS)
    driver = await LoadDriver.checked_out(shop, timing.payments, timing.rate)
    await shop.start_fleet()
    return driver


BUSY = "the database is unavailable (SQLITE_BUSY)"


def _taken_throughout(driver: LoadDriver, web_log: str) -> None:
    """The outage (of something the IPN path does without) refused no IPN. A 503 is
    allowed only where the web process says the SQLite file was busy with the other
    processes' writes (it answered 503 rather than 200 without a durable write, and
    the resend was taken): contention, not the outage."""
    during = driver.statuses(Phase.DURING)
    assert set(during) <= {200, 503}, during
    refusals = [line for line in web_log.splitlines() if "dependency unavailable" in line]
    assert all(BUSY in line for line in refusals), refusals


def _refused_during(driver: LoadDriver, only: bool) -> None:
    """IPNs were answered 503 while the store was away (every answer that came then,
    if ``only``: nothing could be written). An IPN sent during the outage may still be
    answered 200 once the store is back: it waited for it."""
    during = driver.answered_during()
    assert during.get(503), during
    if only:
        assert set(during) == {503}, during


async def test_redis_killed_under_load(tmp_path: Path) -> None:
    """Redis holds the shared rate limits, nonces and Telegram pacing: killed, the web
    process falls back to per-process buckets (alerted once) and keeps taking IPNs."""
    timing = Timing.scaled()
    with redis_server(tmp_path) as redis:
        redis.start()
        await redis.started()

        async def kill() -> None:
            redis.kill()

        async def restart() -> None:
            redis.start()
            await redis.started()

        async with open_shop(
            tmp_path,
            web=1,
            workers=1,
            ipn_retries=0,
            ipn_retry_delay=0,
            database=sqlite_url(tmp_path / "paygate.db"),
            env={"PAYGATE_REDIS_URL": redis.url},
        ) as shop:
            driver = await _ready(shop, timing)
            window = await run_outage(driver, timing, kill, restart)
            outcome = await judge(shop, driver, window, "outage: Redis killed")
            codes = await shop.fleet.stop_all()
            web_log = shop.web[0].log()
    assert_sound(outcome, driver)
    assert codes == {"web-1": 0, "worker-1": 0}
    # Degraded, not down: every IPN is taken while Redis is away.
    _taken_throughout(driver, web_log)
    limiter = keyed(outcome.alerts, {"http:rate-limiter-unavailable"})
    assert limiter == {"web-1: http:rate-limiter-unavailable": 1}, outcome.alerts


async def test_postgres_stopped_under_load(tmp_path: Path) -> None:
    """The database server stops (fast shutdown) and starts again: IPNs are answered
    503 meanwhile and taken once it is back; nothing answered 2xx is missing."""
    timing = Timing.scaled()
    with postgres_cluster() as cluster:
        async with open_shop(
            tmp_path, web=1, workers=1, ipn_retries=0, ipn_retry_delay=0, database=cluster.url
        ) as shop:
            driver = await _ready(shop, timing)

            async def stop() -> None:
                await asyncio.to_thread(cluster.stop, "fast")

            async def start() -> None:
                await asyncio.to_thread(cluster.start)
                # The test's own pooled sessions died with the server (the fleet's
                # processes find that out for themselves).
                await shop.engine.dispose()

            window = await run_outage(driver, timing, stop, start)
            outcome = await judge(shop, driver, window, "outage: Postgres stopped")
            codes = await shop.fleet.stop_all()
    assert_sound(outcome, driver)
    assert codes == {"web-1": 0, "worker-1": 0}
    _refused_during(driver, only=True)


async def test_telegram_failing_under_load(tmp_path: Path) -> None:
    """Telegram sheds load with a 429 storm, then (after a recovery) answers 5xx, then
    (after another) hangs past the client's read timeout: each kind is an outage of its
    own, because once the client's circuit opens no call reaches Telegram until its
    trial, so a kind that followed another at once would never be met. Payments are
    recorded throughout (IPNs 200) and everyone is granted once after each."""
    timing = Timing.scaled()
    async with open_shop(
        tmp_path,
        web=1,
        workers=1,
        ipn_retries=0,
        ipn_retry_delay=0,
        database=sqlite_url(tmp_path / "paygate.db"),
        # Outages a minute apart each alert (the default window folds repeats of a
        # key within ten minutes into one).
        env={"PAYGATE_ALERT_REPEAT_WINDOW_SECONDS": "5"},
    ) as shop:
        await shop.set_up_channels(CHANNELS)
        await shop.start_fleet()
        granted = 0
        runs: list[tuple[OutageKind, LoadDriver, Outcome, int]] = []
        for kind in (OutageKind.FLOOD, OutageKind.SERVER_ERROR, OutageKind.TIMEOUT):
            driver = await LoadDriver.checked_out(shop, timing.payments, timing.rate)
            alerts_before = alerts_raised(shop)
            outage = Outage(kind)

            async def begin(outage: Outage = outage) -> None:
                shop.telegram.outage = outage

            async def end() -> None:
                shop.telegram.outage = None

            window = await run_outage(driver, timing, begin, end)
            refused = outage.met
            granted += len(driver.purchases)
            outcome = await judge(
                shop,
                driver,
                window,
                f"outage: Telegram {kind}",
                {"Bot API calls that met the outage": refused},
                expect_invites=granted,
                alerts_before=alerts_before,
            )
            runs.append((kind, driver, outcome, refused))
        codes = await shop.fleet.stop_all()
        web_log = shop.web[0].log()
    for kind, driver, outcome, refused in runs:
        assert_sound(outcome, driver)
        _taken_throughout(driver, web_log)
        assert refused > 0, f"no call met the {kind} outage"
        # A 429 is Telegram answering (the client waits as told): no alert. Server
        # errors open the circuit: one "unreachable", one "reachable again". Hung
        # calls open it when enough fail in a row (timing decides): once at most.
        lost = sum(keyed(outcome.alerts, {"telegram:unreachable"}).values())
        back = sum(keyed(outcome.alerts, {"telegram:reachable"}).values())
        expected = {OutageKind.FLOOD: {0}, OutageKind.SERVER_ERROR: {1}, OutageKind.TIMEOUT: {0, 1}}
        assert lost in expected[kind] and back == lost, (kind, outcome.alerts)
    assert codes == {"web-1": 0, "worker-1": 0}


async def test_sqlite_disk_full_under_load(tmp_path: Path) -> None:
    """The SQLite file may not grow (SQLITE_FULL, see full_disk_process): IPNs that need
    room are answered 503 and taken once there is room again."""
    timing = Timing.scaled()
    flag = tmp_path / "disk-full"
    async with open_shop(
        tmp_path,
        web=1,
        workers=1,
        ipn_retries=0,
        ipn_retry_delay=0,
        database=sqlite_url(tmp_path / "paygate.db"),
        env={FLAG_VARIABLE: str(flag)},
        root="tests.reliability.full_disk_process",
    ) as shop:
        driver = await _ready(shop, timing)

        async def fill() -> None:
            flag.touch()

        async def free() -> None:
            flag.unlink()

        window = await run_outage(driver, timing, fill, free)
        full = sum(p.log().count("SQLITE_FULL") for p in shop.fleet.processes)
        outcome = await judge(
            shop,
            driver,
            window,
            "outage: SQLite disk full",
            {"SQLITE_FULL errors logged": full},
        )
        codes = await shop.fleet.stop_all()
    assert_sound(outcome, driver)
    assert codes == {"web-1": 0, "worker-1": 0}
    assert full > 0, "the disk never filled"
    _refused_during(driver, only=False)


@attrs.define
class Checkouts:
    """Users tapping a tier while the provider's API may be down: each try's outcome."""

    shop: Shop
    driver: LoadDriver
    tries: list[tuple[Phase, str]] = attrs.Factory(list)
    waiting: list[int] = attrs.Factory(list)
    """Users told "try later", who have not got an invoice yet."""
    first_after: float | None = None
    """When the first checkout after the outage got its invoice."""

    async def attempt(self, user: int) -> bool:
        channel = self.shop.channel_of(user)
        phase = self.driver.phase
        try:
            await self.shop.seller.services.checkout.execute(UserId(user), channel.id, 1)
        except Unavailable:
            self.tries.append((phase, "try later"))
            return False
        self.tries.append((phase, "invoice"))
        if phase is Phase.AFTER and self.first_after is None:
            self.first_after = time.monotonic()
        return True

    async def during(self, users: list[int], every: float) -> None:
        for user in users:
            if not await self.attempt(user):
                self.waiting.append(user)
            await asyncio.sleep(every)

    async def again_until_served(self, every: float, within: float = 90.0) -> None:
        deadline = time.monotonic() + within
        while self.waiting:
            assert time.monotonic() < deadline, f"{len(self.waiting)} checkouts never served"
            if await self.attempt(self.waiting[0]):
                self.waiting.pop(0)
            else:
                await asyncio.sleep(every)

    def figures(self) -> dict[str, int]:
        return dict(sorted(Counter(f"{phase}: {outcome}" for phase, outcome in self.tries).items()))


async def test_nowpayments_down_during_checkouts_and_reconciliation(tmp_path: Path) -> None:
    """The provider's API fails (every call 503) while IPNs stream in: the IPNs are
    taken (they need no API call); checkouts meanwhile say "try later" and get their
    invoice once it is back; payments whose IPNs never came are looked up by the
    reconcile job, which cannot while the API is down, and are granted once after."""
    timing = Timing.scaled()
    silent_count = max(5, timing.payments // 10)
    async with open_shop(
        tmp_path,
        web=1,
        workers=1,
        ipn_retries=0,
        ipn_retry_delay=0,
        database=sqlite_url(tmp_path / "paygate.db"),
        # Within the shortest outage the job runs more than once.
        env={"PAYGATE_RECONCILE_EVERY_SECONDS": "1"},
    ) as shop:
        await shop.set_up_channels(CHANNELS)
        # Checked out longer ago than the reconcile job waits for a notification, so it
        # looks these up from the start. (The clock is never moved while the worker
        # runs: a jump past the lease of a message it holds would send that twice.)
        shop.move_clock(-RECONCILE_PATIENCE)
        silent = await LoadDriver.checked_out(shop, silent_count, timing.rate)
        shop.move_clock(timedelta(0))
        driver = await LoadDriver.checked_out(shop, timing.payments, timing.rate)
        await shop.start_fleet()
        tappers = Checkouts(shop, driver)
        late_users = shop.add_subscribers(round(timing.outage * 2), more=True)

        async def down() -> None:
            shop.payments.inject_fault(Fault(status=503, times=10**9))
            # Paid now, and every IPN lost: only the reconcile job can find these.
            for purchase in silent.purchases:
                payment = await shop.payments.pay(
                    purchase.invoice_id,
                    PayPlan(statuses=("finished",), drop=frozenset({"finished"})),
                )
                assert payment.deliveries == []

        async def up() -> None:
            shop.payments.clear_faults()

        window = await run_outage(
            driver, timing, down, up, during=lambda: tappers.during(late_users, 0.5)
        )
        refused = Counter(
            "checkout" if c.path.endswith("/invoice") else "look-up"
            for c in shop.payments.calls
            if c.status == 503
        )
        served = asyncio.create_task(tappers.again_until_served(every=0.5))
        outcome = await judge(
            shop,
            driver,
            window,
            "outage: NowPayments API down (IPNs, reconciliation)",
            {"API calls answered 503": dict(refused)},
            expect_invites=len(driver.purchases) + len(silent.purchases),
        )
        await served
        first = tappers.first_after
        report(
            "outage: NowPayments API down (checkouts)",
            {
                "checkouts (phase: outcome)": tappers.figures(),
                "first invoice after the outage (s)": (
                    "-" if first is None else round(first - window[1], 1)
                ),
            },
        )
        grants = Counter(g.user_id for g in await shop.rows(t.access_grants))
        codes = await shop.fleet.stop_all()
        web_log = shop.web[0].log()
    assert_sound(outcome, driver)
    assert codes == {"web-1": 0, "worker-1": 0}
    _taken_throughout(driver, web_log)
    assert {p.user: grants[p.user] for p in silent.purchases} == {
        p.user: 1 for p in silent.purchases
    }, "the reconcile job granted each silent payment once"
    assert ("during", "try later") in {(str(p), o) for p, o in tappers.tries}, tappers.tries
    assert tappers.waiting == []
    assert refused["look-up"] > 0, "the reconcile job never met the outage"
    provider = keyed(outcome.alerts, {"nowpayments:unreachable"})
    assert all(n == 1 for n in provider.values()), outcome.alerts
