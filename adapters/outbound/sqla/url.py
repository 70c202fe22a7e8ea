"""Which database PayGate talks to.

Unset, the embedded default: a SQLite file ``paygate.db`` in the current directory.
Otherwise ``PAYGATE_DATABASE_URL`` names it; the plain ``sqlite://`` and
``postgres(ql)://`` spellings people copy from hosting dashboards get the async
driver the adapter needs (aiosqlite, asyncpg).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

ENV_VAR = "PAYGATE_DATABASE_URL"
DEFAULT_URL = "sqlite+aiosqlite:///paygate.db"

_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


class InvalidDatabaseUrl(ValueError):
    """The configured URL is not one PayGate can use; the message names the variable."""


def database_url(environ: Mapping[str, str] | None = None) -> URL:
    """The database URL from ``PAYGATE_DATABASE_URL`` (or the SQLite default)."""
    env = os.environ if environ is None else environ
    raw = env.get(ENV_VAR, "").strip() or DEFAULT_URL
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise InvalidDatabaseUrl(f"{ENV_VAR} is not a database URL") from exc
    driver = _DRIVERS.get(url.drivername)
    if driver is None:
        raise InvalidDatabaseUrl(
            f"{ENV_VAR} must be a sqlite:// or postgresql:// URL, not {url.drivername}://"
        )
    return url.set(drivername=driver)


def safe_url(url: URL | str) -> str:
    """The URL for logs and messages: never the password."""
    return make_url(url).render_as_string(hide_password=True)
