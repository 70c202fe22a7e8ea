"""A real ``paygate web`` whose database fails under it: a signed payment notification
is answered 503 (NowPayments resends it) within the provider's 3 s, and once the
database is back the resent notification is taken.

The database of each test is its own (a SQLite file, or a throwaway Postgres
database), never the machine's shared server itself: "hung" is a lock the test holds
on every table."""

from __future__ import annotations

import asyncio
import base64
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.outbound.sqla import upgrade
from adapters.outbound.sqla.tables import DATA_TABLES
from core.domain.ids import IntentId
from core.domain.order_id import OrderId
from core.domain.signing import MacKeyring
from sandbox.nowpayments.js_form import sign
from tests.contract.backends_sql import blank_postgres_database, side_engine, sqlite_url
from tests.contract.sql.frozen import FreezableRelay
from tests.e2e.emulated import NP_SECRET, open_emulators
from tests.e2e.processes import PaygateProcess, fleet_in

PROVIDER_PATIENCE = 3.0
"""NowPayments waits this long for an answer (PROVIDERS.md)."""
MAC_KEY = secrets.token_bytes(32)


def _notification(payment_id: int) -> tuple[bytes, dict[str, str]]:
    """A signed notification for an order of ours that the database does not know:
    the process stores it (and alerts) before it answers."""
    order = OrderId.issue(IntentId(f"lost{payment_id}"), MacKeyring((MAC_KEY,)))
    payload: dict[str, object] = {
        "payment_id": payment_id,
        "payment_status": "finished",
        "pay_address": "bc1qexampleaddressexampleaddressexample",
        "price_amount": Decimal("10"),
        "price_currency": "usd",
        "pay_amount": Decimal("0.0004"),
        "actually_paid": Decimal("0.0004"),
        "pay_currency": "btc",
        "order_id": str(order),
        "outcome_amount": Decimal("0.0004"),
        "outcome_currency": "btc",
        "updated_at": 1772366400000 + payment_id,
    }
    body, signature = sign(payload, NP_SECRET)
    return body, {"Content-Type": "application/json", "x-nowpayments-sig": signature}


async def _post(base: str, payment_id: int) -> tuple[int, float]:
    """The answer's status (0: none within twice the provider's patience) and how long
    it took."""
    body, headers = _notification(payment_id)
    started = time.monotonic()
    try:
        async with (
            aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=2 * PROVIDER_PATIENCE)
            ) as http,
            http.post(f"{base}/webhooks/nowpayments", data=body, headers=headers) as answer,
        ):
            await answer.read()
            return answer.status, time.monotonic() - started
    except TimeoutError:
        return 0, time.monotonic() - started


@asynccontextmanager
async def _web(
    tmp_path: Path, database: URL, *, migrate: bool = True
) -> AsyncIterator[tuple[PaygateProcess, str]]:
    """``paygate web`` on ``database`` (migrated here unless told), with the emulators
    around it."""
    if migrate:
        await asyncio.to_thread(upgrade, database, "head")
    async with open_emulators(tmp_path / "unused.db") as emulated:
        env = emulated.env | {
            "PAYGATE_DATABASE_URL": database.render_as_string(hide_password=False),
            "PAYGATE_MAC_KEYS": base64.urlsafe_b64encode(MAC_KEY).decode(),
        }
        with fleet_in(tmp_path) as fleet:
            web = fleet.add("web", "web", env)
            web.start()
            await web.wait_started()
            try:
                yield web, emulated.url
            finally:
                await web.stop()


@asynccontextmanager
async def _postgres_database() -> AsyncIterator[URL]:
    async with blank_postgres_database() as url:
        yield url


@asynccontextmanager
async def _locked_postgres(url: URL) -> AsyncIterator[None]:
    """Another session holds every table in ACCESS EXCLUSIVE mode: each statement on
    them waits, as on a database stuck behind a long migration or a hung session."""
    engine = side_engine(url)
    try:
        async with engine.connect() as conn:
            await _lock_every_table(conn)
            yield
            await conn.rollback()
    finally:
        await engine.dispose()


async def _lock_every_table(conn: AsyncConnection) -> None:
    tables = ", ".join(f'"{table.name}"' for table in DATA_TABLES)
    await conn.exec_driver_sql(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE")


@contextmanager
def _locked_sqlite(path: Path) -> Iterator[None]:
    """Another process's writer holds the write lock of the file."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


@pytest.mark.postgres
async def test_a_hung_postgres_answers_a_payment_notification_503_within_the_patience(
    tmp_path: Path,
) -> None:
    async with _postgres_database() as url, _web(tmp_path, url) as (web, base):
        async with _locked_postgres(url):
            status, took = await _post(base, 1)
        assert status == 503, web.tail()
        assert took < PROVIDER_PATIENCE, f"answered after {took:.2f} s"
        # The lock is gone: the provider's resend is taken.
        assert (await _post(base, 1))[0] == 200, web.tail()


@pytest.mark.postgres
async def test_a_frozen_postgres_answers_every_waiting_notification_503_within_the_patience(
    tmp_path: Path,
) -> None:
    async with _postgres_database() as url:
        relay = FreezableRelay(url.host or "127.0.0.1", url.port or 5432)
        async with relay as port:
            through_relay = url.set(host="127.0.0.1", port=port)
            async with _web(tmp_path, through_relay) as (web, base):
                # Pooled connections first, as a process in service has them.
                assert [(await _post(base, n))[0] for n in (1, 2, 3)] == [200] * 3
                relay.freeze()
                # Each waits for the batches before its own: a frozen database must
                # not make the later ones wait past the provider's patience.
                answers = await asyncio.gather(*(_post(base, n) for n in (4, 5, 6)))
                relay.thaw()
                assert [status for status, _ in answers] == [503] * 3, web.tail()
                slowest = max(took for _, took in answers)
                assert slowest < PROVIDER_PATIENCE, f"the slowest took {slowest:.2f} s"
                resent = [(await _post(base, n))[0] for n in (4, 5, 6)]
                assert resent == [200] * 3, web.tail()


async def test_a_locked_sqlite_file_answers_a_payment_notification_503_within_the_patience(
    tmp_path: Path,
) -> None:
    path = tmp_path / "paygate.db"
    async with _web(tmp_path, sqlite_url(path)) as (web, base):
        with _locked_sqlite(path):
            status, took = await _post(base, 1)
        assert status == 503, web.tail()
        assert took < PROVIDER_PATIENCE, f"answered after {took:.2f} s"
        assert (await _post(base, 1))[0] == 200, web.tail()


async def _read_only(url: URL) -> None:
    """New sessions of the database are read-only, as on a replica left after a
    failover or a database an operator set so while it is moved."""
    engine = side_engine(url.set(database="postgres"))
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql(
                f'ALTER DATABASE "{url.database}" SET default_transaction_read_only = on'
            )
            await conn.commit()
    finally:
        await engine.dispose()


async def _ready(base: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as http, http.get(f"{base}/readyz") as answer:
        return answer.status, await answer.json()


@pytest.mark.postgres
async def test_a_read_only_postgres_answers_503_fails_readiness_and_logs_no_parameters(
    tmp_path: Path,
) -> None:
    async with _postgres_database() as url:
        await asyncio.to_thread(upgrade, url, "head")
        await _read_only(url)
        async with _web(tmp_path, url) as (web, base):
            status, _ = await _post(base, 4242)
            ready, body = await _ready(base)
            log = web.current_log()
    assert status == 503, log
    assert ready == 503
    assert body["checks"] == {"database": "unavailable", "schema": "ok", "telegram": "ok"}
    order = _notification(4242)[0].decode()
    assert "[parameters" not in log
    assert "4242" not in log and "lost4242" not in log, log
    # What the operator needs instead: which statement, and what kind of refusal.
    assert "the database is unavailable (ReadOnlySQLTransactionError)" in log, log
    assert order not in log


async def test_a_read_only_sqlite_file_answers_503_fails_readiness_and_logs_no_parameters(
    tmp_path: Path,
) -> None:
    path = tmp_path / "paygate.db"
    await asyncio.to_thread(upgrade, sqlite_url(path), "head")
    # As on a file system mounted read-only.
    read_only = make_url(f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true")
    async with _web(tmp_path, read_only, migrate=False) as (web, base):
        status, _ = await _post(base, 4343)
        ready, body = await _ready(base)
        log = web.current_log()
    assert status == 503, log
    assert (ready, body["checks"]) == (
        503,
        {"database": "unavailable", "schema": "ok", "telegram": "ok"},
    )
    assert "[parameters" not in log
    assert "4343" not in log, log
    assert "the database is unavailable (SQLITE_READONLY)" in log, log
