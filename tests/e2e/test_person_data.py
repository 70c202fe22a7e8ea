"""``paygate user export`` and ``paygate user erase`` as an operator runs them, on a
SQLite file where a subscriber paid through the use cases: erase refuses the active
subscriber, erases when forced, and the export then holds nothing personal."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.outbound.sqla import upgrade
from composition.assembly import database_config, opened_store
from core.domain.ids import ChatId, UserId
from tests.e2e.processes import CLI
from tests.unit.services.world import build

SUBSCRIBER = UserId(7_300_000_001)


def _cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", CLI, "user", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


async def test_an_erased_subscriber_exports_nothing_personal(tmp_path: Path) -> None:
    database = tmp_path / "people.db"
    keep = ("PATH", "HOME", "LANG", "VIRTUAL_ENV", "PYTHONPATH", "TMPDIR")
    env = {name: os.environ[name] for name in keep if name in os.environ} | {
        "PAYGATE_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "PAYGATE_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "PAYGATE_MAC_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    config = database_config(env["PAYGATE_DATABASE_URL"])
    await asyncio.to_thread(upgrade, config.database_url, "head")
    async with opened_store(config) as store:
        world = build(uow=store.uow)
        world.clock.advance(datetime.now(UTC) - world.clock.now())
        channel = await world.channel()
        await world.pay(await world.checkout.execute(SUBSCRIBER, channel.id, 1))
        await world.drain()
    seeded = await asyncio.to_thread(_cli, env, tmp_path, "export", str(SUBSCRIBER), "--force")
    refused = await asyncio.to_thread(_cli, env, tmp_path, "erase", str(SUBSCRIBER))
    erased = await asyncio.to_thread(_cli, env, tmp_path, "erase", str(SUBSCRIBER), "--force")
    out = tmp_path / "after.json"
    after = await asyncio.to_thread(
        _cli, env, tmp_path, "export", str(SUBSCRIBER), "--out", str(out)
    )

    assert seeded.returncode == 0, seeded.stderr
    before: dict[str, Any] = json.loads(seeded.stdout)
    assert [s["tier"] for s in before["subscriptions"]] == [1]
    assert [i["status"] for i in before["intents"]] == ["finished"]
    assert len(before["payment_events"]) == 3 and len(before["grants"]) == 1
    assert refused.returncode == 1
    assert "1 active subscription" in refused.stderr and "--force" in refused.stderr
    assert erased.returncode == 0, erased.stderr
    assert after.returncode == 0, after.stderr
    exported: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    for section in ("subscriptions", "intents", "payment_events", "grants", "donations"):
        assert exported[section] == [], section
    assert exported["channels"] == []
    assert (exported["seller_request"], exported["conversation"], exported["language"]) == (
        None,
        None,
        None,
    )
    # What the books keep stays, under the pseudonym the erasure printed.
    pseudonym = int(erased.stdout.split("the person is now ")[1].split(" ")[0])
    async with opened_store(config) as store, store.uow() as tx:
        kept = await tx.subscriptions.for_user(UserId(pseudonym))
        trail = await tx.audit.all()
    assert [(s.channel_id, s.tier) for s in kept] == [(channel.id, 1)]
    assert (trail[-1].action, trail[-1].subject) == ("user.erased", f"user:{pseudonym}")
    assert str(SUBSCRIBER) not in json.dumps(dict(trail[-1].details))
    assert ChatId(SUBSCRIBER) > 0 > pseudonym
