"""A process's database at start: at another schema revision than this release's,
the process refuses to run (one line saying what to do, a non-zero exit status,
nothing started); otherwise its engine pools ``PAYGATE_DB_POOL_SIZE`` connections."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adapters.outbound.crypto import generate_key
from adapters.outbound.sqla import SchemaMismatch, upgrade
from composition.config import load_config
from composition.containers import Infrastructure
from composition.processes.process import MONOLITH, start_process
from composition.processes.run import starters_for
from tests.contract.backends_sql import sqlite_url
from tests.contract.sql.head import HEAD

REPO = Path(__file__).resolve().parents[3]
KEYS = {
    "PAYGATE_ENCRYPTION_KEYS": generate_key(),
    "PAYGATE_MAC_KEYS": base64.urlsafe_b64encode(b"m" * 32).decode(),
}


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    conn.close()
    return {name for (name,) in rows}


def paygate(role: str, settings: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``paygate <role>`` as a deployment starts it: configured by its environment only."""
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "composition.cli", role],
        env={**KEYS, **settings, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
        # Not the repository: a developer's .env there must not configure this process.
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("role", ["run", "web", "bot", "worker"])
def test_every_process_refuses_an_empty_database_in_one_line(role: str, tmp_path: Path) -> None:
    database = tmp_path / "empty.db"
    done = paygate(role, {"PAYGATE_DATABASE_URL": f"sqlite:///{database}"}, tmp_path)

    assert done.returncode == 1, done.stderr
    assert done.stderr == (
        f"paygate: sqlite+aiosqlite:///{database}: the database is empty (no PayGate "
        "schema): run `paygate db upgrade`\n"
    )
    assert _tables(database) == set()


async def test_a_process_refuses_a_database_behind_before_opening_anything_else(
    tmp_path: Path,
) -> None:
    database = tmp_path / "old.db"
    await asyncio.to_thread(upgrade, sqlite_url(database), "0002")
    # No bot token: had the process opened its Telegram client before checking the
    # schema, it would have stopped on that (ConfigError) instead.
    config = load_config(
        {**KEYS, "PAYGATE_DATABASE_URL": f"sqlite:///{database}"}, dotenv=tmp_path / "none.env"
    )

    with pytest.raises(SchemaMismatch, match=rf"at revision 0002 but this release needs {HEAD}"):
        await start_process(config, MONOLITH, starters=starters_for(MONOLITH))


async def test_each_process_engine_pools_paygate_db_pool_size_connections(
    tmp_path: Path,
) -> None:
    config = load_config(
        {**KEYS, "PAYGATE_DB_POOL_SIZE": "7", "PAYGATE_DATABASE_URL": f"sqlite:///{tmp_path}/p.db"},
        dotenv=tmp_path / "none.env",
    )
    infra = Infrastructure(config=config)
    engine = await infra.engine()  # type: ignore[misc]  # an async Resource: a Future
    try:
        async with contextlib.AsyncExitStack() as held:
            # The pool's seven, then as many again for a burst (a smaller overflow
            # would leave the last of these waiting for a connection to come back).
            for _ in range(14):
                await held.enter_async_context(engine.connect())
            assert engine.pool.status().startswith("Pool size: 7 ")
            assert engine.pool.checkedout() == 14
    finally:
        await infra.shutdown_resources()  # type: ignore[misc]


def test_a_process_waits_for_an_unreachable_database_then_stops_in_one_line(
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    done = paygate(
        "web",
        {
            # Nothing listens on port 1: every connection is refused at once.
            "PAYGATE_DATABASE_URL": "postgresql://paygate:s3cret-pw@127.0.0.1:1/paygate",
            "PAYGATE_DB_START_WAIT_SECONDS": "1.5",
        },
        tmp_path,
    )
    elapsed = time.monotonic() - started

    lines = done.stderr.splitlines()
    assert done.returncode == 1, done.stderr
    assert lines[-1].startswith("paygate: read the schema revision: the database is unavailable")
    assert sum("not reachable yet" in line for line in lines) >= 2
    assert "s3cret-pw" not in done.stderr
    assert 1.5 <= elapsed < 30
