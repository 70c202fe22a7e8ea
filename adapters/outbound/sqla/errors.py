"""Driver errors in, port errors out: the core never sees a SQLAlchemy exception.

- a uniqueness rule refused a write -> ``Conflict``;
- the database cannot be reached, dropped the connection, timed out (a statement
  or a lock wait past its timeout), is locked, is shutting down, or aborted the
  transaction to break a deadlock, refuses writes (read-only: a replica after a
  failover, a read-only file) or has no room left -> ``Unavailable`` (the caller may
  retry the whole unit of work later).

``Unavailable`` names the statement (the caller's ``action``) and the driver's error
class, and nothing of the statement's parameters (user ids, message texts): its text
is what gets logged. Engines are made with ``hide_parameters`` too, so the chained
driver error does not carry them either.

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
# And single codes of other classes: 55P03 lock_not_available (lock_timeout ran out),
# 25006 read_only_sql_transaction (a read-only database or a hot standby).
_RETRYABLE_SQLSTATES = frozenset({"55P03", "25006"})

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


def _error_class(error: BaseException) -> str:
    """The driver's name for what went wrong: SQLite's result code (SQLITE_READONLY,
    SQLITE_FULL, SQLITE_BUSY), asyncpg's exception class, else the exception's class."""
    if isinstance(error, sa_exc.DBAPIError):
        orig: BaseException = error.orig if error.orig is not None else error
        # asyncpg's own exception sits under SQLAlchemy's adapter of it.
        driver = orig.__cause__ if isinstance(orig.__cause__, Exception) else orig
        name = getattr(driver, "sqlite_errorname", None)
        return name if isinstance(name, str) else type(driver).__name__
    return type(error).__name__


def _unavailable(action: str, error: BaseException) -> Unavailable:
    return Unavailable(f"{action}: the database is unavailable ({_error_class(error)})")


@contextmanager
def translated(action: str) -> Iterator[None]:
    """Run database calls, turning driver errors into the port's errors."""
    try:
        yield
    except sa_exc.IntegrityError as exc:
        raise Conflict(f"{action}: refused by a uniqueness rule") from exc
    except sa_exc.DBAPIError as exc:
        if _is_unavailable(exc):
            raise _unavailable(action, exc) from exc
        raise
    except sa_exc.StatementError as exc:
        # A column type refused a value (a naive datetime, a float amount) before
        # anything reached the database: the caller's bug, reported as such.
        if isinstance(exc.orig, ValueError):
            raise exc.orig from exc
        raise
    except _UNREACHABLE as exc:
        raise _unavailable(action, exc) from exc
