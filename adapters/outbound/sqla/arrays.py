"""Many rows in one statement of one text on Postgres: each column sent as one typed
array and unnested, so a batch of any size is the same prepared statement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    TableValuedAlias,
    any_,
    bindparam,
    column,
    func,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeEngine


def arrays(
    alias: str, types: Mapping[str, TypeEngine[Any]], prefix: str = "v_"
) -> TableValuedAlias:
    """``unnest(:v_a, :v_b, ...) AS alias(a, b, ...)``: rows sent as one array per
    column (see :func:`columns`), for Postgres; ``types`` are the columns' types.

    A batch of any size is then one statement of one text, which asyncpg prepares
    once per connection (an ``IN`` list or a multi-row ``VALUES`` would be a new
    statement per batch size). The arrays' elements go through the columns' own
    types, so the UTC and exact-decimal rules of ``columns.py`` hold for them too."""
    binds = [
        bindparam(f"{prefix}{name}", type_=postgresql.ARRAY(type_)) for name, type_ in types.items()
    ]
    typed = [column(name, type_) for name, type_ in types.items()]
    return func.unnest(*binds).table_valued(*typed).render_derived(name=alias)


def types_of(table: Table, names: Sequence[str]) -> dict[str, TypeEngine[Any]]:
    """The types of ``table``'s columns ``names``, for :func:`arrays`."""
    return {name: table.c[name].type for name in names}


def columns(
    rows: Sequence[Mapping[str, Any]], names: Sequence[str], prefix: str = "v_"
) -> dict[str, list[Any]]:
    """The parameters of :func:`arrays`: one list per column, rows in order."""
    return {f"{prefix}{name}": [row[name] for row in rows] for name in names}


def any_of(table: Table, name: str, param: str) -> ColumnElement[bool]:
    """``table.name = ANY(:param)``: membership in one array parameter (Postgres), one
    statement text whatever the number of values."""
    array = bindparam(param, type_=postgresql.ARRAY(table.c[name].type))
    return table.c[name] == any_(array)
