"""The password inside ``PAYGATE_DATABASE_URL`` reaches the engine (SQLAlchemy's
``str(url)`` would have replaced it with ``***``), and stays masked where shown."""

from __future__ import annotations

import base64
from pathlib import Path

from sqlalchemy.engine import make_url

from adapters.outbound.crypto.fernet_cipher import generate_key
from composition.config import load_config


def test_the_database_password_reaches_the_engine_and_check_config_masks_it() -> None:
    config = load_config(
        {
            "PAYGATE_ENCRYPTION_KEYS": generate_key(),
            "PAYGATE_MAC_KEYS": base64.urlsafe_b64encode(b"m" * 32).decode(),
            "PAYGATE_DATABASE_URL": "postgresql://paygate:db%2Fpass-1@db:5432/paygate",
        },
        dotenv=Path("/nonexistent/.env"),
    )
    assert make_url(config.database_url).password == "db/pass-1"
    assert "pass-1" not in config.masked()["database_url"]
