"""SQLite and Postgres backends of the persistence ports, for the contract suites.

- ``sqlite``: a fresh database file per backend instance, in its own temporary
  directory. The schema comes from the Alembic migrations, run once per test run into
  a template file that each instance copies (migrating per test would dominate the
  suite's time).
- ``postgres``: one database per test run, ``paygate_test_<random>``, created on the
  server of ``tests.services.POSTGRES_URL`` (``PAYGATE_TEST_POSTGRES_URL`` overrides),
  migrated once and dropped when the run ends. Every instance empties all tables
  first, so each starts from nothing; runs of other people on the same server use
  other databases.

Engines are created per instance and disposed when it closes: asyncpg connections
belong to the event loop that opened them, and every test has its own loop.
"""

from __future__ import annotations

import asyncio
import atexit
import secrets
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from adapters.outbound.crypto import FernetCipher, generate_key
from adapters.outbound.sqla import SqlUnitOfWorkFactory, create_engine, upgrade
from adapters.outbound.sqla.tables import DATA_TABLES
from tests.contract.backends_memory import Backend
from tests.services import POSTGRES_URL, require_postgres

POOL_SIZE = 2
MAX_OVERFLOW = 4
"""Small pools (two cores): enough for the suites' two racing units of work."""


def make_cipher() -> FernetCipher:
    """A cipher with a key of its own: what it stores, no other key opens."""
    return FernetCipher([generate_key()])


def sqlite_url(path: Path) -> URL:
    return make_url(f"sqlite+aiosqlite:///{path}")


_sqlite_template: Path | None = None


async def _migrated_sqlite_template() -> Path:
    global _sqlite_template
    if _sqlite_template is None:
        folder = Path(tempfile.mkdtemp(prefix="paygate-sqlite-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = folder / "template.db"
        await asyncio.to_thread(upgrade, sqlite_url(template))
        _sqlite_template = template
    return _sqlite_template


def _copy_database(source: Path, target: Path) -> None:
    # SQLite's backup API copies a consistent image whatever the journal mode.
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


@asynccontextmanager
async def sqlite_engine(pool_size: int = POOL_SIZE) -> AsyncIterator[AsyncEngine]:
    """A migrated, empty SQLite file of its own; the engine is disposed on exit."""
    template = await _migrated_sqlite_template()
    with tempfile.TemporaryDirectory(prefix="paygate-sqlite-") as folder:
        path = Path(folder) / "paygate.db"
        await asyncio.to_thread(_copy_database, template, path)
        engine = create_engine(sqlite_url(path), pool_size=pool_size, max_overflow=MAX_OVERFLOW)
        try:
            yield engine
        finally:
            await engine.dispose()


_postgres_database: URL | None = None


def side_engine(url: URL | str, *, autocommit: bool = False) -> AsyncEngine:
    """An engine beside the store, not the store's: each connection a session of its
    own, closed when returned (another client holding locks, an operator's session);
    ``autocommit`` for statements that cannot run in a transaction (CREATE DATABASE)."""
    if autocommit:
        return create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    return create_async_engine(url, poolclass=NullPool)


def _admin_engine(admin_url: URL) -> AsyncEngine:
    return side_engine(admin_url, autocommit=True)


async def _create_database(admin_url: URL, name: str) -> None:
    engine = _admin_engine(admin_url)
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        await engine.dispose()


async def _drop_database(admin_url: URL, name: str) -> None:
    engine = _admin_engine(admin_url)
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await engine.dispose()


def _drop_database_at_exit(admin_url: URL, name: str) -> None:
    try:
        asyncio.run(_drop_database(admin_url, name))
    except (OSError, SQLAlchemyError) as exc:
        # The run is over; say what is left behind rather than fail after the results.
        sys.stderr.write(f"could not drop the test database {name}: {exc}\n")


DATABASE_PREFIX = "paygate_test_"
STALE_AFTER_SECONDS = 6 * 3600
"""Longer than any test run: a database this old was left by a run that was killed."""


def _new_database_name() -> str:
    # The creation time in the name lets a later run recognise a leftover.
    return f"{DATABASE_PREFIX}{int(time.time())}_{secrets.token_hex(4)}"


def _is_stale(name: str, now: float) -> bool:
    created, _, _ = name.removeprefix(DATABASE_PREFIX).partition("_")
    return created.isdigit() and now - int(created) > STALE_AFTER_SECONDS


async def _drop_stale_databases(admin_url: URL) -> None:
    """Drop what killed runs (no atexit) left behind, never a database still in use."""
    engine = _admin_engine(admin_url)
    try:
        async with engine.connect() as conn:
            names = (
                await conn.exec_driver_sql(
                    "SELECT datname FROM pg_database WHERE datname LIKE 'paygate\\_test\\_%'"
                )
            ).scalars()
            now = time.time()
            for name in [n for n in names if _is_stale(n, now)]:
                await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await engine.dispose()


async def _migrated_postgres_database() -> URL:
    global _postgres_database
    if _postgres_database is None:
        admin_url = make_url(POSTGRES_URL)
        await _drop_stale_databases(admin_url)
        name = _new_database_name()
        await _create_database(admin_url, name)
        atexit.register(_drop_database_at_exit, admin_url, name)
        url = admin_url.set(database=name)
        await asyncio.to_thread(upgrade, url)
        _postgres_database = url
    return _postgres_database


@asynccontextmanager
async def blank_postgres_database() -> AsyncIterator[URL]:
    """A database of its own with no schema at all, dropped on exit (migration tests)."""
    require_postgres()
    admin_url = make_url(POSTGRES_URL)
    name = _new_database_name()
    await _create_database(admin_url, name)
    try:
        yield admin_url.set(database=name)
    finally:
        await _drop_database(admin_url, name)


async def postgres_url() -> URL:
    """This run's migrated Postgres database (skips, or fails under CI, without a server)."""
    require_postgres()
    return await _migrated_postgres_database()


@asynccontextmanager
async def postgres_engine(
    pool_size: int = POOL_SIZE, max_overflow: int = MAX_OVERFLOW
) -> AsyncIterator[AsyncEngine]:
    """An engine on this run's database, every table emptied first; disposed on exit."""
    url = await postgres_url()
    engine = create_engine(url, pool_size=pool_size, max_overflow=max_overflow)
    try:
        async with engine.begin() as conn:
            tables = ", ".join(f'"{table.name}"' for table in DATA_TABLES)
            await conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY")
        yield engine
    finally:
        await engine.dispose()


def sql_uow(engine: AsyncEngine, cipher: FernetCipher | None = None) -> SqlUnitOfWorkFactory:
    """The SQL adapter's units of work over ``engine``: the one place the suites
    construct it, with a key of its own unless ``cipher`` is given."""
    return SqlUnitOfWorkFactory(engine, cipher or make_cipher())


@asynccontextmanager
async def sqlite_backend(pool_size: int = POOL_SIZE) -> AsyncIterator[SqlUnitOfWorkFactory]:
    async with sqlite_engine(pool_size) as engine:
        yield sql_uow(engine)


@asynccontextmanager
async def postgres_backend(
    pool_size: int = POOL_SIZE, max_overflow: int = MAX_OVERFLOW
) -> AsyncIterator[SqlUnitOfWorkFactory]:
    async with postgres_engine(pool_size, max_overflow) as engine:
        yield sql_uow(engine)


SQL_BACKENDS: dict[str, Backend] = {"sqlite": sqlite_backend, "postgres": postgres_backend}
