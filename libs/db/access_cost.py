"""What one trivial statement costs in CPU along each way a service can reach PostgreSQL.

``make bench`` prints these beside its scenarios: the services' hot paths make a few statements
per message, so the fixed cost of the path they take (an ORM session per unit of work, a Core
connection, the driver) decides much of their CPU per message. The statement is a bound
parameter echoed back, so PostgreSQL's own work is the same on every path and what differs is
the Python stack around it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import String, bindparam, cast, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from opencpms_db.engine import create_engine, session_factory

_ECHO = select(cast(bindparam("value", type_=String), String))
_ECHO_SQL = "SELECT $1::VARCHAR"
# The baseline the other paths are given as ratios of.
BASELINE = "asyncpg statement on an open connection"


async def measure_access_paths(url: str, *, calls: int = 2000) -> dict[str, dict[str, float]]:
    """CPU microseconds per call of each path, and each as a multiple of the baseline."""
    engine = create_engine(url, pool_size=1)
    try:
        costs = await _costs(engine, calls)
    finally:
        await engine.dispose()
    base = costs[BASELINE]
    return {
        path: {"cpu_us": round(us, 1), "x_baseline": round(us / base, 2)}
        for path, us in costs.items()
    }


async def _costs(engine: AsyncEngine, calls: int) -> dict[str, float]:
    sessions = session_factory(engine)
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def orm_session() -> None:
        async with sessions() as session:
            (await session.execute(_ECHO, {"value": "x"})).scalar_one()

    async def orm_session_commit() -> None:
        async with sessions() as session, session.begin():
            (await session.execute(_ECHO, {"value": "x"})).scalar_one()

    async def core_autocommit() -> None:
        async with autocommit.connect() as connection:
            (await connection.execute(_ECHO, {"value": "x"})).scalar_one()

    paths: dict[str, Callable[[], Awaitable[None]]] = {
        "ORM session per call (BEGIN, statement, ROLLBACK)": orm_session,
        "ORM session per call, committed": orm_session_commit,
        "Core connection per call, autocommit": core_autocommit,
    }
    costs = {label: await _cpu_per_call(run, calls) for label, run in paths.items()}
    async with autocommit.connect() as connection:
        costs["Core statement on an open connection"] = await _cpu_per_call(
            lambda: _core_statement(connection), calls
        )
        driver = await _driver(connection)
        costs[BASELINE] = await _cpu_per_call(lambda: driver.fetchval(_ECHO_SQL, "x"), calls)
    return costs


async def _core_statement(connection: AsyncConnection) -> None:
    (await connection.execute(_ECHO, {"value": "x"})).scalar_one()


async def _driver(connection: AsyncConnection) -> Any:
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def _cpu_per_call(run: Callable[[], Awaitable[Any]], calls: int) -> float:
    for _ in range(min(200, calls)):  # compiled-statement caches and prepared statements
        await run()
    began = time.process_time()
    for _ in range(calls):
        await run()
    return (time.process_time() - began) / calls * 1e6
