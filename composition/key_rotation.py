"""``paygate keys rotate``: every encrypted value re-encrypted under the newest key of
``PAYGATE_ENCRYPTION_KEYS``, in pages, with a progress bar and a summary.

Safe to kill and run again (it skips what is done) and to run while the service
runs (a row changed meanwhile is left to the service). Once it reports nothing left
under an old key, the old keys can be removed from ``PAYGATE_ENCRYPTION_KEYS``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from adapters.outbound.crypto.fernet_cipher import FernetCipher
from adapters.outbound.sqla import create_engine
from adapters.outbound.sqla.key_rotation import RotationTally, rotations
from composition.config import ConfigError, load_config

DEFAULT_PAGE = 1000


async def _rotate(database_url: str, cipher: FernetCipher, page: int) -> RotationTally:
    engine = create_engine(database_url)
    tally = RotationTally()
    try:
        columns = rotations(engine, cipher)
        totals = [await column.count() for column in columns]
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=None,
            transient=False,
        ) as progress:
            for column, total in zip(columns, totals, strict=True):
                task = progress.add_task(f"re-encrypting {column.name}", total=total)
                after: object | None = None
                while True:
                    before = tally.seen
                    after = await column.rotate_page(after, page, tally)
                    progress.advance(task, tally.seen - before)
                    if after is None:
                        break
    finally:
        await engine.dispose()
    return tally


def run_rotate(args: argparse.Namespace) -> int:
    try:
        config = load_config()
    except ConfigError as exc:
        sys.stderr.write(f"paygate: configuration error: {exc}\n")
        return 2
    cipher = FernetCipher.from_env_value(config.encryption_keys.reveal())
    tally = asyncio.run(_rotate(config.database_url, cipher, args.page_size))
    sys.stdout.write(
        f"Rotated {tally.rotated}, already under the newest key {tally.current}, "
        f"changed meanwhile {tally.changed}, unreadable {tally.unreadable}.\n"
    )
    if tally.unreadable:
        sys.stderr.write(
            f"paygate: {tally.unreadable} values are under no key of PAYGATE_ENCRYPTION_KEYS; "
            "keep the key that wrote them and run again\n"
        )
        return 1
    return 0


def configure_rotate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--page-size",
        type=int,
        default=DEFAULT_PAGE,
        help=f"values re-encrypted per transaction (default: {DEFAULT_PAGE})",
    )
    parser.set_defaults(run=run_rotate)
