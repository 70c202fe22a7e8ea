"""The Telegram webhook secret: what Telegram allows in ``secret_token`` and at least
32 characters, or the process does not start; ``paygate keys new-webhook-secret``
makes one."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from adapters.outbound.crypto.fernet_cipher import generate_key
from composition.cli import main
from composition.config import ConfigError, load_config

BASE = {
    "PAYGATE_ENCRYPTION_KEYS": generate_key(),
    "PAYGATE_MAC_KEYS": base64.urlsafe_b64encode(b"m" * 32).decode(),
}
NO_DOTENV = Path("/nonexistent/.env")
VARIABLES = ["PAYGATE_TELEGRAM_WEBHOOK_SECRET", "PAYGATE_TELEGRAM_WEBHOOK_SECRET_PREVIOUS"]


@pytest.mark.parametrize("name", VARIABLES)
@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("x", "is 1 characters long"),
        ("s3cret-" + "a" * 24, "is 31 characters long"),
        ("a" * 257, "is 257 characters long"),
        ("a" * 31 + "!", "has characters Telegram does not allow"),
        ("a" * 20 + " " + "b" * 20, "has characters Telegram does not allow"),
    ],
)
def test_a_weak_or_malformed_webhook_secret_stops_start_up_naming_its_variable(
    name: str, value: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config(BASE | {name: value}, dotenv=NO_DOTENV)
    assert str(refused.value).startswith(f"{name} {problem}: it must be 32-256 characters")
    assert "paygate keys new-webhook-secret" in str(refused.value)
    assert value not in str(refused.value)


@pytest.mark.parametrize("value", ["A" * 32, "a-b_c" * 51 + "z"])
def test_a_webhook_secret_of_32_to_256_allowed_characters_is_taken(value: str) -> None:
    config = load_config(BASE | {VARIABLES[0]: value}, dotenv=NO_DOTENV)
    assert config.telegram.webhook_secret is not None
    assert config.telegram.webhook_secret.reveal() == value


def test_paygate_keys_new_webhook_secret_prints_a_fresh_secret_the_configuration_takes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    made = []
    for _ in range(2):
        assert main(["keys", "new-webhook-secret"]) == 0
        made.append(capsys.readouterr().out.strip())
    first, second = made
    assert first != second
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", first)
    config = load_config(BASE | {VARIABLES[0]: first}, dotenv=NO_DOTENV)
    assert config.telegram.webhook_secret is not None
