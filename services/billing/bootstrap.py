"""Composition root: builds the billing service from its settings.

Tests call :func:`build` with their own settings (a per-run database and vhost) and may inject a
clock; nothing here runs at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from opencpms_billing.clock import Clock, utc_now
from opencpms_billing.consumers import (
    TRANSACTION_ENDED_QUEUE,
    register_events,
    register_operations,
)
from opencpms_billing.handlers import DEFAULT_TARIFF_ID, seed_default_tariff
from opencpms_billing.settings import Settings
from opencpms_billing.tables import outbox
from opencpms_contracts.billing import SetTariff
from opencpms_db.engine import create_engine, session_factory
from opencpms_db.unit_of_work import DriverUnitOfWork, UnitOfWork
from opencpms_db.write_batch import WriteBatch
from opencpms_messaging.broker import Broker
from opencpms_messaging.outbox_relay import OutboxRelay

log = logging.getLogger(__name__)
SERVICE = "billing"


@dataclass
class BillingService:
    engine: AsyncEngine
    broker: Broker
    relay: OutboxRelay

    async def run(self, stop: asyncio.Event) -> None:
        """Serves until ``stop`` is set, then closes the broker and database connections."""
        relay = asyncio.create_task(self.relay.run(), name="outbox-relay")
        log.info("billing service ready")
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


def default_tariff(settings: Settings) -> SetTariff:
    return SetTariff(
        tariff_id=DEFAULT_TARIFF_ID,
        currency=settings.default_currency,
        price_per_kwh=settings.default_price_per_kwh,
        price_per_minute=settings.default_price_per_minute,
        price_per_session=settings.default_price_per_session,
        tax_rate=settings.default_tax_rate,
    )


async def build(
    settings: Settings, *, clock: Clock = utc_now, node_name: str = SERVICE
) -> BillingService:
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

    def uow() -> UnitOfWork:
        return UnitOfWork(sessions, outbox, on_commit=relay.hand_over)

    def pricing_work() -> DriverUnitOfWork:
        return DriverUnitOfWork(engine, outbox, on_commit=relay.hand_over)

    dependencies: dict[str, object] = {
        "uow": uow,
        # At most the prefetch of sessions are being priced: a batch that holds them all does
        # not wait for more, which could not come.
        "pricing_writes": WriteBatch(
            pricing_work, max_batch=settings.event_prefetch, max_wait_s=settings.pricing_wait_s
        ),
        "clock": clock,
    }
    # Before any session is priced, so there always is a tariff in force.
    if await seed_default_tariff(default_tariff(settings), uow=uow, clock=clock):
        log.info("seeded the default tariff from the settings")
    server = await broker.rpc_server(SERVICE, prefetch=settings.rpc_prefetch)
    register_operations(server, dependencies)
    await server.start()
    consumer = await broker.event_consumer(
        TRANSACTION_ENDED_QUEUE,
        queue_type=settings.queue_type,
        prefetch=settings.event_prefetch,
        delivery_limit=settings.delivery_limit,
    )
    register_events(consumer, dependencies)
    await consumer.start()
    return BillingService(engine=engine, broker=broker, relay=relay)
