"""Access to the PostgreSQL and Redis servers the suite may use.

With ``CI=true`` a test that needs a server fails when the server is missing; on a
laptop without one it is skipped with a message saying how to enable it.
"""

from __future__ import annotations

import os
import socket

import pytest

POSTGRES_URL = os.environ.get(
    "PAYGATE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("PAYGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_server(name: str, host: str, port: int, how: str) -> None:
    """Skip (laptop) or fail (CI) when ``host:port`` does not answer."""
    if _reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}. {how}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: tests that need {name} must run)", pytrace=False)
    pytest.skip(message)


def require_postgres() -> None:
    require_server(
        "PostgreSQL",
        "127.0.0.1",
        5432,
        "Start PostgreSQL on 127.0.0.1:5432 (trust auth) or set PAYGATE_TEST_POSTGRES_URL.",
    )


def require_redis() -> None:
    require_server(
        "Redis",
        "127.0.0.1",
        6379,
        "Start Redis on 127.0.0.1:6379 or set PAYGATE_TEST_REDIS_URL.",
    )
