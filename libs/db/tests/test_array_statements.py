"""Array INSERTs and UPDATEs against the real PostgreSQL: rows arrive in order, NULLs and all; an
update sets the rows it names and no other; a value too long for its column is refused as by a
plain statement, not cut short."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, DateTime, Float, Integer, MetaData, String, Table, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from opencpms_db.array_statements import as_arrays, insert_from_arrays, update_from_arrays
from opencpms_db.engine import create_engine

pytestmark = pytest.mark.integration

_table = Table(
    "array_insert_test",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(5), nullable=False),
    Column("n", Integer),
)
COLUMNS = ("name", "n")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=2)
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS array_insert_test"))
        await conn.run_sync(_table.create)
    yield engine
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE array_insert_test"))
    await engine.dispose()


async def test_rows_of_any_count_arrive_in_order(engine: AsyncEngine) -> None:
    statement = insert_from_arrays(_table, COLUMNS)
    first = [{"name": "b", "n": 1}, {"name": "a", "n": None}]
    second = [{"name": f"r{i}", "n": i} for i in range(2000)]
    async with engine.begin() as conn:
        for rows in (first, second):
            await conn.execute(statement, as_arrays(rows, COLUMNS))
        stored = (await conn.execute(select(_table.c.name, _table.c.n).order_by(_table.c.id))).all()
    assert [tuple(r) for r in stored] == [(r["name"], r["n"]) for r in first + second]


async def test_a_value_too_long_for_its_column_is_refused(engine: AsyncEngine) -> None:
    rows = [{"name": "much too long", "n": 1}]
    with pytest.raises(DBAPIError, match="too long"):
        async with engine.begin() as conn:
            await conn.execute(insert_from_arrays(_table, COLUMNS), as_arrays(rows, COLUMNS))


async def test_an_update_sets_the_rows_it_names_and_no_other(engine: AsyncEngine) -> None:
    rows = [{"name": f"r{i}", "n": i} for i in range(5)]
    changes = [{"key": 4, "name": "four", "n": None}, {"key": 2, "name": "two", "n": 20}]
    async with engine.begin() as conn:
        await conn.execute(insert_from_arrays(_table, COLUMNS), as_arrays(rows, COLUMNS))
        ids = (await conn.execute(select(_table.c.id).order_by(_table.c.id))).scalars().all()
        for change in changes:
            change["key"] = ids[change["key"]]
        statement = update_from_arrays(_table, "id", COLUMNS, key_param="key")
        await conn.execute(statement, as_arrays(changes, ("key", *COLUMNS)))
        stored = (await conn.execute(select(_table.c.name, _table.c.n).order_by(_table.c.id))).all()
    assert [tuple(r) for r in stored] == [
        ("r0", 0),
        ("r1", 1),
        ("two", 20),
        ("r3", 3),
        ("four", None),
    ]


async def test_an_update_refuses_a_value_too_long_for_its_column(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert_from_arrays(_table, COLUMNS), {"name": ["a"], "n": [1]})
    with pytest.raises(DBAPIError, match="too long"):
        async with engine.begin() as conn:
            await conn.execute(
                update_from_arrays(_table, "id", ["name"], key_param="key"),
                {"key": [1], "name": ["much too long"]},
            )


async def test_an_update_carries_json_floats_timestamps_and_nulls(engine: AsyncEngine) -> None:
    """The types the transactions service's rows change, NULLs among them."""
    table = Table(
        "array_update_types_test",
        MetaData(),
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("info", JSONB),
        Column("power", Float),
        Column("at", DateTime(timezone=True)),
    )
    columns = ("info", "power", "at")
    at = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS array_update_types_test"))
        await conn.run_sync(table.create)
        try:
            await conn.execute(table.insert(), [{"id": 1}, {"id": 2}, {"id": 3}])
            await conn.execute(
                update_from_arrays(table, "id", columns, key_param="key"),
                as_arrays(
                    [
                        {"key": 1, "info": {"status": "Accepted"}, "power": 7.5, "at": at},
                        {"key": 3, "info": None, "power": None, "at": None},
                    ],
                    ("key", *columns),
                ),
            )
            stored = (await conn.execute(select(table).order_by(table.c.id))).all()
        finally:
            await conn.execute(text("DROP TABLE array_update_types_test"))
    assert [tuple(row) for row in stored] == [
        (1, {"status": "Accepted"}, 7.5, at),
        (2, None, None, None),
        (3, None, None, None),
    ]
