"""PAYGATE_ALLOWLIST_*, PAYGATE_PRIVATE_ALLOWLIST, PAYGATE_ALERT_* and
PAYGATE_OPERATOR_IDS as the configuration reads them."""

from __future__ import annotations

import base64
import ipaddress
from pathlib import Path

import aiohttp
import pytest

from adapters.inbound.http.allowlist import NOWPAYMENTS_SENDERS, TELEGRAM_SENDERS
from adapters.outbound.crypto.fernet_cipher import generate_key
from adapters.outbound.memory.clock import FrozenClock
from adapters.outbound.memory.ids import SequentialIdGenerator
from adapters.outbound.memory.messenger import InMemoryMessenger
from composition.config import LOOPBACK, Config, ConfigError, load_config
from composition.containers import alert_channels
from composition.processes.web import route_allowlists
from core.ports.alerts import Severity

BASE = {
    "PAYGATE_ENCRYPTION_KEYS": generate_key(),
    "PAYGATE_MAC_KEYS": base64.urlsafe_b64encode(b"m" * 32).decode(),
}
NO_DOTENV = Path("/nonexistent/.env")
SMTP = {
    "PAYGATE_ALERT_SMTP_HOST": "smtp.example.test",
    "PAYGATE_ALERT_SMTP_FROM": "paygate@example.test",
    "PAYGATE_ALERT_SMTP_TO": "a@example.test, b@example.test",
}


def load(**overrides: str) -> Config:
    return load_config({**BASE, **overrides}, dotenv=NO_DOTENV)


def test_metrics_and_jobs_are_this_host_only_in_production_and_open_in_development() -> None:
    assert load(PAYGATE_ENV="production").allowlists.private == LOOPBACK
    assert load().allowlists.private is None
    assert (
        load(PAYGATE_ENV="production", PAYGATE_PRIVATE_ALLOWLIST="any").allowlists.private is None
    )


def test_published_names_the_senders_documented_addresses() -> None:
    edge = load(
        PAYGATE_ALLOWLIST_NOWPAYMENTS="published", PAYGATE_ALLOWLIST_TELEGRAM="PUBLISHED"
    ).allowlists
    assert edge.nowpayments == NOWPAYMENTS_SENDERS
    assert edge.telegram == TELEGRAM_SENDERS
    assert ipaddress.ip_network("149.154.160.0/20") in TELEGRAM_SENDERS


def test_routes_get_the_lists_by_their_names_and_lists_left_off_are_absent() -> None:
    config = load(PAYGATE_ALLOWLIST_TELEGRAM="10.0.0.0/8", PAYGATE_PRIVATE_ALLOWLIST="10.1.0.0/16")
    lists = route_allowlists(config, "nowpayments")
    assert set(lists) == {"telegram", "metrics", "jobs"}
    assert lists["jobs"] == (ipaddress.ip_network("10.1.0.0/16"),)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PAYGATE_ALLOWLIST_NOWPAYMENTS", "everyone"),
        ("PAYGATE_ALLOWLIST_TELEGRAM", ","),
        ("PAYGATE_PRIVATE_ALLOWLIST", "10.0.0.0/33"),
        ("PAYGATE_OPERATOR_IDS", "-5"),
        ("PAYGATE_ALERT_TELEGRAM_MIN_SEVERITY", "loud"),
    ],
)
def test_a_malformed_value_is_refused_naming_its_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load(**{name: value})


def test_email_alerts_are_on_with_a_host_and_take_the_submission_port_by_default() -> None:
    email = load(**SMTP).alerts.email
    assert email is not None
    assert (email.settings.port, email.settings.security.value) == (587, "starttls")
    assert email.settings.recipients == ("a@example.test", "b@example.test")
    assert email.min_severity is Severity.WARNING


def test_a_login_over_an_unencrypted_connection_is_refused() -> None:
    with pytest.raises(ConfigError, match="PAYGATE_ALERT_SMTP_"):
        load(
            **SMTP,
            PAYGATE_ALERT_SMTP_SECURITY="none",
            PAYGATE_ALERT_SMTP_USERNAME="u",
            PAYGATE_ALERT_SMTP_PASSWORD="p",
        )


def test_recipients_without_a_host_are_refused() -> None:
    with pytest.raises(ConfigError, match="PAYGATE_ALERT_SMTP_HOST is not"):
        load(PAYGATE_ALERT_SMTP_TO="a@example.test")


def test_a_webhook_url_without_its_secret_is_refused() -> None:
    with pytest.raises(ConfigError, match="PAYGATE_ALERT_WEBHOOK_SECRET is not set"):
        load(PAYGATE_ALERT_WEBHOOK_URL="https://hooks.example.test/a")


def test_operators_are_read_as_sorted_unique_user_ids() -> None:
    assert load(PAYGATE_OPERATOR_IDS="42, 7,42").operators == (7, 42)


def _channels(config: Config, session: aiohttp.ClientSession) -> dict[str, Severity]:
    routes = alert_channels(
        config, FrozenClock(), SequentialIdGenerator(), InMemoryMessenger(), session
    )
    return {route.channel.name: route.min_severity for route in routes}


async def test_without_an_admin_chat_each_operator_gets_the_telegram_alerts() -> None:
    async with aiohttp.ClientSession() as session:
        channels = _channels(load(PAYGATE_OPERATOR_IDS="7,42"), session)
    assert channels == {
        "log": Severity.INFO,
        "telegram.7": Severity.WARNING,
        "telegram.42": Severity.WARNING,
    }


async def test_an_admin_chat_takes_the_telegram_alerts_and_each_channel_keeps_its_severity() -> (
    None
):
    secret = "whsec_" + base64.b64encode(b"s" * 32).decode()
    config = load(
        **SMTP,
        PAYGATE_ADMIN_CHAT_ID="-100200",
        PAYGATE_OPERATOR_IDS="7",
        PAYGATE_ALERT_TELEGRAM_MIN_SEVERITY="critical",
        PAYGATE_ALERT_SMTP_MIN_SEVERITY="info",
        PAYGATE_ALERT_WEBHOOK_URL="https://hooks.example.test/a",
        PAYGATE_ALERT_WEBHOOK_SECRET=secret,
    )
    async with aiohttp.ClientSession() as session:
        channels = _channels(config, session)
    assert channels == {
        "log": Severity.INFO,
        "telegram": Severity.CRITICAL,
        "email": Severity.INFO,
        "webhook": Severity.WARNING,
    }
