"""Opening a robust broker connection."""

from __future__ import annotations

import aio_pika
from aio_pika.abc import AbstractRobustConnection


async def connect(url: str, *, name: str) -> AbstractRobustConnection:
    """A connection that reconnects and restores its topology after a broker restart.

    It does not replay a publish that failed while it was down: callers retry (ARCHITECTURE §3).
    """
    return await aio_pika.connect_robust(
        url, client_properties={"connection_name": name}, reconnect_interval=1.0
    )
