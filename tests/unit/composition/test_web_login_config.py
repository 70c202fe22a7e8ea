"""``PAYGATE_OIDC_*``: Log in with Telegram is off without a client id, takes its id and
secret together, Telegram's issuer by default, https and a public URL in production;
the secret is masked by check-config and the log redactor, and check-config says when
the login cannot work."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from adapters.outbound.crypto.fernet_cipher import generate_key
from composition.config import Config, ConfigError, check_role, load_config
from composition.secret_source import SECRET_VARIABLES

BASE = {
    "PAYGATE_ENCRYPTION_KEYS": generate_key(),
    "PAYGATE_MAC_KEYS": base64.urlsafe_b64encode(b"m" * 32).decode(),
}
NO_DOTENV = Path("/nonexistent/.env")
SECRET = "oidc-secret-" + "q" * 24
PRODUCTION = {
    "PAYGATE_ENV": "production",
    "PAYGATE_DATABASE_URL": "postgresql+asyncpg://paygate:pw@db/paygate",
}


def load(**overrides: str) -> Config:
    return load_config({**BASE, **overrides}, dotenv=NO_DOTENV)


def test_it_is_off_without_a_client_id() -> None:
    config = load()
    assert not config.oidc.enabled
    assert config.oidc.issuer == "https://oauth.telegram.org"


def test_a_client_id_and_secret_turn_it_on() -> None:
    config = load(PAYGATE_OIDC_CLIENT_ID="7123456789", PAYGATE_OIDC_CLIENT_SECRET=SECRET)
    assert config.oidc.enabled and config.oidc.client_id == "7123456789"
    masked = config.masked()
    assert masked["oidc.client_secret"] == "*** (set)"
    assert masked["oidc.issuer"] == "https://oauth.telegram.org"
    assert SECRET not in str(masked)
    assert SECRET in config.secret_values()  # the log redactor masks it


def test_the_secret_is_read_through_the_secret_source() -> None:
    assert "PAYGATE_OIDC_CLIENT_SECRET" in SECRET_VARIABLES


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"PAYGATE_OIDC_CLIENT_ID": "7123456789"}, "PAYGATE_OIDC_CLIENT_SECRET"),
        ({"PAYGATE_OIDC_CLIENT_SECRET": SECRET}, "PAYGATE_OIDC_CLIENT_ID"),
        ({"PAYGATE_OIDC_ISSUER": "oauth.telegram.org"}, "PAYGATE_OIDC_ISSUER"),
    ],
)
def test_a_half_or_malformed_setting_is_refused_by_name(
    settings: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        load(**settings)


def test_production_needs_the_public_url_and_an_https_issuer() -> None:
    login = {"PAYGATE_OIDC_CLIENT_ID": "7123456789", "PAYGATE_OIDC_CLIENT_SECRET": SECRET}
    with pytest.raises(ConfigError, match="PAYGATE_PUBLIC_URL"):
        load(**PRODUCTION, **login)
    with pytest.raises(ConfigError, match="PAYGATE_OIDC_ISSUER must be https"):
        load(
            **PRODUCTION,
            **login,
            PAYGATE_PUBLIC_URL="https://pay.example.com",
            PAYGATE_OIDC_ISSUER="http://oauth.example.com",
        )


def test_check_config_says_where_the_callback_would_go_without_a_public_url() -> None:
    config = load(PAYGATE_OIDC_CLIENT_ID="7123456789", PAYGATE_OIDC_CLIENT_SECRET=SECRET)
    warnings = check_role(config, "web", credentials=False)
    assert any("http://127.0.0.1:8080/dashboard/oidc/callback" in w for w in warnings)
    off = load(
        PAYGATE_OIDC_CLIENT_ID="7123456789",
        PAYGATE_OIDC_CLIENT_SECRET=SECRET,
        PAYGATE_DASHBOARD="off",
    )
    assert any("PAYGATE_DASHBOARD is off" in w for w in check_role(off, "web", credentials=False))
    assert not any("OIDC" in w for w in check_role(load(), "web", credentials=False))
