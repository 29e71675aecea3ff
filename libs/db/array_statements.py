"""INSERTs and UPDATEs of many rows whose statement text does not depend on how many rows they
carry.

Each column travels as one array parameter and ``unnest`` turns the arrays back into rows. A
multi-row ``VALUES`` list is a new statement for every row count: SQLAlchemy compiles it anew
and PostgreSQL prepares it anew, which on the hot paths cost more than the insert itself. A
statement executed once per row (``executemany``) is one round trip, but PostgreSQL still binds
and executes it row by row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import String, Table, Text, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY, Insert, insert
from sqlalchemy.sql.dml import Update
from sqlalchemy.types import TypeEngine


def insert_from_arrays(table: Table, columns: Sequence[str]) -> Insert:
    """``INSERT INTO table (columns) SELECT ... FROM unnest(:column, ...)``, rows in the order
    of the arrays; execute it with :func:`as_arrays` of the rows."""
    rows = _unnest(table, columns).table_valued(*columns, with_ordinality="place").render_derived()
    return insert(table).from_select(
        list(columns), select(*(rows.c[name] for name in columns)).order_by(rows.c.place)
    )


def update_from_arrays(table: Table, key: str, columns: Sequence[str], *, key_param: str) -> Update:
    """``UPDATE table SET column = rows.column, ... FROM unnest(:key_param, :column, ...) AS rows
    WHERE table.key = rows.key_param``: each row of the arrays sets ``columns`` of the table row
    whose ``key`` it names. Execute it with :func:`as_arrays` of the rows, the key under
    ``key_param`` (a name apart from the columns'); a key must appear once."""
    names = (key_param, *columns)
    types = {key_param: table.c[key].type, **{name: table.c[name].type for name in columns}}
    rows = (
        func.unnest(*(bindparam(name, type_=ARRAY(_unbounded(types[name]))) for name in names))
        .table_valued(*names)
        .render_derived()
    )
    return (
        update(table)
        .where(table.c[key] == rows.c[key_param])
        .values({name: rows.c[name] for name in columns})
    )


def as_arrays(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> dict[str, list[Any]]:
    """The parameters of :func:`insert_from_arrays` and :func:`update_from_arrays`: one list
    per column."""
    return {name: [row[name] for row in rows] for name in columns}


def _unnest(table: Table, columns: Sequence[str]) -> Any:
    return func.unnest(
        *(bindparam(name, type_=ARRAY(_unbounded(table.c[name].type))) for name in columns)
    )


def _unbounded(column_type: TypeEngine[Any]) -> TypeEngine[Any]:
    # Arrays of plain VARCHAR: a cast to VARCHAR(n) would cut a long value short without a
    # word, where the INSERT into the column refuses it.
    if isinstance(column_type, String) and not isinstance(column_type, Text):
        return String()
    return column_type
