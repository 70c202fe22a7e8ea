"""``Config.secret_values``: what the log redactor is given to mask at start-up."""

from __future__ import annotations

import base64
from pathlib import Path

from adapters.outbound.crypto.fernet_cipher import generate_key
from composition.config import load_config

NEW_MAC = base64.urlsafe_b64encode(b"n" * 32).decode()
OLD_MAC = base64.urlsafe_b64encode(b"o" * 32).decode()
FERNET = generate_key()


def test_every_configured_secret_and_each_entry_of_a_list_of_them_is_given_to_the_redactor() -> (
    None
):
    config = load_config(
        {
            "PAYGATE_ENCRYPTION_KEYS": FERNET,
            "PAYGATE_MAC_KEYS": f"{NEW_MAC},{OLD_MAC}",
            "PAYGATE_JOB_KEYS": "cron:" + "j" * 32,
            "PAYGATE_TELEGRAM_BOT_TOKEN": "123456:" + "T" * 35,
            "PAYGATE_TELEGRAM_WEBHOOK_SECRET": "w" * 32,
            "PAYGATE_NOWPAYMENTS_API_KEY": "np-api-key-1",
            "PAYGATE_NOWPAYMENTS_IPN_SECRET": "np-ipn-secret-1",
            "PAYGATE_DATABASE_URL": "postgresql://paygate:db%2Fpass-1@db:5432/paygate",
            "PAYGATE_REDIS_URL": "redis://:redis-pass-1@cache:6379/0",
        },
        dotenv=Path("/nonexistent/.env"),
    )
    values = set(config.secret_values())
    assert {
        FERNET,
        NEW_MAC,
        OLD_MAC,
        "j" * 32,
        "123456:" + "T" * 35,
        "w" * 32,
        "np-api-key-1",
        "np-ipn-secret-1",
        "db/pass-1",
        "redis-pass-1",
    } <= values
    assert "" not in values
