"""``python -m tests.reliability.full_disk_process ROLE``: ``paygate ROLE`` on a SQLite
file whose disk can be made full, for the full-disk outage of the reliability battery.

How the disk fills: while the file named by ``PAYGATE_TEST_DISK_FULL_FLAG`` exists,
every connection the process takes from its pool first runs ``PRAGMA max_page_count =
1``, which SQLite clamps to the database's current size: the file may not grow by a
page, and a write that needs one fails with ``SQLITE_FULL`` ("database or disk is
full"), the very error a full disk gives (SQLite returns it when a write comes back
short with ENOSPC). Once the flag is gone the limit is lifted again. Pages already in
the file (its free list, the WAL's frames) are still written, as on a real full disk.

Why not a real full disk: a small tmpfs or loop device needs root (and CI runs
without it), and ``RLIMIT_FSIZE`` limits every file of the process (its log too) and
gives EFBIG, which SQLite reports as an I/O error, not as a full disk.
Production composition knows nothing of this: it is a property of this test root.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.pool import Pool

from composition.processes.run import ROLES, run_role

FLAG_VARIABLE = "PAYGATE_TEST_DISK_FULL_FLAG"
UNLIMITED_PAGES = 1_073_741_823
"""SQLite's default maximum page count."""


def install_full_disk(flag: Path) -> None:
    """Every pool of this process limits SQLite's pages while ``flag`` exists."""

    def on_checkout(dbapi_connection: Any, _record: object, _proxy: object) -> None:
        pages = 1 if flag.exists() else UNLIMITED_PAGES
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA max_page_count = {pages}")
        finally:
            cursor.close()

    event.listen(Pool, "checkout", on_checkout)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.full_disk_process")
    parser.add_argument("role", choices=sorted(ROLES))
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--json-logs", action="store_true")
    args = parser.parse_args(argv)
    install_full_disk(Path(os.environ[FLAG_VARIABLE]))
    return run_role(args.role, log_level=args.log_level, json_logs=args.json_logs)


if __name__ == "__main__":
    sys.exit(main())
