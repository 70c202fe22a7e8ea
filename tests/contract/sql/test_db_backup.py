"""``paygate db backup``: a copy of the live SQLite database that restores to the
same data, at the same schema revision."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from composition.cli import main
from tests.contract.sql.head import HEAD

ENV = "PAYGATE_DATABASE_URL"


def _append_event(conn: sqlite3.Connection, seq: int, action: str) -> None:
    conn.execute(
        "INSERT INTO audit_events (seq, at, actor, action, subject, details, prev_hash, hash) "
        "VALUES (?, '2025-01-01 00:00:00.000000', 'owner:7', ?, 'channel:1', '{}', ?, ?)",
        (seq, action, f"{seq - 1:064d}", f"{seq:064d}"),
    )


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    database = tmp_path / "shop.db"
    monkeypatch.setenv(ENV, f"sqlite:///{database}")
    assert main(["db", "upgrade"]) == 0
    with closing(sqlite3.connect(database)) as conn:
        _append_event(conn, 1, "channel.registered")
        _append_event(conn, 2, "tiers.set")
        conn.commit()
    return database


def test_a_backup_taken_during_a_write_restores_the_committed_data_at_its_revision(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = tmp_path / "backups" / "shop-1.db"
    backup.parent.mkdir()
    # Another process is in the middle of a write: what it has not committed is not
    # in the backup, and the backup does not wait for it.
    with closing(sqlite3.connect(shop, isolation_level=None)) as writer:
        writer.execute("BEGIN IMMEDIATE")
        _append_event(writer, 3, "not.committed")

        assert main(["db", "backup", str(backup)]) == 0

        writer.execute("ROLLBACK")
    assert f"Backed up {shop} to {backup}" in capsys.readouterr().out

    # Restore: every process stopped, the backup copied over the database.
    with closing(sqlite3.connect(shop)) as conn:
        conn.execute("DELETE FROM audit_events")
        conn.commit()
    for leftover in (shop.with_name("shop.db-wal"), shop.with_name("shop.db-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(backup, shop)

    assert _rows(shop, "SELECT seq, action FROM audit_events ORDER BY seq") == [
        (1, "channel.registered"),
        (2, "tiers.set"),
    ]
    assert _rows(shop, "SELECT version_num FROM alembic_version") == [(HEAD,)]
    assert _rows(shop, "PRAGMA integrity_check") == [("ok",)]
    # The schema is where this release wants it: upgrading finds nothing to do.
    assert main(["db", "upgrade"]) == 0
    assert _rows(shop, "SELECT count(*) FROM audit_events") == [(2,)]


def test_a_backup_never_replaces_a_file(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    earlier = tmp_path / "earlier.db"
    earlier.write_bytes(b"yesterday's backup")

    assert main(["db", "backup", str(earlier)]) == 1

    assert "exists already" in capsys.readouterr().err
    assert earlier.read_bytes() == b"yesterday's backup"


def test_a_missing_database_is_an_error_and_is_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "typo.db"
    monkeypatch.setenv(ENV, f"sqlite:///{missing}")

    assert main(["db", "backup", str(tmp_path / "copy.db")]) == 1

    assert f"there is no database file at {missing}" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_postgres_is_pointed_at_pg_dump_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ENV, "postgresql://paygate:s3cret-pw@db.example/paygate")

    assert main(["db", "backup", str(tmp_path / "copy.db")]) == 2

    err = capsys.readouterr().err
    assert "pg_dump" in err and "s3cret-pw" not in err
    assert not (tmp_path / "copy.db").exists()
