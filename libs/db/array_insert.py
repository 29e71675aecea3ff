"""INSERTs of many rows whose statement text does not depend on how many rows they carry.

Each column travels as one array parameter and ``unnest`` turns the arrays back into rows. A
multi-row ``VALUES`` list is a new statement for every row count: SQLAlchemy compiles it anew
and PostgreSQL prepares it anew, which on the hot paths cost more than the insert itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import String, Table, Text, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, Insert, insert
from sqlalchemy.types import TypeEngine


def insert_from_arrays(table: Table, columns: Sequence[str]) -> Insert:
    """``INSERT INTO table (columns) SELECT ... FROM unnest(:column, ...)``, rows in the order
    of the arrays; execute it with :func:`as_arrays` of the rows."""
    rows = _unnest(table, columns).table_valued(*columns, with_ordinality="place").render_derived()
    return insert(table).from_select(
        list(columns), select(*(rows.c[name] for name in columns)).order_by(rows.c.place)
    )


def as_arrays(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> dict[str, list[Any]]:
    """The parameters of :func:`insert_from_arrays`: one list per column."""
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
