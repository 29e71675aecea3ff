"""Lookups that wait together share one query, against the real PostgreSQL: each caller gets
its own key's value, a key without one gets None, and a failed query fails only its callers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from opencpms_db.driver import driver_reads
from opencpms_db.engine import create_engine
from opencpms_db.lookup_batch import LookupBatch

pytestmark = pytest.mark.integration


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=2)
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS lookup_batch_test"))
        await conn.execute(text("CREATE TABLE lookup_batch_test (k text PRIMARY KEY, v text)"))
        await conn.execute(
            text(
                "INSERT INTO lookup_batch_test"
                " SELECT 'k' || n, 'v' || n FROM generate_series(1, 50) AS n"
            )
        )
    yield engine
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE lookup_batch_test"))
    await engine.dispose()


class _Fetcher:
    def __init__(self) -> None:
        self.queries: list[list[str]] = []

    async def __call__(self, connection: asyncpg.Connection, keys: list[str]) -> dict[str, str]:
        self.queries.append(keys)
        if "broken" in keys:
            await connection.execute("SELECT 1 / 0")
        rows = await connection.fetch(
            "SELECT k, v FROM lookup_batch_test WHERE k = ANY($1::text[])", keys
        )
        return {row["k"]: row["v"] for row in rows}


async def test_lookups_waiting_together_share_one_query(engine: AsyncEngine) -> None:
    fetch = _Fetcher()
    lookups = LookupBatch(driver_reads(engine), fetch, max_batch=20)
    keys = [f"k{n}" for n in range(1, 41)] + ["k3", "missing"]
    values = await asyncio.gather(*(lookups.get(key) for key in keys))
    assert values == [f"v{n}" for n in range(1, 41)] + ["v3", None]
    # 41 distinct keys, at most 20 a query: three queries, not 42.
    assert [len(query) for query in fetch.queries] == [20, 20, 1]


async def test_a_failed_query_fails_its_callers_and_the_next_one_runs(
    engine: AsyncEngine,
) -> None:
    fetch = _Fetcher()
    lookups = LookupBatch(driver_reads(engine), fetch)
    failed = await asyncio.gather(lookups.get("k1"), lookups.get("broken"), return_exceptions=True)
    assert all(isinstance(result, asyncpg.DivisionByZeroError) for result in failed)
    assert await lookups.get("k2") == "v2"


async def test_callers_are_not_left_waiting_when_the_reader_is_cancelled(
    engine: AsyncEngine,
) -> None:
    started, hold = asyncio.Event(), asyncio.Event()

    async def stuck(connection: asyncpg.Connection, keys: list[str]) -> dict[str, str]:
        started.set()
        await hold.wait()
        return {}

    lookups: LookupBatch[str, str] = LookupBatch(driver_reads(engine), stuck)
    caller = asyncio.create_task(lookups.get("k1"))
    await asyncio.wait_for(started.wait(), 5)
    later = asyncio.create_task(lookups.get("k2"))  # waits for the next query
    await asyncio.sleep(0)
    assert lookups._reader is not None
    lookups._reader.cancel()  # as when the service stops
    results = await asyncio.wait_for(asyncio.gather(caller, later, return_exceptions=True), 5)
    assert all(isinstance(result, asyncio.CancelledError) for result in results)
