"""Re-encrypting the stored encrypted values under the newest Fernet key, in pages.

The encrypted columns are listed in :data:`ENCRYPTED_COLUMNS` (today the channels'
payout wallet). A page is read in primary-key order after the last key seen,
re-encrypted in a thread (it is CPU work), and written in one transaction, each row
only if it still holds the token that was read (a value the application changed
meanwhile is under the newest key already). A value that decrypts under the newest
key is skipped, so a run after a kill, or a second run, redoes nothing: resumable
and idempotent without any bookkeeping of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import attrs
from sqlalchemy import Column, Table, and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.outbound.crypto.fernet_cipher import FernetCipher
from adapters.outbound.sqla.tables import channels
from core.ports.security import DecryptionFailed

ENCRYPTED_COLUMNS: tuple[tuple[Table, str], ...] = ((channels, "payout_wallet"),)


@attrs.define
class RotationTally:
    rotated: int = 0
    """Re-encrypted under the newest key by this run."""
    current: int = 0
    """Already under the newest key (a finished earlier run, or written since)."""
    unreadable: int = 0
    """Under no configured key: left as they are, and named in the summary."""
    changed: int = 0
    """Rewritten by the application between read and write: left to it."""

    @property
    def seen(self) -> int:
        return self.rotated + self.current + self.unreadable + self.changed


@attrs.frozen
class _Row:
    key: object
    token: bytes


class SqlKeyRotation:
    """Pages through one encrypted column and rotates what needs it."""

    def __init__(self, engine: AsyncEngine, cipher: FernetCipher, table: Table, column: str):
        self._engine = engine
        self._cipher = cipher
        self._table = table
        self._column: Column[bytes] = table.c[column]
        self._key: Column[object] = next(iter(table.primary_key.columns))
        self.name = f"{table.name}.{column}"

    async def count(self) -> int:
        """Values stored in the column (the progress bar's total)."""
        async with self._engine.connect() as connection:
            query = select(func.count()).where(self._column.is_not(None))
            return int((await connection.execute(query)).scalar_one())

    async def rotate_page(self, after: object | None, size: int, tally: RotationTally) -> object:
        """Rotate the ``size`` values after key ``after`` (None: from the start);
        the last key read, or None when there are no more."""
        query = select(self._key, self._column).where(self._column.is_not(None))
        if after is not None:
            query = query.where(self._key > after)
        query = query.order_by(self._key).limit(size)
        async with self._engine.connect() as connection:
            rows = [_Row(r[0], bytes(r[1])) for r in await connection.execute(query)]
        if not rows:
            return None
        rewrites = await asyncio.to_thread(self._rotated, rows, tally)
        if rewrites:
            statement = (
                update(self._table)
                .where(
                    and_(
                        self._key == bindparam("row_key"),
                        self._column == bindparam("old_token"),
                    )
                )
                .values({self._column.name: bindparam("new_token")})
            )
            async with self._engine.begin() as connection:
                result = await connection.execute(statement, rewrites)
            written = result.rowcount if result.rowcount >= 0 else len(rewrites)
            tally.rotated += written
            tally.changed += len(rewrites) - written
        return rows[-1].key

    def _rotated(self, rows: Sequence[_Row], tally: RotationTally) -> list[dict[str, object]]:
        rewrites: list[dict[str, object]] = []
        for row in rows:
            if self._cipher.is_current(row.token):
                tally.current += 1
                continue
            try:
                new = self._cipher.rotate(row.token)
            except DecryptionFailed:
                tally.unreadable += 1
                continue
            rewrites.append({"row_key": row.key, "old_token": row.token, "new_token": new})
        return rewrites


def rotations(engine: AsyncEngine, cipher: FernetCipher) -> list[SqlKeyRotation]:
    """One rotation per encrypted column."""
    return [SqlKeyRotation(engine, cipher, table, column) for table, column in ENCRYPTED_COLUMNS]
