"""Composition root: builds the authorization service from its settings.

Tests call :func:`build` with their own settings (a per-run database and vhost) and may inject a
clock; nothing here runs at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from opencpms_authorization import repository
from opencpms_authorization.clock import Clock, utc_now
from opencpms_authorization.consumers import (
    HANDSHAKE_LANE,
    HANDSHAKE_OPERATIONS,
    register_operations,
)
from opencpms_authorization.handlers import BootPolicy
from opencpms_authorization.passwords import StationPasswords
from opencpms_authorization.settings import Settings
from opencpms_authorization.tables import outbox
from opencpms_db.driver import driver_reads
from opencpms_db.engine import create_engine, session_factory
from opencpms_db.lookup_batch import LookupBatch
from opencpms_db.unit_of_work import DriverUnitOfWork, UnitOfWork
from opencpms_db.write_batch import WriteBatch
from opencpms_messaging.broker import Broker
from opencpms_messaging.outbox_relay import OutboxRelay

log = logging.getLogger(__name__)
SERVICE = "authorization"


@dataclass
class AuthorizationService:
    engine: AsyncEngine
    broker: Broker
    relay: OutboxRelay

    async def run(self, stop: asyncio.Event) -> None:
        """Serves until ``stop`` is set, then closes the broker and database connections."""
        relay = asyncio.create_task(self.relay.run(), name="outbox-relay")
        log.info("authorization service ready")
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
) -> AuthorizationService:
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
    dependencies = {
        "uow": lambda: UnitOfWork(sessions, outbox, on_commit=relay.hand_over),
        # The station-facing operations load no ORM objects: they run on the driver, at about
        # a third of the CPU per statement of a Core connection (make bench prints both).
        "station_writes": WriteBatch(
            lambda: DriverUnitOfWork(engine, outbox, on_commit=relay.hand_over)
        ),
        "reads": driver_reads(engine),
        "password_hashes": LookupBatch(driver_reads(engine), repository.password_hashes),
        "passwords": StationPasswords(
            time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib
        ),
        "policy": BootPolicy(
            heartbeat_interval_s=settings.heartbeat_interval_s, retry_s=settings.pending_retry_s
        ),
        "clock": clock,
    }
    handshake = await broker.rpc_server(
        SERVICE, prefetch=settings.rpc_prefetch, lane=HANDSHAKE_LANE
    )
    register_operations(handshake, dependencies, lane=HANDSHAKE_LANE)
    await handshake.start()
    server = await broker.rpc_server(SERVICE, prefetch=settings.rpc_prefetch)
    register_operations(server, dependencies)
    await server.start(served_elsewhere=HANDSHAKE_OPERATIONS)
    return AuthorizationService(engine=engine, broker=broker, relay=relay)
