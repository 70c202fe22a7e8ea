"""Issue 18, "Never silently wrong": the real ``paygate`` command, configured as an
operator would (environment and ``.env``), refuses each common mistake in one line
that names the variable and the fix (exit status 2, no traceback), and says what it
runs when it starts."""

from __future__ import annotations

import base64
import sqlite3
import subprocess
import sys
from pathlib import Path

from adapters.outbound.crypto.fernet_cipher import generate_key
from composition.version import paygate_version
from tests.e2e.lone_web import lone_web

REPO = Path(__file__).resolve().parents[2]
MAC = base64.urlsafe_b64encode(b"m" * 32).decode()
CREDENTIALS = {
    "PAYGATE_ENCRYPTION_KEYS": generate_key(),
    "PAYGATE_MAC_KEYS": MAC,
    "PAYGATE_TELEGRAM_BOT_TOKEN": "123456789:" + "A" * 35,
    "PAYGATE_NOWPAYMENTS_API_KEY": "np-key-" + "k" * 16,
    "PAYGATE_NOWPAYMENTS_IPN_SECRET": "np-ipn-" + "s" * 24,
}


def paygate(cwd: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """``paygate ARGS`` in ``cwd``, configured by ``settings`` (and a ``.env`` there)."""
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "composition.cli", *args],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), **settings},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def refused(done: subprocess.CompletedProcess[str]) -> str:
    """The one line a refused command printed; asserts exit status 2, no traceback."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_version_names_the_release(tmp_path: Path) -> None:
    done = paygate(tmp_path, "--version")
    assert (done.returncode, done.stdout) == (0, f"paygate {paygate_version()}\n")


def test_db_upgrade_migrates_the_database_named_in_dot_env(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PAYGATE_DATABASE_URL=sqlite:///from-dotenv.db\n")
    done = paygate(tmp_path, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert "from-dotenv.db" in done.stdout
    assert not (tmp_path / "paygate.db").exists()
    with sqlite3.connect(tmp_path / "from-dotenv.db") as db:
        (version,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
    assert version


def test_check_config_masks_the_password_inside_the_redis_url(tmp_path: Path) -> None:
    url = "redis://:hunter2-redis-pw@127.0.0.1:6379/0"
    done = paygate(tmp_path, "check-config", **CREDENTIALS, PAYGATE_REDIS_URL=url)
    assert done.returncode == 0, done.stderr
    assert "hunter2-redis-pw" not in done.stdout
    assert "redis://:***@127.0.0.1:6379/0" in done.stdout


def test_a_bad_redis_url_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    done = paygate(tmp_path, "check-config", **CREDENTIALS, PAYGATE_REDIS_URL="http://cache")
    assert "PAYGATE_REDIS_URL must be a redis:// or rediss:// URL" in refused(done)


def test_check_config_for_a_role_asks_for_what_that_process_needs(tmp_path: Path) -> None:
    settings = {k: v for k, v in CREDENTIALS.items() if k != "PAYGATE_TELEGRAM_BOT_TOKEN"}
    assert paygate(tmp_path, "check-config", **settings).returncode == 0
    line = refused(paygate(tmp_path, "check-config", "--for", "run", **settings))
    assert "PAYGATE_TELEGRAM_BOT_TOKEN is not set" in line


def test_check_config_for_a_role_reports_an_unreachable_redis(tmp_path: Path) -> None:
    assert paygate(tmp_path, "db", "upgrade").returncode == 0
    done = paygate(
        tmp_path,
        "check-config",
        "--for",
        "web",
        **CREDENTIALS,
        PAYGATE_REDIS_URL="redis://:pw-redis-xyz@127.0.0.1:1/0",
    )
    line = refused(done)
    assert line.startswith("paygate: PAYGATE_REDIS_URL (redis://:***@127.0.0.1:1/0)"), line
    assert "pw-redis-xyz" not in done.stdout + done.stderr


def test_production_refuses_to_sell_without_a_public_url(tmp_path: Path) -> None:
    done = paygate(tmp_path, "run", **CREDENTIALS, PAYGATE_ENV="production")
    line = refused(done)
    assert "PAYGATE_PUBLIC_URL is not set" in line
    assert "/webhooks/nowpayments" in line


def test_development_warns_once_without_a_public_url(tmp_path: Path) -> None:
    done = paygate(tmp_path, "check-config", "--for", "bot", **CREDENTIALS)
    warnings = [line for line in done.stdout.splitlines() if "PAYGATE_PUBLIC_URL" in line]
    assert len(warnings) == 1 and warnings[0].startswith("warning:"), done.stdout


def test_a_public_url_without_a_webhook_secret_is_refused(tmp_path: Path) -> None:
    done = paygate(tmp_path, "run", **CREDENTIALS, PAYGATE_PUBLIC_URL="https://pay.example.com")
    line = refused(done)
    assert "PAYGATE_TELEGRAM_WEBHOOK_SECRET is not" in line
    assert "paygate keys new-webhook-secret" in line


def test_a_key_in_the_wrong_variable_is_refused(tmp_path: Path) -> None:
    # A Fernet key is 32 bytes of base64 too: it parses as a MAC key.
    fernet = CREDENTIALS["PAYGATE_ENCRYPTION_KEYS"]
    done = paygate(tmp_path, "web", **{**CREDENTIALS, "PAYGATE_MAC_KEYS": f"{MAC},{fernet}"})
    assert "PAYGATE_MAC_KEYS and PAYGATE_ENCRYPTION_KEYS share a key" in refused(done)


def test_a_postgres_database_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:5432/paygate_issue18_no_such_database"
    done = paygate(tmp_path, "web", **CREDENTIALS, PAYGATE_DATABASE_URL=url)
    line = refused(done)
    assert line.startswith("paygate: PAYGATE_DATABASE_URL"), line
    assert "does not exist" in line


def test_a_postgres_role_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    url = "postgresql://paygate_issue18_nobody:pw-role-xyz@127.0.0.1:5432/test"
    done = paygate(tmp_path, "worker", **CREDENTIALS, PAYGATE_DATABASE_URL=url)
    line = refused(done)
    assert "PAYGATE_DATABASE_URL" in line and "refuses" in line, line
    assert "pw-role-xyz" not in line


async def test_each_process_logs_one_start_line_saying_what_runs(tmp_path: Path) -> None:
    async with lone_web(tmp_path) as web:
        log = web.process.current_log()
    lines = [line for line in log.splitlines() if "paygate web started" in line]
    assert len(lines) == 1, log
    line = lines[0]
    assert f"version {paygate_version()}" in line
    assert "mode development" in line
    assert "database sqlite+aiosqlite:///" in line
    assert "/webhooks/nowpayments" in line
    assert "redis off" in line and "telegram on" in line
