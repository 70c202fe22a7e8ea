"""``paygate keys rotate`` as an operator runs it: 100,000 stored payout wallets under
an old Fernet key, the command killed half-way, run again, and every value then
decrypting under the newest key with its content unchanged."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from adapters.outbound.sqla import upgrade
from tests.e2e.processes import CLI

VALUES = 100_000


def _wallet(number: int) -> bytes:
    return json.dumps({"address": f"bc1q{number:036d}", "currency": "btc"}).encode()


def _seed(database: Path, old: Fernet) -> None:
    upgrade(f"sqlite+aiosqlite:///{database}", "head")
    rows = [
        (
            f"c{number:09d}",
            1,
            -1,
            -2,
            "t",
            "2025-01-01 00:00:00.000000",
            old.encrypt(_wallet(number)),
        )
        for number in range(VALUES)
    ]
    with sqlite3.connect(database) as db:
        db.executemany(
            "INSERT INTO channels (id, owner_id, open_chat_id, closed_chat_id, title, created_at,"
            " payout_wallet, sales_paused, tiers_version) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 1)",
            rows,
        )


def _environment(database: Path, keys: str) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "VIRTUAL_ENV", "PYTHONPATH", "TMPDIR")
    return {name: os.environ[name] for name in keep if name in os.environ} | {
        "PAYGATE_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "PAYGATE_ENCRYPTION_KEYS": keys,
        "PAYGATE_MAC_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }


def _rotated_at(database: Path, position: int, new: Fernet) -> bool:
    with sqlite3.connect(database) as db:
        (token,) = db.execute(
            "SELECT payout_wallet FROM channels ORDER BY id LIMIT 1 OFFSET ?", (position,)
        ).fetchone()
    try:
        new.decrypt(token)
    except InvalidToken:
        return False
    return True


def test_a_rotation_killed_half_way_finishes_on_the_next_run(tmp_path: Path) -> None:
    database = tmp_path / "rotate.db"
    old_key, new_key = Fernet.generate_key(), Fernet.generate_key()
    old, new = Fernet(old_key), Fernet(new_key)
    _seed(database, old)
    env = _environment(database, f"{new_key.decode()},{old_key.decode()}")
    command = [sys.executable, "-m", CLI, "keys", "rotate", "--page-size", "500"]

    first = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL)  # noqa: S603
    deadline = time.monotonic() + 120
    while not _rotated_at(database, VALUES // 2, new):
        assert first.poll() is None, "the rotation ended before it could be killed"
        assert time.monotonic() < deadline, "the rotation did not reach half-way"
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert first.returncode == -signal.SIGKILL
    assert _rotated_at(database, 0, new)
    assert not _rotated_at(database, VALUES - 1, new), "killed too late to test resuming"

    second = subprocess.run(  # noqa: S603
        command, env=env, cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert second.returncode == 0, second.stderr
    summary = second.stdout.strip().splitlines()[-1]
    done_before = int(summary.split("already under the newest key ")[1].split(",")[0])
    assert VALUES // 2 <= done_before < VALUES
    assert summary == (
        f"Rotated {VALUES - done_before}, already under the newest key {done_before}, "
        "changed meanwhile 0, unreadable 0."
    )

    with sqlite3.connect(database) as db:
        stored = db.execute("SELECT id, payout_wallet FROM channels ORDER BY id").fetchall()
    assert len(stored) == VALUES
    for number, (_, token) in enumerate(stored):
        assert new.decrypt(token) == _wallet(number)

    third = subprocess.run(  # noqa: S603
        command, env=env, cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert third.stdout.strip().splitlines()[-1] == (
        f"Rotated 0, already under the newest key {VALUES}, changed meanwhile 0, unreadable 0."
    )


async def test_a_value_under_no_configured_key_is_reported_and_fails_the_run(
    tmp_path: Path,
) -> None:
    database = tmp_path / "lost.db"
    lost = Fernet(Fernet.generate_key())
    await asyncio.to_thread(upgrade, f"sqlite+aiosqlite:///{database}", "head")
    with sqlite3.connect(database) as db:
        db.execute(
            "INSERT INTO channels (id, owner_id, open_chat_id, closed_chat_id, title, created_at,"
            " payout_wallet, sales_paused, tiers_version) VALUES ('c1', 1, -1, -2, 't',"
            " '2025-01-01 00:00:00.000000', ?, 0, 1)",
            (lost.encrypt(_wallet(1)),),
        )
    env = _environment(database, Fernet.generate_key().decode())
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", CLI, "keys", "rotate"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "paygate: 1 values are under no key of PAYGATE_ENCRYPTION_KEYS; "
        "keep the key that wrote them and run again"
    )
