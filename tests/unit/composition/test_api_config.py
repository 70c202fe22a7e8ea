"""PAYGATE_API and PAYGATE_API_SIGNING_KEYS as the configuration reads them, check-config
shows them (the keys never), and a re-read of the secrets re-keys the running API."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from adapters.inbound.http.api import ApiSigningKeys
from adapters.inbound.http.api.access import key_id
from adapters.outbound.crypto.fernet_cipher import generate_key
from adapters.outbound.memory import FrozenClock
from composition.config import Config, ConfigError, load_config
from composition.processes.secrets_reload import SecretRefresher

MAC = base64.urlsafe_b64encode(b"m" * 32).decode()
BASE = {"PAYGATE_ENCRYPTION_KEYS": generate_key(), "PAYGATE_MAC_KEYS": MAC}
NO_DOTENV = Path("/nonexistent/.env")
NEW, OLD = b"n" * 32, b"o" * 40
NEW_TEXT, OLD_TEXT = (base64.urlsafe_b64encode(k).decode() for k in (NEW, OLD))


def load(**overrides: str) -> Config:
    return load_config({**BASE, **overrides}, dotenv=NO_DOTENV)


def test_the_api_is_off_unless_switched_on() -> None:
    assert load().api is False
    on = load(PAYGATE_API="on", PAYGATE_API_SIGNING_KEYS=f"{NEW_TEXT},{OLD_TEXT}")
    assert on.api is True and on.api_keys == (NEW, OLD)


def test_the_api_needs_its_signing_keys_and_the_dashboard() -> None:
    with pytest.raises(ConfigError, match="PAYGATE_API_SIGNING_KEYS is not set"):
        load(PAYGATE_API="on")
    with pytest.raises(ConfigError, match="needs PAYGATE_DASHBOARD=on"):
        load(PAYGATE_API="on", PAYGATE_API_SIGNING_KEYS=NEW_TEXT, PAYGATE_DASHBOARD="off")
    with pytest.raises(ConfigError, match="PAYGATE_API must be on or off"):
        load(PAYGATE_API="yes")


def test_a_short_or_malformed_signing_key_is_refused_without_echoing_it() -> None:
    short = base64.urlsafe_b64encode(b"s" * 16).decode()
    with pytest.raises(ConfigError, match="key 2 is 16 bytes") as refused:
        load(PAYGATE_API_SIGNING_KEYS=f"{NEW_TEXT},{short}")
    assert short not in str(refused.value)
    with pytest.raises(ConfigError, match="key 1 is not base64"):
        load(PAYGATE_API_SIGNING_KEYS="!!!")


def test_a_signing_key_that_is_also_the_mac_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="PAYGATE_API_SIGNING_KEYS and PAYGATE_MAC_KEYS share"):
        load(PAYGATE_API="on", PAYGATE_API_SIGNING_KEYS=MAC)


def test_check_config_and_the_log_redactor_never_show_the_keys() -> None:
    config = load(PAYGATE_API="on", PAYGATE_API_SIGNING_KEYS=f"{NEW_TEXT},{OLD_TEXT}")
    masked = config.masked()
    assert masked["api"] == "on" and masked["api_signing_keys"] == "*** (set)"
    assert not any(NEW_TEXT in value or OLD_TEXT in value for value in masked.values())
    assert {NEW_TEXT, OLD_TEXT} <= set(config.secret_values())


async def test_a_re_read_of_the_secrets_re_keys_the_running_api() -> None:
    first = load(PAYGATE_API="on", PAYGATE_API_SIGNING_KEYS=OLD_TEXT)
    rotated = load(PAYGATE_API="on", PAYGATE_API_SIGNING_KEYS=f"{NEW_TEXT},{OLD_TEXT}")
    keys = ApiSigningKeys(first.api_keys)
    refresher = SecretRefresher(first, lambda: rotated, FrozenClock(), first.keyring, object())
    refresher.watch_api_keys(keys.rekey)
    assert await refresher.refresh()
    assert keys.signing == (key_id(NEW), NEW)
    assert keys.find(key_id(OLD)) == OLD
