"""The outbox relay against the real PostgreSQL and RabbitMQ: every committed row reaches the
broker once per pass, in id order, and leaves the table only after that."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiormq.exceptions import ChannelInvalidStateError
from sqlalchemy import MetaData, Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from opencpms_contracts.stations import StationHeartbeat
from opencpms_db.engine import create_engine
from opencpms_db.outbox import outbox_row, outbox_table
from opencpms_db.unit_of_work import DriverUnitOfWork
from opencpms_messaging.broker import Broker
from opencpms_messaging.outbox_relay import OutboxRelay

pytestmark = pytest.mark.integration

SCHEMA = "outbox_relay_test"


@pytest.fixture
async def outbox(database_url: str) -> AsyncIterator[tuple[AsyncEngine, Table]]:
    engine = create_engine(database_url, pool_size=2)
    table = outbox_table(MetaData(schema=SCHEMA))
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        await conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        await conn.run_sync(table.create)
    yield engine, table
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP SCHEMA {SCHEMA} CASCADE"))
    await engine.dispose()


def heartbeat_rows(count: int) -> list[dict[str, object]]:
    station_id = f"RELAY-{uuid.uuid4().hex[:8]}"
    return [
        outbox_row(
            StationHeartbeat(station_id=station_id, connection_id=str(n), at=datetime.now(UTC)),
            subject=station_id,
        )
        for n in range(count)
    ]


async def test_a_pass_publishes_a_batch_in_order_and_deletes_only_it(
    outbox: tuple[AsyncEngine, Table], broker: Broker
) -> None:
    engine, table = outbox
    channel = await broker.connection.channel()
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(broker.exchanges.events, routing_key=StationHeartbeat.routing_key())
    rows = heartbeat_rows(5)
    async with engine.begin() as conn:
        await conn.execute(insert(table), rows)

    relay = OutboxRelay(
        lambda: DriverUnitOfWork(engine, None), table, broker.publisher, batch_size=3
    )
    assert await relay.relay_batch() == 3
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(table))).scalar_one() == 2
    assert await relay.relay_batch() == 2
    assert await relay.relay_batch() == 0

    received = []
    for _ in rows:
        message = await queue.get(timeout=5)
        await message.ack()
        received.append(message.message_id)
    assert received == [str(row["event_id"]) for row in rows]
    await channel.close()


async def test_a_pass_the_broker_did_not_confirm_deletes_nothing(
    outbox: tuple[AsyncEngine, Table], amqp_url: str
) -> None:
    engine, table = outbox
    rows = heartbeat_rows(3)
    async with engine.begin() as conn:
        await conn.execute(insert(table), rows)
    # A broker connection that has gone away: publishing fails after the rows were taken.
    gone = await Broker.open(amqp_url, name="relay-test-gone", source="/tests/relay")
    await gone.close()
    relay = OutboxRelay(
        lambda: DriverUnitOfWork(engine, None, durable=False), table, gone.publisher
    )
    with pytest.raises(ChannelInvalidStateError):
        await relay.relay_batch()
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(table))).scalar_one() == 3
