"""Composition root: builds the transactions service from its settings.

Tests call :func:`build` with their own settings (a per-run database and vhost) and may inject a
clock; nothing here runs at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from opencpms_db.engine import create_engine, session_factory
from opencpms_db.unit_of_work import DriverUnitOfWork
from opencpms_db.write_batch import WriteBatch
from opencpms_messaging.broker import Broker
from opencpms_messaging.outbox_relay import OutboxRelay
from opencpms_transactions.clock import Clock, utc_now
from opencpms_transactions.consumers import register_operations
from opencpms_transactions.settings import Settings
from opencpms_transactions.tables import outbox

log = logging.getLogger(__name__)
SERVICE = "transactions"


@dataclass
class TransactionsService:
    engine: AsyncEngine
    broker: Broker
    relay: OutboxRelay

    async def run(self, stop: asyncio.Event) -> None:
        """Serves until ``stop`` is set, then closes the broker and database connections."""
        relay = asyncio.create_task(self.relay.run(), name="outbox-relay")
        log.info("transactions service ready")
        try:
            await stop.wait()
        finally:
            # Work taken before the stop is finished first, and its events published.
            await self.broker.stop_consuming()
            relay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay
            await self.close()

    async def close(self) -> None:
        await self.broker.close()
        await self.engine.dispose()


async def build(
    settings: Settings, *, clock: Clock = utc_now, node_name: str = SERVICE
) -> TransactionsService:
    engine = create_engine(
        settings.database_url.get_secret_value(), pool_size=settings.db_pool_size
    )
    sessions = session_factory(engine)
    broker = await Broker.open(
        settings.amqp_url.get_secret_value(), name=node_name, source=f"/opencpms/{SERVICE}"
    )
    relay = OutboxRelay(
        lambda: DriverUnitOfWork(engine, None, durable=False), outbox, broker.publisher
    )

    def uow() -> DriverUnitOfWork:
        return DriverUnitOfWork(engine, outbox, on_commit=relay.hand_over)

    server = await broker.rpc_server(SERVICE, prefetch=settings.rpc_prefetch)
    register_operations(server, {"writes": WriteBatch(uow), "sessions": sessions, "clock": clock})
    await server.start()
    return TransactionsService(engine=engine, broker=broker, relay=relay)
