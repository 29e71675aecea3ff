import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from opencpms_contracts.transactions import (
    TransactionEnded,
    TransactionStarted,
    TransactionUpdated,
)
from opencpms_db.migrations import upgrade
from opencpms_messaging.broker import Broker
from opencpms_transactions.bootstrap import TransactionsService, build
from opencpms_transactions.settings import Settings

MIGRATIONS = Path(__file__).parents[2] / "migrations"


@pytest.fixture(scope="session")
async def transactions_service(
    database_url: str, amqp_url: str
) -> AsyncIterator[TransactionsService]:
    """The transactions service migrated into the run's database and serving on its vhost."""
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url)
    settings = Settings.model_validate({"database_url": database_url, "amqp_url": amqp_url})
    service = await build(settings, node_name="transactions-test")
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    yield service
    stop.set()
    with contextlib.suppress(asyncio.CancelledError):
        await task


class TransactionEvents:
    """A subscriber's view of transaction.* events, per station."""

    def __init__(self) -> None:
        self.seen: list[Any] = []
        self.arrived = asyncio.Condition()

    async def record(self, event: Any, _envelope: Any) -> None:
        async with self.arrived:
            self.seen.append(event)
            self.arrived.notify_all()

    def of(self, station_id: str) -> list[str]:
        return [e.event_type for e in self.seen if e.station_id == station_id]

    async def wait_for(self, station_id: str, event_type: str, timeout: float = 10) -> Any:
        async with asyncio.timeout(timeout), self.arrived:
            await self.arrived.wait_for(lambda: event_type in self.of(station_id))
        return next(
            e for e in self.seen if e.station_id == station_id and e.event_type == event_type
        )


@pytest.fixture
async def events(broker: Broker, transactions_service: TransactionsService) -> TransactionEvents:
    subscriber = TransactionEvents()
    consumer = await broker.event_consumer(
        f"test.transactions.{uuid.uuid4().hex[:8]}", queue_type="classic"
    )
    for model in (TransactionStarted, TransactionUpdated, TransactionEnded):
        consumer.on(model, subscriber.record)
    await consumer.start()
    return subscriber


@pytest.fixture
def station_id(transactions_service: TransactionsService) -> str:
    return f"CP-TX-{uuid.uuid4().hex[:8]}"
