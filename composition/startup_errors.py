"""The common mistakes a process meets at start, each as one line naming the setting
and the fix (exit status 2), instead of a traceback.

The database's own refusals are told apart by their SQLSTATE (Postgres) wherever in
the chain of causes the driver left them; what is not recognised here stays an error
with its traceback, for it is not a configuration mistake anyone can name."""

from __future__ import annotations

from collections.abc import Iterator

from adapters.outbound.sqla import safe_url

_POSTGRES_REFUSALS = {
    "28000": "the server refuses this role (does it exist, may it log in from here?)",
    "28P01": "the server refuses the password",
    "3D000": "the database does not exist (create it, then run paygate db upgrade)",
    "42501": "the role lacks a privilege PayGate needs (grant it on the database)",
}


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def explain(exc: BaseException, database_url: str) -> str | None:
    """One line for a start failure that is a configuration mistake; None otherwise."""
    for cause in _causes(exc):
        state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if isinstance(state, str) and state in _POSTGRES_REFUSALS:
            detail = str(cause).strip().splitlines()[0] if str(cause).strip() else state
            return (
                f"PAYGATE_DATABASE_URL ({safe_url(database_url)}): {_POSTGRES_REFUSALS[state]}: "
                f"{detail}"
            )
        if type(cause).__name__ == "OperationalError" and "unable to open database file" in str(
            cause
        ):
            return (
                f"PAYGATE_DATABASE_URL ({safe_url(database_url)}): the SQLite file cannot be "
                "opened: its directory must exist and be writable"
            )
    return None
