from __future__ import annotations

import base64
import re
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.outbound.crypto.fernet_cipher import generate_key
from composition.config import Config, ConfigError, Environment, load_config
from core.domain.grant import GrantMode
from core.domain.intent_state import IntentStatus

MAC = base64.urlsafe_b64encode(b"m" * 32).decode()
FERNET = generate_key()
BASE = {"PAYGATE_ENCRYPTION_KEYS": FERNET, "PAYGATE_MAC_KEYS": MAC}
NO_DOTENV = Path("/nonexistent/.env")


def load(**overrides: str) -> Config:
    return load_config({**BASE, **overrides}, dotenv=NO_DOTENV)


def test_defaults_are_the_embedded_development_setup() -> None:
    config = load_config(BASE, dotenv=NO_DOTENV)
    assert config.environment is Environment.DEVELOPMENT
    assert config.database_url.startswith("sqlite+aiosqlite:///")
    assert (config.http_host, config.http_port) == ("127.0.0.1", 8080)
    assert config.paying_status is IntentStatus.FINISHED
    assert config.grant_mode is GrantMode.JOIN_REQUEST
    assert config.reminder_leads_hours == (72, 24)
    assert config.underpayment_tolerance == Decimal("0.005")
    assert config.callback_base == "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PAYGATE_HTTP_PORT", "eighty"),
        ("PAYGATE_HTTP_PORT", "70000"),
        ("PAYGATE_PUBLIC_URL", "ftp://x"),
        ("PAYGATE_TRUSTED_PROXIES", "10.0.0.0/33"),
        ("PAYGATE_PAYING_STATUS", "waiting"),
        ("PAYGATE_UNDERPAYMENT_TOLERANCE", "0.9"),
        ("PAYGATE_GRANT_MODE", "magic"),
        ("PAYGATE_REMINDER_LEADS_HOURS", "72,-1"),
        ("PAYGATE_ENV", "staging"),
        ("PAYGATE_DATABASE_URL", "not a url"),
        ("PAYGATE_JOB_KEYS", "cron:too-short"),
        ("PAYGATE_DB_POOL_SIZE", "0"),
        ("PAYGATE_DB_POOL_SIZE", "101"),
        ("PAYGATE_DB_POOL_SIZE", "five"),
        ("PAYGATE_DB_START_WAIT_SECONDS", "-1"),
        ("PAYGATE_DB_START_WAIT_SECONDS", "601"),
        ("PAYGATE_DB_START_WAIT_SECONDS", "nan"),
        ("PAYGATE_DB_START_WAIT_SECONDS", "soon"),
        ("PAYGATE_TELEGRAM_PROCESSES", "0"),
        ("PAYGATE_TELEGRAM_PROCESSES", "three"),
        ("PAYGATE_TELEGRAM_PROCESSES", "101"),
        ("PAYGATE_TELEGRAM_STARS", "maybe"),
    ],
)
def test_a_malformed_setting_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load(**{name: value})


@pytest.mark.parametrize("name", ["PAYGATE_ENCRYPTION_KEYS", "PAYGATE_MAC_KEYS"])
def test_missing_keys_stop_start_up_with_a_hint(name: str) -> None:
    env = {k: v for k, v in BASE.items() if k != name}
    with pytest.raises(ConfigError, match=f"{name} is not set"):
        load_config(env, dotenv=NO_DOTENV)


def test_a_short_mac_key_is_refused_without_echoing_it() -> None:
    short = base64.urlsafe_b64encode(b"tiny-secret").decode()
    with pytest.raises(ConfigError, match="at least 32") as info:
        load(PAYGATE_MAC_KEYS=short)
    assert short not in str(info.value)


def test_production_requires_an_https_public_url() -> None:
    with pytest.raises(ConfigError, match="https"):
        load(PAYGATE_ENV="production", PAYGATE_PUBLIC_URL="http://example.com")


def test_a_shifted_clock_is_for_tests_and_refused_in_production(tmp_path: Path) -> None:
    offset = tmp_path / "offset"
    assert load(PAYGATE_CLOCK_OFFSET_FILE=str(offset)).clock_offset_file == offset
    assert load().clock_offset_file is None
    with pytest.raises(ConfigError, match="PAYGATE_CLOCK_OFFSET_FILE"):
        load(
            PAYGATE_ENV="production",
            PAYGATE_PUBLIC_URL="https://pay.example.com",
            PAYGATE_CLOCK_OFFSET_FILE=str(offset),
        )


def test_masked_config_never_shows_a_secret() -> None:
    config = load_config(
        {
            **BASE,
            "PAYGATE_TELEGRAM_BOT_TOKEN": "123456789:canary-token-value",
            "PAYGATE_DATABASE_URL": "postgresql+asyncpg://u:hunter2@db/paygate",
        },
        dotenv=NO_DOTENV,
    )
    shown = "\n".join(f"{k}={v}" for k, v in config.masked().items())
    for secret in ("canary-token-value", "hunter2", FERNET, MAC):
        assert secret not in shown
    assert re.search(r"telegram\.token=\*\*\* \(set\)", shown)
    assert "nowpayments.api_key=(not set)" in shown


def test_dotenv_fills_in_and_the_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("PAYGATE_HTTP_PORT=9000\nPAYGATE_HTTP_HOST=0.0.0.0\n", encoding="utf-8")
    config = load_config({**BASE, "PAYGATE_HTTP_PORT": "9100"}, dotenv=dotenv)
    assert (config.http_host, config.http_port) == ("0.0.0.0", 9100)  # noqa: S104


def test_a_process_lacking_what_it_needs_is_told_which_variable() -> None:
    config = load_config(BASE, dotenv=NO_DOTENV)
    with pytest.raises(ConfigError, match="PAYGATE_TELEGRAM_BOT_TOKEN"):
        config.require("telegram")


def test_the_database_pool_holds_five_connections_unless_paygate_db_pool_size_says() -> None:
    assert load().db_pool_size == 5
    assert load(PAYGATE_DB_POOL_SIZE="1").db_pool_size == 1
    assert load(PAYGATE_DB_POOL_SIZE="100").db_pool_size == 100
    assert load(PAYGATE_DB_POOL_SIZE="20").masked()["db_pool_size"] == "20"


def test_telegram_is_paced_as_one_process_unless_paygate_telegram_processes_says() -> None:
    assert load().telegram.processes == 1
    assert load(PAYGATE_TELEGRAM_PROCESSES="3").telegram.processes == 3
    assert load(PAYGATE_TELEGRAM_PROCESSES="3").masked()["telegram.processes"] == "3"


def test_stars_are_sold_only_when_paygate_telegram_stars_is_on() -> None:
    assert load().telegram.stars is False
    assert load(PAYGATE_TELEGRAM_STARS="on").telegram.stars is True
    assert load(PAYGATE_TELEGRAM_STARS="0").telegram.stars is False


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"PAYGATE_NOWPAYMENTS_EMAIL": "shop@example.com"}, "PAYGATE_NOWPAYMENTS_PASSWORD"),
        ({"PAYGATE_NOWPAYMENTS_PASSWORD": "hunter2-but-longer"}, "PAYGATE_NOWPAYMENTS_EMAIL"),
    ],
)
def test_half_a_nowpayments_login_names_the_missing_half(
    given: dict[str, str], missing: str
) -> None:
    with pytest.raises(ConfigError, match=missing) as refused:
        load(**given)
    assert "hunter2" not in str(refused.value)


def test_the_nowpayments_login_is_optional_and_its_password_stays_masked() -> None:
    assert load().nowpayments.account_email is None
    config = load(
        PAYGATE_NOWPAYMENTS_EMAIL="shop@example.com",
        PAYGATE_NOWPAYMENTS_PASSWORD="hunter2-but-longer",
    )
    assert config.nowpayments.account_email == "shop@example.com"
    assert config.masked()["nowpayments.account_password"] == "*** (set)"
    assert "hunter2-but-longer" not in repr(config)


def test_a_starting_process_waits_half_a_minute_for_its_database_unless_told() -> None:
    assert load().db_start_wait_seconds == 30.0
    assert load(PAYGATE_DB_START_WAIT_SECONDS="0").db_start_wait_seconds == 0.0
    assert load(PAYGATE_DB_START_WAIT_SECONDS="2.5").db_start_wait_seconds == 2.5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PAYGATE_HTTP_HEADER_TIMEOUT_SECONDS", "0"),
        ("PAYGATE_HTTP_BODY_TIMEOUT_SECONDS", "nan"),
        ("PAYGATE_HTTP_KEEPALIVE_SECONDS", "7200"),
        ("PAYGATE_HTTP_MAX_CONNECTIONS", "0"),
        ("PAYGATE_HTTP_MAX_CONNECTIONS_PER_CLIENT", "many"),
        ("PAYGATE_HTTP_RESERVED_CONNECTIONS", "1000"),
        ("PAYGATE_HTTP_RESERVED_CONNECTIONS", "-1"),
    ],
)
def test_connection_limits_out_of_range_are_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load(**{name: value})


def test_connection_limits_default_to_bounded_timeouts_and_caps() -> None:
    config = load()
    assert (
        config.http_header_timeout,
        config.http_body_timeout,
        config.http_keepalive_timeout,
    ) == (10.0, 15.0, 15.0)
    assert (
        config.http_max_connections,
        config.http_max_connections_per_client,
        config.http_reserved_connections,
    ) == (1000, 64, 100)
