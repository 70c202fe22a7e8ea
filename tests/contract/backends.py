"""Every adapter of the persistence ports, by name, for the contract suites.

Each entry is an async context manager factory yielding a ``UnitOfWorkFactory`` over
a fresh, empty store. The memory backend lives in ``backends_memory``; SQLite and
Postgres in ``backends_sql``.
"""

from __future__ import annotations

from tests.contract.backends_memory import MEMORY_BACKENDS
from tests.contract.backends_sql import SQL_BACKENDS

BACKENDS = {**MEMORY_BACKENDS, **SQL_BACKENDS}
