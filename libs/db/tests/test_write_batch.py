"""Group commit against the real PostgreSQL: writes that arrive together share a transaction,
run in key order, and a bad write fails only its own caller."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from opencpms_db.engine import create_engine
from opencpms_db.unit_of_work import DriverUnitOfWork
from opencpms_db.write_batch import WriteBatch

pytestmark = pytest.mark.integration


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=2)
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS write_batch_test"))
        await conn.execute(
            text("CREATE TABLE write_batch_test (k text PRIMARY KEY, n int NOT NULL, txid bigint)")
        )
    yield engine
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE write_batch_test"))
    await engine.dispose()


def _batch(engine: AsyncEngine) -> WriteBatch:
    return WriteBatch(lambda: DriverUnitOfWork(engine, None), max_batch=50)


def _insert(key: str, n: int):  # type: ignore[no-untyped-def]
    async def write(connection: asyncpg.Connection) -> None:
        await connection.execute(
            "INSERT INTO write_batch_test VALUES ($1, $2, txid_current())", key, n
        )

    return write


async def _rows(engine: AsyncEngine) -> list[tuple[str, int, int]]:
    async with engine.connect() as conn:
        result = await conn.execute(text("SELECT k, n, txid FROM write_batch_test ORDER BY k"))
        return [(r.k, r.n, r.txid) for r in result]


async def test_writes_arriving_together_share_transactions(engine: AsyncEngine) -> None:
    batch = _batch(engine)
    await asyncio.gather(*(batch.run(f"k{i:03}", _insert(f"k{i:03}", i)) for i in range(120)))
    rows = await _rows(engine)
    assert [r[1] for r in rows] == list(range(120))
    transactions = {r[2] for r in rows}
    # 120 writes in batches of at most 50: three transactions, not 120.
    assert len(transactions) == 3


async def test_a_failing_write_fails_only_its_caller(engine: AsyncEngine) -> None:
    batch = _batch(engine)

    async def broken(connection: asyncpg.Connection) -> None:
        await connection.execute("SELECT 1 / 0")

    results = await asyncio.gather(
        batch.run("a", _insert("a", 1)),
        batch.run("b", broken),
        batch.run("c", _insert("c", 3)),
        return_exceptions=True,
    )
    assert results[0] is None
    assert isinstance(results[1], asyncpg.DivisionByZeroError)
    assert results[2] is None
    assert [(k, n) for k, n, _ in await _rows(engine)] == [("a", 1), ("c", 3)]


async def test_a_write_alone_is_committed_at_once(engine: AsyncEngine) -> None:
    batch = _batch(engine)
    await batch.run("solo", _insert("solo", 7))
    assert [(k, n) for k, n, _ in await _rows(engine)] == [("solo", 7)]


async def test_a_batch_with_a_wait_takes_the_writes_that_come_meanwhile(
    engine: AsyncEngine,
) -> None:
    # For writes nobody waits on eagerly (an event's projection): a little later is cheaper.
    waiting = WriteBatch(lambda: DriverUnitOfWork(engine, None), max_wait_s=2.0)
    eager = _batch(engine)

    async def later(batch: WriteBatch, key: str) -> None:
        await asyncio.sleep(0.05)
        await batch.run(key, _insert(key, 2))

    await asyncio.gather(waiting.run("w1", _insert("w1", 1)), later(waiting, "w2"))
    await asyncio.gather(eager.run("e1", _insert("e1", 1)), later(eager, "e2"))
    txids = {k: txid for k, _n, txid in await _rows(engine)}
    assert txids["w1"] == txids["w2"]
    assert txids["e1"] != txids["e2"]


async def test_a_batch_that_fills_stops_waiting(engine: AsyncEngine) -> None:
    # A consumer has at most its prefetch of messages unacknowledged: a batch that holds them
    # all must not wait for more, which cannot come.
    batch = WriteBatch(lambda: DriverUnitOfWork(engine, None), max_batch=2, max_wait_s=60.0)

    async def later() -> None:
        await asyncio.sleep(0.05)  # the batch of "a" is waiting by now
        await batch.run("b", _insert("b", 2))

    async with asyncio.timeout(10):
        await asyncio.gather(batch.run("a", _insert("a", 1)), later())
    assert [(k, n) for k, n, _ in await _rows(engine)] == [("a", 1), ("b", 2)]


async def test_writes_of_a_batch_run_in_key_order(engine: AsyncEngine) -> None:
    # Concurrent batches then take row locks in one order and queue instead of deadlocking.
    batch = _batch(engine)
    ran: list[str] = []

    def recorded(key: str):  # type: ignore[no-untyped-def]
        insert = _insert(key, 0)

        async def write(connection: asyncpg.Connection) -> None:
            ran.append(key)
            await insert(connection)

        return write

    keys = ["c", "a", "d", "b"]
    await asyncio.gather(*(batch.run(key, recorded(key)) for key in keys))
    assert ran == sorted(keys)
    assert len({txid for _, _, txid in await _rows(engine)}) == 1


async def test_a_step_returns_its_result_once_its_batch_committed(engine: AsyncEngine) -> None:
    batch = _batch(engine)

    def step(key: str, n: int):  # type: ignore[no-untyped-def]
        async def run(work: DriverUnitOfWork) -> tuple[str, int]:
            await _insert(key, n)(work.connection)
            return key, n * 10

        return run

    async def broken(work: DriverUnitOfWork) -> int:
        return int(await work.connection.fetchval("SELECT 1 / 0"))

    results = await asyncio.gather(
        batch.run_work("a", step("a", 1)),
        batch.run_work("b", broken),
        batch.run_work("c", step("c", 2)),
        return_exceptions=True,
    )
    assert results[0] == ("a", 10)
    assert isinstance(results[1], asyncpg.DivisionByZeroError)
    assert results[2] == ("c", 20)
    assert [(k, n) for k, n, _ in await _rows(engine)] == [("a", 1), ("c", 2)]


async def test_bulk_steps_get_their_batch_s_items_in_one_call(engine: AsyncEngine) -> None:
    batch = _batch(engine)
    calls: list[list[str]] = []

    async def insert_all(work: DriverUnitOfWork, keys: list[str]) -> list[str]:
        calls.append(keys)
        if "bad" in keys:
            await work.connection.execute("SELECT 1 / 0")
        for key in keys:
            await _insert(key, len(key))(work.connection)
        return [key.upper() for key in keys]

    results = await asyncio.gather(
        *(batch.run_together(key, key, insert_all) for key in ("b", "a", "bad", "c")),
        batch.run_work("d", _step_inserting("d")),
        return_exceptions=True,
    )
    assert results[:2] == ["B", "A"]
    assert isinstance(results[2], asyncpg.DivisionByZeroError)
    assert results[3] == "C"
    # One call for the whole batch, in key order; it failed, so one call per item after it.
    assert calls[0] == ["a", "b", "bad", "c"]
    assert sorted(calls[1:]) == [["a"], ["b"], ["bad"], ["c"]]
    assert [k for k, _, _ in await _rows(engine)] == ["a", "b", "c", "d"]


def _step_inserting(key: str):  # type: ignore[no-untyped-def]
    async def run(work: DriverUnitOfWork) -> None:
        await _insert(key, 0)(work.connection)

    return run


async def test_a_bulk_item_keeps_its_place_beside_a_single_write_of_its_key(
    engine: AsyncEngine,
) -> None:
    batch = _batch(engine)
    ran: list[str] = []

    async def bulk(work: DriverUnitOfWork, items: list[str]) -> list[None]:
        ran.append("bulk:" + ",".join(items))
        return [None] * len(items)

    def single(name: str):  # type: ignore[no-untyped-def]
        async def run(work: DriverUnitOfWork) -> None:
            ran.append(name)

        return run

    # Key "b" has a bulk item that arrived before a single write of the same key.
    await asyncio.gather(
        batch.run_together("b", "b1", bulk),
        batch.run_work("b", single("b2")),
        batch.run_together("a", "a1", bulk),
        batch.run_together("c", "c1", bulk),
    )
    assert ran == ["bulk:b1", "b2", "bulk:a1,c1"]


async def test_items_of_one_key_in_two_bulk_steps_keep_their_order(engine: AsyncEngine) -> None:
    batch = _batch(engine)
    ran: list[str] = []

    def bulk(name: str):  # type: ignore[no-untyped-def]
        async def run(work: DriverUnitOfWork, items: list[str]) -> list[None]:
            ran.append(f"{name}:" + ",".join(items))
            return [None] * len(items)

        return run

    first, second = bulk("first"), bulk("second")
    # Key "b" has an item of each step, the second step's arriving first, while the batch meets
    # the first step first (key "a"): run in bulk, b2 would go before b1.
    await asyncio.gather(
        batch.run_together("b", "b1", second),
        batch.run_together("b", "b2", first),
        batch.run_together("a", "a1", first),
        batch.run_together("c", "c1", second),
    )
    assert ran == ["second:b1", "first:b2", "first:a1", "second:c1"]


async def test_a_batch_the_database_cannot_take_fails_at_once_not_one_by_one(
    engine: AsyncEngine,
) -> None:
    batch = _batch(engine)
    attempts = 0

    async def unreachable(work: DriverUnitOfWork) -> None:
        nonlocal attempts
        attempts += 1
        raise ConnectionResetError("the server went away")

    results = await asyncio.gather(
        *(batch.run_work(key, unreachable) for key in "abc"), return_exceptions=True
    )
    assert all(isinstance(r, ConnectionResetError) for r in results)
    assert attempts == 1
