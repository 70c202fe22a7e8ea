"""PAYGATE_DASHBOARD as the configuration reads it and check-config shows it."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from adapters.outbound.crypto.fernet_cipher import generate_key
from composition.config import Config, ConfigError, load_config

BASE = {
    "PAYGATE_ENCRYPTION_KEYS": generate_key(),
    "PAYGATE_MAC_KEYS": base64.urlsafe_b64encode(b"m" * 32).decode(),
}
NO_DOTENV = Path("/nonexistent/.env")


def load(**overrides: str) -> Config:
    return load_config({**BASE, **overrides}, dotenv=NO_DOTENV)


def test_the_dashboard_is_on_unless_switched_off() -> None:
    assert load().dashboard is True
    assert load(PAYGATE_DASHBOARD="off").dashboard is False
    assert load(PAYGATE_DASHBOARD=" ON ").dashboard is True


def test_a_dashboard_switch_other_than_on_or_off_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="PAYGATE_DASHBOARD must be on or off, got 'yes'"):
        load(PAYGATE_DASHBOARD="yes")


def test_check_config_shows_the_dashboard_as_on_or_off() -> None:
    assert load().masked()["dashboard"] == "on"
    assert load(PAYGATE_DASHBOARD="off").masked()["dashboard"] == "off"
