"""``paygate db backup``: copy the SQLite database while PayGate runs.

Postgres has its own tools for this (``pg_dump``, or the server's continuous
archiving); the command says so rather than doing half of their job.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from adapters.outbound.sqla import database_url, safe_url
from adapters.outbound.sqla.url import ENV_VAR
from adapters.outbound.sqlite.backup import BackupFailed, backup_sqlite

__all__ = ["add_backup_action"]


def _db_backup(args: argparse.Namespace) -> int:
    url = database_url()
    if url.get_backend_name() != "sqlite":
        sys.stderr.write(
            f"paygate: {safe_url(url)} is not SQLite; back up Postgres with pg_dump "
            "(see docs/DEPLOY.md)\n"
        )
        return 2
    if url.database in (None, "", ":memory:"):
        sys.stderr.write(f"paygate: {ENV_VAR} names no database file to back up\n")
        return 2
    source = Path(url.database)
    target: Path = args.target
    try:
        size = backup_sqlite(source, target)
    except BackupFailed as exc:
        sys.stderr.write(f"paygate: {exc}\n")
        return 1
    sys.stdout.write(f"Backed up {source} to {target} ({size} bytes).\n")
    return 0


def add_backup_action(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``backup`` to the actions of ``paygate db``."""
    backup = actions.add_parser(
        "backup",
        help="copy the SQLite database to a new file while PayGate runs",
        description=(
            "Write a consistent copy of the SQLite database to TARGET with SQLite's "
            "online backup API; processes may keep running. TARGET must not exist. "
            "To restore: stop every process, copy the backup over the database file "
            "(and delete its -wal and -shm files), start again. On Postgres use pg_dump."
        ),
    )
    backup.add_argument("target", type=Path, help="the backup file to create")
    backup.set_defaults(run=_db_backup)
