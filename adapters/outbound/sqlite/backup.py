"""A consistent copy of a live SQLite database: SQLite's online backup API.

Copying the file with ``cp`` while a process writes can catch a page half-written
or miss what still sits in the write-ahead log; the backup API reads the database
through SQLite, so the copy is the database as of one commit. It copies in a single
step: on a database in WAL mode (PayGate's) that is one read transaction, which
writers do not wait for, and the copy cannot be restarted forever by a steady stream
of commits as a stepwise copy can.

The copy is written beside the target under a temporary name, checked, flushed to
disk and then renamed, so a file at the target's name is always a whole backup.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

__all__ = ["BackupFailed", "backup_sqlite"]


class BackupFailed(Exception):
    """The backup could not be made; the message says why (nothing is left at the target)."""


def backup_sqlite(source: Path, target: Path, *, busy_timeout: float = 5.0) -> int:
    """Copy the SQLite database ``source`` to the new file ``target``; return its size.

    ``target`` must not exist: a backup never replaces a file. The copy is a plain
    database file (rollback journal, no ``-wal`` beside it), so restoring it is
    copying it back while no process runs. ``busy_timeout`` bounds the wait for a
    lock held by a writer that has not switched the file to WAL yet.
    """
    if not source.is_file():
        raise BackupFailed(f"there is no database file at {source}")
    if target.exists():
        raise BackupFailed(f"{target} exists already; a backup never replaces a file")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        # Read-only: a wrong path is an error, never a new empty database.
        with (
            contextlib.closing(
                sqlite3.connect(
                    f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=busy_timeout
                )
            ) as src,
            contextlib.closing(sqlite3.connect(partial)) as dst,
        ):
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
            (verdict,) = dst.execute("PRAGMA integrity_check").fetchone()
            if verdict != "ok":
                raise BackupFailed(f"the copy of {source} fails the integrity check: {verdict}")
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        partial.rename(target)
    except sqlite3.Error as exc:
        raise BackupFailed(f"SQLite could not back up {source}: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return target.stat().st_size
