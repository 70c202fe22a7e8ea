"""Driver errors in, port errors out: the core never sees a SQLAlchemy exception.

- a uniqueness rule refused a write -> ``Conflict``;
- the database cannot be reached, dropped the connection, timed out (a statement
  or a lock wait past its timeout), is locked, is shutting down, or aborted the
  transaction to break a deadlock -> ``Unavailable`` (the caller may retry the whole
  unit of work later).

A value a column type refuses (a naive datetime) raises its ValueError; anything
else (a syntax error, a value too long) is a bug and propagates as is.
asyncpg's own exceptions reach us wrapped by SQLAlchemy's dialect (``DBAPIError``
carrying the server's SQLSTATE), except a refused TCP connection, which is an OSError.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

from core.ports.errors import Conflict, Unavailable

# SQLSTATE classes that say "try again later", not "your statement is wrong":
# 08 connection exception, 40 transaction rollback (deadlock, serialization),
# 53 insufficient resources, 57 operator intervention (shutdown, statement timeout),
# 58 system error.
_RETRYABLE_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})
# And single codes of other classes: 55P03 lock_not_available (lock_timeout ran out).
_RETRYABLE_SQLSTATES = frozenset({"55P03"})

_UNREACHABLE = (OSError, TimeoutError, sa_exc.TimeoutError, sa_exc.DisconnectionError)


def _is_unavailable(error: sa_exc.DBAPIError) -> bool:
    if error.connection_invalidated:
        return True
    if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return True
    code = getattr(error.orig, "sqlstate", None)
    if not isinstance(code, str):
        return False
    return code[:2] in _RETRYABLE_SQLSTATE_CLASSES or code in _RETRYABLE_SQLSTATES


@contextmanager
def translated(action: str) -> Iterator[None]:
    """Run database calls, turning driver errors into the port's errors."""
    try:
        yield
    except sa_exc.IntegrityError as exc:
        raise Conflict(f"{action}: refused by a uniqueness rule") from exc
    except sa_exc.DBAPIError as exc:
        if _is_unavailable(exc):
            raise Unavailable(f"{action}: the database is unavailable") from exc
        raise
    except sa_exc.StatementError as exc:
        # A column type refused a value (a naive datetime, a float amount) before
        # anything reached the database: the caller's bug, reported as such.
        if isinstance(exc.orig, ValueError):
            raise exc.orig from exc
        raise
    except _UNREACHABLE as exc:
        raise Unavailable(f"{action}: the database is unavailable") from exc
