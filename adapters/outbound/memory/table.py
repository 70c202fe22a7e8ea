"""Committed rows of one kind (:class:`Table`) and one unit of work's view of them
(:class:`TableView`): its own uncommitted writes laid over the committed rows.

Why overlays rather than one lock held for a whole unit of work: a global lock
deadlocks as soon as one task opens two units of work (a test inspecting state while
a use case runs, a use case nested in another). Here readers never wait, and units
of work that write different rows never wait either.

Writers lock what they write, as Postgres does: the row, and each unique value the
row claims or gives up, until the unit of work commits or rolls back. A second
writer of the same row or unique value waits for the first, then decides on what it
committed: so the first of two racing inserts of one key wins and the other sees it
(False from an idempotent add, Conflict from a plain one), and a compare-and-set sees
the status its rival committed. Commit re-checks every uniqueness rule anyway and
applies all tables without yielding to the event loop, so it is atomic.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

import attrs

from adapters.outbound.memory.row_locks import RowLocks
from core.ports.errors import Conflict, NotFound

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

UniqueKeys = Callable[[V], Iterable[Hashable]]
"""The values a row holds in one unique index (none for a partial index it is not in)."""


@attrs.define
class _Stored(Generic[V]):
    value: V
    seq: int
    """Insertion order, like an autoincrement column: ties in listings break on it."""


class Table(Generic[K, V]):
    """The committed rows of one kind with their unique indexes."""

    def __init__(
        self,
        name: str,
        primary_key: Callable[[V], K],
        unique: Mapping[str, UniqueKeys[V]] | None = None,
    ) -> None:
        self.name = name
        self.primary_key = primary_key
        self._unique: dict[str, UniqueKeys[V]] = dict(unique or {})
        self.rows: dict[K, _Stored[V]] = {}
        self._indexes: dict[str, dict[Hashable, K]] = {name: {} for name in self._unique}

    @property
    def index_names(self) -> Iterable[str]:
        return self._unique.keys()

    def keys_in(self, index: str, value: V) -> frozenset[Hashable]:
        return frozenset(self._unique[index](value))

    def owner(self, index: str, unique_key: Hashable) -> K | None:
        return self._indexes[index].get(unique_key)

    def put(self, key: K, stored: _Stored[V]) -> None:
        self.reindex(self._indexes, key, self.rows.get(key), stored)
        self.rows[key] = stored

    def remove(self, key: K) -> None:
        stored = self.rows.pop(key, None)
        if stored is None:
            return
        for index, entries in self._indexes.items():
            for old in self.keys_in(index, stored.value):
                if entries.get(old) == key:
                    del entries[old]

    def reindex(
        self,
        indexes: dict[str, dict[Hashable, K]],
        key: K,
        before: _Stored[V] | None,
        after: _Stored[V],
    ) -> None:
        """Move row ``key``'s entries in ``indexes`` (per unique index: value -> key)
        from what ``before`` held to what ``after`` holds. An old value is dropped
        only if it still points at this row: another row written in the same go may
        have taken it over already."""
        for index, entries in indexes.items():
            if before is not None:
                for old in self.keys_in(index, before.value):
                    if entries.get(old) == key:
                        del entries[old]
            for new in self.keys_in(index, after.value):
                entries[new] = key

    def __len__(self) -> int:
        return len(self.rows)


class TableView(Generic[K, V]):
    """One unit of work's view of a table: reads see committed rows and its own
    writes; values going in and out are deep copies, so nobody shares an entity with
    the store."""

    def __init__(
        self,
        table: Table[K, V],
        locks: RowLocks,
        owner: object,
        next_seq: Callable[[], int],
    ) -> None:
        self._table = table
        self._locks = locks
        self._owner = owner
        self._next_seq = next_seq
        self._writes: dict[K, _Stored[V]] = {}
        self._inserted: set[K] = set()
        self._deleted: set[K] = set()
        self._held: set[Hashable] = set()
        # The unique values this unit of work's own writes hold, per index: a lookup
        # must not scan every write (a batch of thousands of rows would be quadratic).
        self._mine: dict[str, dict[Hashable, K]] = {name: {} for name in table.index_names}

    # -- reads ------------------------------------------------------------------

    def _stored(self, key: K) -> _Stored[V] | None:
        if key in self._deleted:
            return None
        mine = self._writes.get(key)
        return mine if mine is not None else self._table.rows.get(key)

    def _scan(self) -> Iterator[_Stored[V]]:
        for key, stored in self._table.rows.items():
            if key not in self._writes and key not in self._deleted:
                yield stored
        yield from self._writes.values()

    def new_seq(self) -> int:
        """A fresh number from the store's sequence (for generated ids)."""
        return self._next_seq()

    def has(self, key: K) -> bool:
        return self._stored(key) is not None

    def get(self, key: K) -> V | None:
        stored = self._stored(key)
        return None if stored is None else copy.deepcopy(stored.value)

    def require(self, key: K, what: str) -> V:
        value = self.get(key)
        if value is None:
            raise NotFound(f"no {what} {key!r}")
        return value

    def select(
        self,
        predicate: Callable[[V], bool],
        *,
        order: Callable[[V], Any] | None = None,
        limit: int | None = None,
    ) -> list[V]:
        """Copies of the matching rows, by ``order`` then insertion order, at most ``limit``."""
        matches = [s for s in self._scan() if predicate(s.value)]
        if order is None:
            matches.sort(key=lambda s: s.seq)
        else:
            matches.sort(key=lambda s: (order(s.value), s.seq))
        if limit is not None:
            matches = matches[: max(limit, 0)]
        return [copy.deepcopy(s.value) for s in matches]

    def max_by(self, rank: Callable[[V], int]) -> V | None:
        """A copy of the visible row with the highest ``rank``."""
        best = max(self._scan(), key=lambda s: rank(s.value), default=None)
        return None if best is None else copy.deepcopy(best.value)

    def newest(self) -> V | None:
        """A copy of the visible row inserted last (for append-only tables, whose
        newest row is their tail: found without a scan)."""
        for key in reversed(self._writes):
            if key in self._inserted:
                return copy.deepcopy(self._writes[key].value)
        if not self._table.rows:
            return None
        stored = self._stored(next(reversed(self._table.rows)))
        return None if stored is None else copy.deepcopy(stored.value)

    def count(self, predicate: Callable[[V], bool]) -> int:
        return sum(1 for s in self._scan() if predicate(s.value))

    def lookup(self, index: str, unique_key: Hashable) -> K | None:
        """The primary key of the visible row holding ``unique_key`` in ``index``."""
        mine = self._mine[index].get(unique_key)
        if mine is not None:
            return mine
        owner = self._table.owner(index, unique_key)
        if owner is not None and owner not in self._writes and owner not in self._deleted:
            return owner
        return None

    # -- locks ------------------------------------------------------------------

    def _row_lock(self, key: K) -> Hashable:
        return (self._table.name, "row", key)

    def _value_locks(self, value: V) -> list[Hashable]:
        return [
            (self._table.name, index, unique_key)
            for index in self._table.index_names
            for unique_key in self._table.keys_in(index, value)
        ]

    async def _acquire(self, lock_keys: Iterable[Hashable]) -> list[Hashable]:
        """Wait for each lock in turn; returns the ones this call newly took."""
        taken: list[Hashable] = []
        for lock_key in lock_keys:
            if await self._locks.acquire(lock_key, self._owner):
                self._held.add(lock_key)
                taken.append(lock_key)
        return taken

    async def lock(self, key: K) -> None:
        """Wait for the row's lock, held until this unit of work ends."""
        await self._acquire([self._row_lock(key)])

    def try_lock(self, key: K) -> bool:
        """Take the row's lock unless another unit of work holds it (SKIP LOCKED)."""
        lock_key = self._row_lock(key)
        if not self._locks.try_acquire(lock_key, self._owner):
            return False
        self._held.add(lock_key)
        return True

    # -- writes -----------------------------------------------------------------

    def _check_unique(self, key: K, value: V) -> None:
        for index in self._table.index_names:
            for unique_key in self._table.keys_in(index, value):
                holder = self.lookup(index, unique_key)
                if holder is not None and holder != key:
                    raise Conflict(f"{self._table.name}: {index} {unique_key!r} is taken")

    def _write_new(self, key: K, value: V) -> None:
        if self._stored(key) is not None:
            raise Conflict(f"{self._table.name}: {key!r} exists")
        self._check_unique(key, value)
        self._write(key, None, _Stored(copy.deepcopy(value), self._next_seq()))
        self._inserted.add(key)

    def _write(self, key: K, before: _Stored[V] | None, after: _Stored[V]) -> None:
        """Lay ``after`` over the row (``before``: this unit of work's previous write
        of it, if any), keeping the index of the unique values held here in step."""
        self._table.reindex(self._mine, key, before, after)
        self._writes[key] = after

    async def insert(self, value: V) -> None:
        """Raises Conflict if the primary key or a unique value is taken."""
        key = self._table.primary_key(value)
        await self._acquire([self._row_lock(key), *self._value_locks(value)])
        self._write_new(key, value)

    async def insert_unless_taken(self, value: V, index: str | None = None) -> bool:
        """Insert, or return False if the row's primary key (``index=None``) or its value
        in ``index`` is taken: the idempotent add. Other clashes raise Conflict."""
        key = self._table.primary_key(value)
        await self._acquire([self._row_lock(key), *self._value_locks(value)])
        if index is None:
            taken = self.has(key)
        else:
            taken = any(
                self.lookup(index, unique_key) is not None
                for unique_key in self._table.keys_in(index, value)
            )
        if taken:
            return False
        self._write_new(key, value)
        return True

    async def _lock_for_update(self, value: V, what: str) -> list[Hashable]:
        key = self._table.primary_key(value)
        current = self._stored(key)
        if current is None:
            raise NotFound(f"no {what} {key!r}")
        return await self._acquire(
            [self._row_lock(key), *self._value_locks(current.value), *self._value_locks(value)]
        )

    async def update(self, value: V, what: str) -> None:
        """Lock the row and the unique values it holds and will hold, then overwrite it.
        Raises NotFound, Conflict."""
        await self._lock_for_update(value, what)
        self.replace(value, what)

    async def compare_and_set(self, value: V, what: str, expected: Callable[[V], bool]) -> bool:
        """Like :meth:`update`, but only if the row, once locked, is still ``expected``;
        otherwise write nothing, give back the locks just taken and return False."""
        taken = await self._lock_for_update(value, what)
        stored = self._stored(self._table.primary_key(value))
        if stored is None or not expected(stored.value):
            for lock_key in taken:
                self._locks.release(lock_key, self._owner)
                self._held.discard(lock_key)
            return False
        self.replace(value, what)
        return True

    def replace(self, value: V, what: str) -> None:
        """Overwrite an existing row whose lock the caller holds. Raises NotFound, Conflict."""
        key = self._table.primary_key(value)
        current = self._stored(key)
        if current is None:
            raise NotFound(f"no {what} {key!r}")
        self._check_unique(key, value)
        self._write(key, self._writes.get(key), _Stored(copy.deepcopy(value), current.seq))

    async def delete(self, key: K) -> bool:
        """Lock the row and remove it; False when there is none."""
        current = self._stored(key)
        if current is None:
            return False
        await self._acquire([self._row_lock(key), *self._value_locks(current.value)])
        current = self._stored(key)
        if current is None:
            return False
        mine = self._writes.pop(key, None)
        if mine is not None:
            for index, entries in self._mine.items():
                for old in self._table.keys_in(index, mine.value):
                    if entries.get(old) == key:
                        del entries[old]
        self._inserted.discard(key)
        if key in self._table.rows:
            self._deleted.add(key)
        return True

    @contextmanager
    def statement(self) -> Iterator[None]:
        """Make the writes of the block one statement: if it raises, none of them stay
        and the locks it newly took are given back, as when one SQL statement for a
        whole batch fails. The set-at-a-time methods run their per-item steps in it."""
        writes, inserted, held = dict(self._writes), set(self._inserted), set(self._held)
        deleted = set(self._deleted)
        mine = {index: dict(entries) for index, entries in self._mine.items()}
        try:
            yield
        except BaseException:
            self._writes.clear()
            self._writes.update(writes)
            self._mine = mine
            self._inserted.clear()
            self._inserted.update(inserted)
            self._deleted.clear()
            self._deleted.update(deleted)
            for lock_key in self._held - held:
                self._locks.release(lock_key, self._owner)
            self._held.intersection_update(held)
            raise

    # -- transaction end ----------------------------------------------------------

    def validate(self) -> None:
        """Raises Conflict if a write clashes with what others committed meanwhile."""
        table = self._table
        for key, stored in self._writes.items():
            if key in self._inserted and key in table.rows:
                raise Conflict(f"{table.name}: {key!r} was added by someone else")
            for index in table.index_names:
                for unique_key in table.keys_in(index, stored.value):
                    holder = table.owner(index, unique_key)
                    if holder is None or holder == key:
                        continue
                    moving = self._writes.get(holder)
                    if moving is not None and unique_key not in table.keys_in(index, moving.value):
                        continue
                    raise Conflict(f"{table.name}: {index} {unique_key!r} was taken meanwhile")

    def apply(self) -> None:
        for key in self._deleted:
            self._table.remove(key)
        for key, stored in self._writes.items():
            self._table.put(key, stored)

    def reset(self) -> None:
        """Forget the writes and give back every lock (after commit or rollback)."""
        self._writes.clear()
        self._inserted.clear()
        self._deleted.clear()
        for entries in self._mine.values():
            entries.clear()
        for lock_key in self._held:
            self._locks.release(lock_key, self._owner)
        self._held.clear()
