"""``paygate db upgrade`` / ``paygate db downgrade``: the schema of the configured database."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from composition.cli import main
from tests.contract.sql.head import HEAD
from tests.contract.sql.test_migrations import SCHEMA

ENV = "PAYGATE_DATABASE_URL"


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    conn.close()
    return {name for (name,) in rows}


def _revision(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    conn.close()
    return [version for (version,) in rows]


def test_db_upgrade_then_downgrade_base_creates_then_drops_the_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "shop.db"
    monkeypatch.setenv(ENV, f"sqlite:///{database}")

    assert main(["db", "upgrade"]) == 0
    assert _tables(database) == SCHEMA | {"alembic_version"}
    assert _revision(database) == [HEAD]
    assert "shop.db is at revision head" in capsys.readouterr().out

    assert main(["db", "downgrade", "base"]) == 0
    assert _tables(database) == {"alembic_version"}
    assert _revision(database) == []
    assert "is back at revision base" in capsys.readouterr().out


def test_db_upgrade_without_a_configured_url_makes_paygate_db_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.chdir(tmp_path)

    assert main(["db", "upgrade", "0001"]) == 0

    # Revision 0001 as asked: the conversations table comes with 0002, the audit
    # head with 0003, the chat languages with 0004, the seller requests with 0005, the
    # dashboard's sessions with 0006, owners' wording with 0007, API tokens with 0009, the
    # dashboard's recent alerts with 0010, the people's usernames with 0011, the
    # self-renewing Stars subscriptions with 0012, the dashboard's daily rollup with 0013,
    # trials with 0014, coupons with 0015, bundles with 0016.
    later = {
        "stars_renewals",
        "conversations",
        "audit_head",
        "chat_languages",
        "seller_requests",
        "dashboard_sessions",
        "channel_wordings",
        "dashboard_alerts",
        "person_names",
        "api_tokens",
        "daily_figures",
        "trials",
        "coupons",
        "coupon_redemptions",
        "bundle_members",
        "bundle_grants",
    }
    assert _tables(tmp_path / "paygate.db") == SCHEMA - later | {"alembic_version"}


def test_a_postgres_url_without_a_password_in_the_output(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    monkeypatch.setenv(ENV, "postgresql://paygate:s3cret-pw@127.0.0.1:1/paygate")

    with pytest.raises(SystemExit) as exit_info:
        main(["db", "upgrade"])

    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "the database is unavailable" in err
    assert "s3cret-pw" not in err


def test_an_unusable_database_url_is_named_in_the_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ENV, "mysql://root@127.0.0.1/paygate")

    with pytest.raises(SystemExit) as exit_info:
        main(["db", "upgrade"])

    assert exit_info.value.code == 2
    assert (
        "PAYGATE_DATABASE_URL must be a sqlite:// or postgresql:// URL" in capsys.readouterr().err
    )


def test_downgrade_needs_a_target_revision(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["db", "downgrade"])

    assert exit_info.value.code == 2
    assert "revision" in capsys.readouterr().err


def test_help_lists_the_commands_and_the_database_actions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as top:
        main(["--help"])
    top_help = capsys.readouterr().out
    with pytest.raises(SystemExit) as db:
        main(["db", "--help"])
    db_help = capsys.readouterr().out

    assert (top.value.code, db.value.code) == (0, 0)
    assert "db" in top_help and "database schema migrations" in top_help
    assert "upgrade" in db_help and "downgrade" in db_help
    assert "PAYGATE_DATABASE_URL" in db_help


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])

    assert exit_info.value.code == 2
    assert "usage: paygate" in capsys.readouterr().err


def test_the_module_runs_as_a_program(tmp_path: Path) -> None:
    database = tmp_path / "run.db"
    done = subprocess.run(
        [sys.executable, "-m", "composition.cli", "db", "upgrade"],
        env={"PAYGATE_DATABASE_URL": f"sqlite:///{database}", "PATH": "/usr/bin:/bin"},
        cwd=Path(__file__).resolve().parents[3],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert _tables(database) == SCHEMA | {"alembic_version"}
