"""Is the database reachable? For ``python -m opencpms_<service> check`` and health endpoints."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from opencpms_db.engine import create_engine


async def database_problem(url: str, *, timeout: float = 10.0) -> str | None:
    """None when ``SELECT 1`` succeeds within ``timeout``, else what went wrong."""
    engine = create_engine(url, pool_size=1)
    try:
        async with asyncio.timeout(timeout), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure is the answer, not a crash
        return f"database: {type(exc).__name__}: {exc}"
    finally:
        await engine.dispose()
    return None
