"""Statements on the driver and their unit of work, against the real PostgreSQL: what commits
is there with its outbox rows, what does not is gone, and every connection goes back to the
pool outside a transaction, including after a failed statement or a dead connection."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, bindparam, insert, select
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import AsyncEngine

from opencpms_contracts.base import Event
from opencpms_db.driver import DriverStatement, driver_reads
from opencpms_db.engine import create_engine
from opencpms_db.outbox import outbox_table
from opencpms_db.provision import plain_url
from opencpms_db.unit_of_work import DriverUnitOfWork

pytestmark = pytest.mark.integration

SCHEMA = f"driver_test_{uuid.uuid4().hex[:8]}"
metadata = MetaData(schema=SCHEMA)
notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(5), nullable=False),
    Column("extra", JSON),
    Column("kind", String(8), nullable=False, default="plain"),
)
outbox = outbox_table(metadata)

INSERT = DriverStatement(insert(notes).returning(notes.c.id))
BY_NAME = DriverStatement(select(notes).where(notes.c.name == bindparam("name")))


class NoteAdded(Event):
    event_type = "note.added"
    name: str


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=1)
    async with engine.begin() as conn:
        await conn.execute(sql_text(f"CREATE SCHEMA {SCHEMA}"))
        await conn.run_sync(metadata.create_all)
    yield engine
    async with engine.begin() as conn:
        await conn.execute(sql_text(f"DROP SCHEMA {SCHEMA} CASCADE"))
    await engine.dispose()


async def names(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(notes.c.name).order_by(notes.c.id))).scalars())


async def outbox_types(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(outbox.c.event_type))).scalars())


async def test_a_committed_unit_writes_its_rows_and_its_events(engine: AsyncEngine) -> None:
    async with DriverUnitOfWork(engine, outbox) as work:
        # The columns follow the parameters: with and without ``extra``, one compiled form each.
        await INSERT.fetchval(work.connection, name="a", extra={"k": [1, "x"]})
        await INSERT.fetchval(work.connection, name="b")
        work.emit(NoteAdded(name="a"), subject="a")
        work.emit(NoteAdded(name="b"), subject="b")
        await work.commit()
    assert await names(engine) == ["a", "b"]
    assert await outbox_types(engine) == ["opencpms.note.added.v1"] * 2
    async with DriverUnitOfWork(engine, outbox) as work:
        found = await BY_NAME.fetchrow(work.connection, name="a")
    assert found is not None
    assert found["extra"] == {"k": [1, "x"]}
    assert found["kind"] == "plain"  # the column's Python-side default


async def test_a_unit_left_uncommitted_leaves_nothing(engine: AsyncEngine) -> None:
    async def failing_handler() -> None:
        async with DriverUnitOfWork(engine, outbox) as work:
            await INSERT.fetchval(work.connection, name="a")
            work.emit(NoteAdded(name="a"), subject="a")
            raise RuntimeError("handler failed")

    with pytest.raises(RuntimeError, match="handler failed"):
        await failing_handler()
    assert await names(engine) == []
    assert await outbox_types(engine) == []


async def test_after_a_failed_statement_the_pooled_connection_serves_the_next_unit(
    engine: AsyncEngine,
) -> None:
    async def too_long() -> int:
        async with DriverUnitOfWork(engine, outbox) as work:
            pid = work.connection.get_server_pid()
            try:
                await INSERT.fetchval(work.connection, name="much too long")
            except asyncpg.StringDataRightTruncationError:
                return pid
        raise AssertionError("the insert should have failed")

    failed_on = await too_long()
    # The pool holds one connection: rolled back, not discarded, it serves the next unit.
    async with DriverUnitOfWork(engine, outbox) as work:
        assert work.connection.get_server_pid() == failed_on
        await INSERT.fetchval(work.connection, name="c")
        await work.commit()
        assert not work.connection.is_in_transaction()
    assert await names(engine) == ["c"]


async def test_a_commit_after_a_swallowed_error_is_refused(engine: AsyncEngine) -> None:
    async def swallowing_handler() -> None:
        async with DriverUnitOfWork(engine, outbox) as work:
            await INSERT.fetchval(work.connection, name="f")
            with contextlib.suppress(asyncpg.StringDataRightTruncationError):
                await INSERT.fetchval(work.connection, name="much too long")
            await work.commit()

    # PostgreSQL answers that COMMIT with ROLLBACK, not an error.
    with pytest.raises(RuntimeError, match="not committed: ROLLBACK"):
        await swallowing_handler()
    assert await names(engine) == []


async def test_a_unit_that_need_not_be_durable_commits_without_waiting_for_the_disk(
    engine: AsyncEngine,
) -> None:
    async with DriverUnitOfWork(engine, outbox, durable=False) as work:
        assert await work.connection.fetchval("SHOW synchronous_commit") == "off"
        await INSERT.fetchval(work.connection, name="g")
        await work.commit()
    assert await names(engine) == ["g"]
    # Only for that transaction: the pool's one connection waits again for the next.
    async with DriverUnitOfWork(engine, outbox) as work:
        assert await work.connection.fetchval("SHOW synchronous_commit") == "on"


async def test_a_commit_cancelled_midway_raises_the_cancellation_and_frees_the_pool(
    engine: AsyncEngine,
) -> None:
    # A deferred trigger makes COMMIT itself take a while, so the cancellation lands inside it.
    async with engine.begin() as conn:
        await conn.execute(
            sql_text(
                f"CREATE FUNCTION {SCHEMA}.slow() RETURNS trigger LANGUAGE plpgsql AS $$"
                " BEGIN PERFORM pg_sleep(2); RETURN NULL; END $$"
            )
        )
        await conn.execute(
            sql_text(
                f"CREATE CONSTRAINT TRIGGER slow AFTER INSERT ON {SCHEMA}.notes"
                f" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.slow()"
            )
        )
    in_commit = asyncio.Event()

    async def slow_commit() -> None:
        async with DriverUnitOfWork(engine, outbox) as work:
            await INSERT.fetchval(work.connection, name="s")
            in_commit.set()
            await work.commit()

    task = asyncio.create_task(slow_commit())
    await in_commit.wait()
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with engine.begin() as conn:
        await conn.execute(sql_text(f"DROP TRIGGER slow ON {SCHEMA}.notes"))
    async with DriverUnitOfWork(engine, outbox) as work:
        await INSERT.fetchval(work.connection, name="t")
        await work.commit()
    assert "t" in await names(engine)


async def test_connections_the_server_closed_while_idle_are_skipped(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=3)
    try:
        units = [DriverUnitOfWork(engine, None) for _ in range(3)]
        for unit in units:
            await unit.__aenter__()
        pids = [unit.connection.get_server_pid() for unit in units]
        for unit in units:
            await unit.__aexit__(None, None, None)
        # A restart or failover, as the pool sees it: every idle connection closed by the server.
        admin = await asyncpg.connect(plain_url(database_url))
        try:
            await admin.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) pid", pids)
        finally:
            await admin.close()
        await asyncio.sleep(0.3)
        async with DriverUnitOfWork(engine, None) as work:
            assert work.connection.get_server_pid() not in pids
            assert await work.connection.fetchval("SELECT 1") == 1
    finally:
        await engine.dispose()


async def test_a_connection_that_died_is_replaced(engine: AsyncEngine) -> None:
    async def on_a_dead_connection() -> None:
        async with DriverUnitOfWork(engine, outbox) as work:
            work.connection.terminate()
            await INSERT.fetchval(work.connection, name="a")

    with pytest.raises(asyncpg.InterfaceError, match="closed"):
        await on_a_dead_connection()
    async with DriverUnitOfWork(engine, outbox) as work:
        await INSERT.fetchval(work.connection, name="d")
        await work.commit()
    assert await names(engine) == ["d"]


async def test_a_read_outside_a_transaction_sees_commits_and_survives_a_dead_connection(
    engine: AsyncEngine,
) -> None:
    reads = driver_reads(engine)
    async with DriverUnitOfWork(engine, outbox) as work:
        await INSERT.fetchval(work.connection, name="e")
        await work.commit()
    async with reads() as connection:
        assert not connection.is_in_transaction()
        found = await BY_NAME.fetchrow(connection, name="e")
        assert found is not None
        connection.terminate()
    # The pool's one connection died: the next read gets a new one.
    async with reads() as connection:
        assert await BY_NAME.fetchrow(connection, name="e") is not None


async def test_values_written_into_the_statement_are_sent_with_it(engine: AsyncEngine) -> None:
    newest = DriverStatement(
        select(notes.c.name).where(notes.c.name != "b").order_by(notes.c.id.desc()).limit(1)
    )
    async with DriverUnitOfWork(engine, outbox) as work:
        for name in ("a", "c", "b"):
            await INSERT.fetchval(work.connection, name=name)
        assert await newest.fetchval(work.connection) == "c"


def test_a_default_computed_in_python_must_be_given() -> None:
    table = Table(
        "stamped",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("n", Integer, default=lambda: 1),
    )
    with pytest.raises(ValueError, match="column n has a default computed in Python"):
        DriverStatement(insert(table)).compiled({"id": 1})
    assert DriverStatement(insert(table)).compiled({"id": 1, "n": 2}).names == ("id", "n")


def test_a_parameter_not_given_is_refused() -> None:
    with pytest.raises(ValueError, match="value is required for bind parameter 'name'"):
        BY_NAME.compiled({})


def test_a_builder_gets_the_parameter_names_once_per_set() -> None:
    built: list[tuple[str, ...]] = []

    def build(names: tuple[str, ...]) -> Any:
        built.append(names)
        return insert(notes).values({name: bindparam(name) for name in names})

    statement = DriverStatement(build)
    first = statement.compiled({"name": "a", "extra": None})
    again = statement.compiled({"extra": 1, "name": "b"})
    other = statement.compiled({"name": "c"})
    assert built == [("extra", "name"), ("name",)]
    assert first is again
    assert first.names == ("name", "extra", "kind")
    assert other.arguments({"name": "c"}) == ["c", "plain"]


async def test_a_read_left_inside_a_transaction_is_discarded_not_pooled(
    engine: AsyncEngine,
) -> None:
    reads = driver_reads(engine)
    async with reads() as connection:
        left_open = connection.get_server_pid()
        await connection.execute("BEGIN")
        await INSERT.fetchval(connection, name="x")
    # Returned as it was, the pool's one connection would hand the next unit of work an open
    # transaction (its BEGIN a savepoint, its commit a release) and the insert would survive.
    async with DriverUnitOfWork(engine, None) as work:
        assert work.connection.get_server_pid() != left_open
        assert not await BY_NAME.fetch(work.connection, name="x")
        await work.commit()
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_unit_of_work_returns_its_connection_to_the_pool_for_the_next(
    engine: AsyncEngine,
) -> None:
    for name in ("f", "g"):
        async with DriverUnitOfWork(engine, outbox) as work:
            pid = work.connection.get_server_pid()
            await INSERT.fetchval(work.connection, name=name)
            await work.commit()
    async with DriverUnitOfWork(engine, None) as work:
        assert work.connection.get_server_pid() == pid
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert await names(engine) == ["f", "g"]
