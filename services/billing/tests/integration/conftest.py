import asyncio
import contextlib
import functools
import itertools
import random
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from opencpms_billing.bootstrap import build
from opencpms_billing.settings import Settings
from opencpms_contracts.billing import CdrCreated
from opencpms_contracts.common import IdToken
from opencpms_contracts.transactions import TransactionEnded
from opencpms_db.migrations import upgrade
from opencpms_messaging.broker import Broker
from opencpms_messaging.cloudevents_codec import EventEnvelope

MIGRATIONS = Path(__file__).parents[2] / "migrations"

# What the test service seeds its default tariff from: deliberately not the built-in defaults,
# so a test can tell that the seed came from the settings.
SEED = {
    "default_currency": "EUR",
    "default_price_per_kwh": Decimal("0.42"),
    "default_price_per_minute": Decimal("0.01"),
    "default_price_per_session": Decimal("0.25"),
    "default_tax_rate": Decimal("0.20"),
}


def billing_settings(database_url: str, amqp_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "amqp_url": amqp_url,
        **SEED,
        # One message at a time: once a later session's CDR arrives, every earlier message has
        # been handled, so "no second CDR" is observable without waiting on a clock.
        "event_prefetch": 1,
        # Room for a transient failure to be retried while a test clears it.
        "delivery_limit": 1000,
        **overrides,
    }
    return Settings.model_validate(values)


@pytest.fixture(scope="session")
async def billing_service(database_url: str, amqp_url: str) -> AsyncIterator[None]:
    """The billing service migrated into the run's database and serving on its vhost."""
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url)
    service = await build(billing_settings(database_url, amqp_url), node_name="billing-test")
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    yield
    stop.set()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@pytest.fixture
def settings_for_replica(database_url: str, amqp_url: str) -> Callable[..., Settings]:
    """Settings of another replica on the run's database and vhost."""
    return functools.partial(billing_settings, database_url, amqp_url)


_transaction_ids = itertools.count(random.randrange(10**9, 10**12, 10**6))


class CdrSubscriber:
    """A billing system's view: its own queue bound to ``cdr.created``."""

    def __init__(self) -> None:
        self.received: list[tuple[EventEnvelope, CdrCreated]] = []
        self._queue: asyncio.Queue[tuple[EventEnvelope, CdrCreated]] = asyncio.Queue()

    async def handle(self, event: CdrCreated, envelope: EventEnvelope) -> None:
        await self._queue.put((envelope, event))

    async def wait_for(
        self, transaction_id: int, timeout: float = 10
    ) -> tuple[EventEnvelope, CdrCreated]:
        """The first cdr.created of ``transaction_id``; every event seen is kept in
        ``received``."""
        async with asyncio.timeout(timeout):
            while True:
                envelope, event = await self._queue.get()
                self.received.append((envelope, event))
                if event.cdr.transaction_id == transaction_id:
                    return envelope, event

    def count(self, transaction_id: int) -> int:
        return sum(1 for _, e in self.received if e.cdr.transaction_id == transaction_id)


@pytest.fixture
async def cdr_events(broker: Broker, billing_service: None) -> CdrSubscriber:
    subscriber = CdrSubscriber()
    consumer = await broker.event_consumer(
        f"test.cdr-created.{uuid.uuid4().hex[:8]}", queue_type="classic"
    )
    consumer.on(CdrCreated, subscriber.handle)
    await consumer.start()
    return subscriber


@pytest.fixture
def transaction_ended() -> Callable[..., TransactionEnded]:
    """Builds a transaction.ended of a fresh transaction that ended now and lasted
    ``duration``; keyword arguments override fields."""

    def build_event(
        duration: timedelta = timedelta(hours=1), **overrides: object
    ) -> TransactionEnded:
        transaction_id = next(_transaction_ids)
        ended_at = overrides.pop("ended_at", None) or datetime.now(UTC)
        assert isinstance(ended_at, datetime)
        values: dict[str, object] = {
            "transaction_id": transaction_id,
            "station_id": "CP-BILLING-1",
            "station_transaction_id": f"tx-{transaction_id}",
            "evse_id": 1,
            "connector_id": 1,
            "id_token": IdToken(value="04A1B2C3D4"),
            "started_at": ended_at - duration,
            "ended_at": ended_at,
            "meter_start_wh": 1000,
            "meter_stop_wh": 11000,
            "energy_wh": 10000,
            "stop_reason": "EVDisconnected",
            **overrides,
        }
        return TransactionEnded.model_validate(values)

    return build_event
