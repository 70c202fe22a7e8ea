"""``PAYGATE_DB_STATEMENT_TIMEOUT_SECONDS`` and ``PAYGATE_DB_CONNECT_TIMEOUT_SECONDS``:
a hung database fails a payment notification (503, resent by the provider) within
NowPayments' 3 s, not after the driver's own minutes."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from adapters.outbound.crypto.fernet_cipher import generate_key
from adapters.outbound.sqla import DatabaseTimeouts
from composition.config import ConfigError, load_config

BASE = {
    "PAYGATE_ENCRYPTION_KEYS": generate_key(),
    "PAYGATE_MAC_KEYS": base64.urlsafe_b64encode(b"m" * 32).decode(),
}
NO_DOTENV = Path("/nonexistent/.env")


def test_by_default_a_statement_and_a_connection_each_get_a_second() -> None:
    config = load_config(BASE, dotenv=NO_DOTENV)
    assert config.db_timeouts == DatabaseTimeouts(statement=1.0, connect=1.0)


def test_the_timeouts_follow_their_variables() -> None:
    config = load_config(
        BASE
        | {
            "PAYGATE_DB_STATEMENT_TIMEOUT_SECONDS": "0.5",
            "PAYGATE_DB_CONNECT_TIMEOUT_SECONDS": "2",
        },
        dotenv=NO_DOTENV,
    )
    assert config.db_timeouts == DatabaseTimeouts(statement=0.5, connect=2.0)
    assert config.masked()["db_statement_timeout_seconds"] == "0.5"


@pytest.mark.parametrize(
    "name", ["PAYGATE_DB_STATEMENT_TIMEOUT_SECONDS", "PAYGATE_DB_CONNECT_TIMEOUT_SECONDS"]
)
@pytest.mark.parametrize("value", ["0", "-1", "0.01", "601", "nan", "inf", "soon"])
def test_a_timeout_out_of_range_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=rf"^{name} must be seconds in 0.05..600"):
        load_config(BASE | {name: value}, dotenv=NO_DOTENV)
