"""Which driver errors the SQL adapters turn into the port's ``Unavailable`` (the
caller retries later; a payment notification is answered 503 and resent)."""

from __future__ import annotations

import pytest
from sqlalchemy import exc as sa_exc

from adapters.outbound.sqla.errors import translated
from core.ports.errors import Unavailable


class _ServerError(Exception):
    """What asyncpg raises: an error carrying the server's SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"server refused with {sqlstate}")
        self.sqlstate = sqlstate


def _failed_statement(sqlstate: str) -> sa_exc.DBAPIError:
    return sa_exc.DBAPIError(
        "INSERT INTO t VALUES ($1)", {"text": "a subscriber's message"}, _ServerError(sqlstate)
    )


@pytest.mark.parametrize(
    "sqlstate",
    [
        "57014",  # query_canceled: statement_timeout
        "55P03",  # lock_not_available: lock_timeout
        "25006",  # read_only_sql_transaction: a read-only database, a hot standby
        "53100",  # disk_full
    ],
)
def test_a_statement_past_its_timeout_or_refused_for_want_of_writes_is_unavailable(
    sqlstate: str,
) -> None:
    expected = pytest.raises(Unavailable, match="insert a row: the database is unavailable")
    with expected, translated("insert a row"):
        raise _failed_statement(sqlstate)


def test_a_statement_the_server_finds_wrong_still_propagates_as_a_bug() -> None:
    with pytest.raises(sa_exc.DBAPIError), translated("insert a row"):
        raise _failed_statement("42601")  # syntax_error


def test_unavailable_names_the_statement_and_the_error_class_and_no_parameter() -> None:
    with pytest.raises(Unavailable) as refused, translated("record payment events"):
        raise _failed_statement("25006")
    assert str(refused.value) == "record payment events: the database is unavailable (_ServerError)"
    assert "a subscriber's message" not in str(refused.value)
