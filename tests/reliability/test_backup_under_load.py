"""A backup taken under load (issue #23): ``paygate db backup`` (SQLite's online backup)
runs while paying IPNs stream in and a worker grants. The copy, restored as the
command's help says (copied over a database file, no -wal or -shm beside it), passes
the audit-chain check and holds every payment the fleet answered 2xx before the
backup began: a committed payment is never missing from a backup taken after it.

Postgres is backed up with its own tools (``pg_dump``); the command refuses it, and
this test covers the SQLite default only.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from pathlib import Path

from adapters.outbound.sqla import tables as t
from composition.assembly import opened_store
from composition.config import load_config
from core.domain.audit import verify_chain
from tests.contract.backends_sql import sqlite_url
from tests.e2e.processes import CLI
from tests.e2e.shop import open_shop
from tests.reliability.load import LoadDriver, Phase, Timing, assert_sound, judge

CHANNELS = 4


async def _backup(env: dict[str, str], target: Path, cwd: Path) -> tuple[int, str, float]:
    """``paygate db backup TARGET`` as an operator runs it beside the fleet: exit
    status, output, seconds taken."""
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        CLI,
        "db",
        "backup",
        str(target),
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode(errors="replace"), time.monotonic() - started


async def test_a_backup_taken_under_load_restores_with_every_committed_payment(
    tmp_path: Path,
) -> None:
    timing = Timing.scaled()
    database = tmp_path / "paygate.db"
    async with open_shop(
        tmp_path,
        web=1,
        workers=1,
        ipn_retries=0,
        ipn_retry_delay=0,
        database=sqlite_url(database),
    ) as shop:
        await shop.set_up_channels(CHANNELS)
        driver = await LoadDriver.checked_out(shop, timing.payments, timing.rate)
        await shop.start_fleet()
        driver.start()
        await asyncio.sleep(timing.before + timing.outage / 2)
        began = time.monotonic()
        committed = driver.acknowledged(before=began)
        env = shop.fleet.processes[0].env
        driver.phase = Phase.DURING
        code, output, took = await _backup(env, tmp_path / "backup.db", tmp_path)
        driver.phase = Phase.AFTER
        await driver.finish()
        outcome = await judge(
            shop,
            driver,
            (began, began + took),
            "backup under load (SQLite, paygate db backup)",
            {
                "payments answered 2xx before the backup began": len(committed),
                "paygate db backup wall time, interpreter start included (s)": round(took, 2),
                "backup size (bytes)": (tmp_path / "backup.db").stat().st_size,
            },
        )
        codes = await shop.fleet.stop_all()
    assert code == 0, output
    assert_sound(outcome, driver)
    assert codes == {"web-1": 0, "worker-1": 0}
    # The online backup holds no lock the payment path waits on.
    assert set(driver.statuses(Phase.DURING)) <= {200}, outcome.figures

    # Restored as the help says: the copy in place of the database, alone.
    restored = tmp_path / "restored" / "paygate.db"
    restored.parent.mkdir()
    shutil.copyfile(tmp_path / "backup.db", restored)
    config = load_config(
        env | {"PAYGATE_DATABASE_URL": str(sqlite_url(restored))},
        dotenv=tmp_path / "none.env",
    )
    async with opened_store(config) as store:
        async with store.uow() as tx:
            chain = list(await tx.audit.all())
        async with store.engine.connect() as conn:
            events = await conn.execute(t.payment_events.select())
            kept = {int(e.payment_id) for e in events if e.status == "finished"}
    assert chain, "the backup holds no audit records"
    assert verify_chain(chain), "the restored audit chain does not verify"
    missing = committed - kept
    assert committed and not missing, f"{len(missing)} committed payments missing"
