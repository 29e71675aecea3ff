"""Is the broker reachable? For ``python -m opencpms_<service> check`` and health endpoints."""

from __future__ import annotations

import asyncio

import aio_pika


async def broker_problem(url: str, *, timeout: float = 10.0) -> str | None:
    """None when a connection opens within ``timeout``, else what went wrong."""
    try:
        async with asyncio.timeout(timeout):
            connection = await aio_pika.connect(url)
            await connection.close()
    except Exception as exc:  # any failure is the answer, not a crash
        return f"broker: {type(exc).__name__}: {exc}"
    return None
