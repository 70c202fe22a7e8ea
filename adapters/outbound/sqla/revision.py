"""Whether the database's schema is the one this release was written for.

A process run against a schema it was not written for fails later and far from the
cause: a missing table on the first payment, or (across revision 0003) an old
process chaining the audit log past a head it does not move. So every process reads
the database's Alembic revision at start and refuses to run unless it is exactly the
newest revision shipped in ``migrations/``: behind means someone skipped
``paygate db upgrade``; a revision this release does not know means a newer release
migrated the database, and only that release knows how to go back.
"""

from __future__ import annotations

import functools

import attrs
from alembic.script import ScriptDirectory
from sqlalchemy import Column, MetaData, String, Table, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.outbound.sqla.errors import translated
from adapters.outbound.sqla.migrate import alembic_config
from core.ports.errors import PortError

__all__ = [
    "SchemaMismatch",
    "ShippedRevisions",
    "check_schema_revision",
    "database_revisions",
    "shipped_revisions",
]

# Alembic's own bookkeeping table, declared here only to read it.
_alembic_version = Table(
    "alembic_version", MetaData(), Column("version_num", String(32), primary_key=True)
)


class SchemaMismatch(PortError):
    """The database's schema revision is not the one this release needs; the message
    says what the operator has to do. Retrying does not help: someone must migrate."""

    def __init__(self, message: str, current: tuple[str, ...], needed: tuple[str, ...]) -> None:
        super().__init__(message)
        self.current = current
        self.needed = needed


@attrs.frozen
class ShippedRevisions:
    """The migrations this release ships: the revision(s) it needs (the heads) and
    every revision it knows."""

    heads: frozenset[str]
    known: frozenset[str]

    def mismatch(self, current: tuple[str, ...]) -> SchemaMismatch | None:
        """What is wrong with a database at ``current`` (its alembic_version rows), or
        None when it is at exactly the revision(s) this release needs."""
        if set(current) == self.heads:
            return None
        needed = tuple(sorted(self.heads))
        unknown = sorted(set(current) - self.known)
        if unknown:
            return SchemaMismatch(
                f"the database schema is at revision {', '.join(unknown)}, which this release "
                "does not know (it is newer): run the release that migrated it, or migrate "
                "it down with that release",
                current,
                needed,
            )
        if not current:
            return SchemaMismatch(
                "the database is empty (no PayGate schema): run `paygate db upgrade`",
                current,
                needed,
            )
        return SchemaMismatch(
            f"the database schema is at revision {', '.join(sorted(current))} but this "
            f"release needs {', '.join(needed)}: stop every PayGate process and run "
            "`paygate db upgrade`",
            current,
            needed,
        )


@functools.cache
def shipped_revisions() -> ShippedRevisions:
    """The migrations in ``migrations/versions``."""
    # Read once per process: the scripts cannot change under a running release, and
    # /readyz asks again and again.
    scripts = ScriptDirectory.from_config(alembic_config())
    return ShippedRevisions(
        heads=frozenset(scripts.get_heads()),
        known=frozenset(script.revision for script in scripts.walk_revisions()),
    )


def _read_revisions(connection: Connection) -> tuple[str, ...]:
    if not inspect(connection).has_table(_alembic_version.name):
        return ()
    rows = connection.execute(select(_alembic_version.c.version_num)).scalars()
    return tuple(sorted(rows))


async def database_revisions(engine: AsyncEngine) -> tuple[str, ...]:
    """The revision(s) Alembic recorded in the database; none for a database that was
    never migrated (or was migrated down to base). Raises Unavailable."""
    with translated("read the schema revision"):
        async with engine.connect() as connection:
            return await connection.run_sync(_read_revisions)


async def check_schema_revision(engine: AsyncEngine) -> None:
    """A process runs only against a database at exactly the newest revision this
    release ships. Raises SchemaMismatch (saying what to do) or Unavailable."""
    problem = shipped_revisions().mismatch(await database_revisions(engine))
    if problem is not None:
        raise problem
