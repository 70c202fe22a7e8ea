"""Alembic, driven from code: the migrations ship inside this package, so
``paygate db upgrade`` works from an installed wheel with no alembic.ini around."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL, make_url

from adapters.outbound.sqla.errors import translated

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
URL_ATTRIBUTE = "paygate.url"


def alembic_config(url: URL | str | None = None) -> Config:
    """Alembic's configuration for the shipped migrations; without ``url`` it can
    only read the scripts (which revisions this release has), not migrate."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        # Passed as an attribute, not an option: ini options interpolate '%', which a
        # URL-encoded password may contain.
        config.attributes[URL_ATTRIBUTE] = make_url(url)
    return config


def upgrade(url: URL | str, revision: str = "head") -> None:
    """Migrate the database forward. Blocking (it runs its own event loop): call it
    from a thread when already inside one. Raises Unavailable."""
    with translated("migrate the database"):
        command.upgrade(alembic_config(url), revision)


def downgrade(url: URL | str, revision: str) -> None:
    """Migrate back to ``revision`` (``base`` drops every PayGate table). Raises
    Unavailable."""
    with translated("migrate the database"):
        command.downgrade(alembic_config(url), revision)
