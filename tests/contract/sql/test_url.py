"""Which database PayGate uses: ``PAYGATE_DATABASE_URL``, or a SQLite file here."""

from __future__ import annotations

import pytest

from adapters.outbound.sqla import InvalidDatabaseUrl, database_url, safe_url


def test_unset_means_a_paygate_db_file_in_the_current_directory() -> None:
    assert str(database_url({})) == "sqlite+aiosqlite:///paygate.db"


def test_blank_counts_as_unset() -> None:
    assert str(database_url({"PAYGATE_DATABASE_URL": "  "})) == "sqlite+aiosqlite:///paygate.db"


@pytest.mark.parametrize(
    ("configured", "used"),
    [
        ("sqlite:////var/lib/paygate/pay.db", "sqlite+aiosqlite:////var/lib/paygate/pay.db"),
        ("sqlite+aiosqlite:///pay.db", "sqlite+aiosqlite:///pay.db"),
        ("postgres://pg@db.internal/paygate", "postgresql+asyncpg://pg@db.internal/paygate"),
        ("postgresql://pg@db.internal:6432/pay", "postgresql+asyncpg://pg@db.internal:6432/pay"),
        ("postgresql+asyncpg://pg@db/pay", "postgresql+asyncpg://pg@db/pay"),
    ],
)
def test_plain_urls_get_the_async_driver(configured: str, used: str) -> None:
    assert str(database_url({"PAYGATE_DATABASE_URL": configured})) == used


@pytest.mark.parametrize("configured", ["mysql://root@db/pay", "postgresql+psycopg2://pg@db/pay"])
def test_other_databases_and_drivers_are_refused_naming_the_variable(configured: str) -> None:
    with pytest.raises(InvalidDatabaseUrl, match="PAYGATE_DATABASE_URL must be"):
        database_url({"PAYGATE_DATABASE_URL": configured})


def test_something_that_is_not_a_url_is_refused_naming_the_variable() -> None:
    with pytest.raises(InvalidDatabaseUrl, match="PAYGATE_DATABASE_URL is not a database URL"):
        database_url({"PAYGATE_DATABASE_URL": "paygate.db"})


def test_a_password_in_the_url_never_reaches_the_logs() -> None:
    url = database_url({"PAYGATE_DATABASE_URL": "postgresql://pay:hunter2@db/pay"})

    assert url.password == "hunter2"
    assert safe_url(url) == "postgresql+asyncpg://pay:***@db/pay"
