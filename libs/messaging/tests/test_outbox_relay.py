"""The outbox relay against the real PostgreSQL and RabbitMQ: rows handed over by a commit reach
the broker in order and leave the table afterwards; rows nobody handed over are swept once old
enough; nothing the broker did not confirm is deleted."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aio_pika.abc import AbstractQueue
from aiormq.exceptions import ChannelInvalidStateError
from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from opencpms_contracts.stations import StationHeartbeat
from opencpms_db.outbox import outbox_row
from opencpms_db.testing import outbox_in_schema
from opencpms_db.unit_of_work import DriverUnitOfWork
from opencpms_messaging.broker import Broker
from opencpms_messaging.outbox_relay import OutboxRelay

pytestmark = pytest.mark.integration

SCHEMA = "outbox_relay_test"


@pytest.fixture
async def outbox(database_url: str) -> AsyncIterator[tuple[AsyncEngine, Table]]:
    async with outbox_in_schema(database_url, SCHEMA) as made:
        yield made


@pytest.fixture
async def heartbeats(broker: Broker) -> AsyncIterator[AbstractQueue]:
    channel = await broker.connection.channel()
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(broker.exchanges.events, routing_key=StationHeartbeat.routing_key())
    yield queue
    await channel.close()


def heartbeat_rows(count: int, *, age: timedelta = timedelta(0)) -> list[dict[str, object]]:
    station_id = f"RELAY-{uuid.uuid4().hex[:8]}"
    rows = [
        outbox_row(
            StationHeartbeat(station_id=station_id, connection_id=str(n), at=datetime.now(UTC)),
            subject=station_id,
        )
        for n in range(count)
    ]
    for row in rows:
        row["occurred_at"] = datetime.now(UTC) - age
    return rows


async def committed(engine: AsyncEngine, table: Table, count: int, relay: OutboxRelay) -> list:
    """``count`` rows committed through a unit of work that hands them to ``relay``."""
    async with DriverUnitOfWork(engine, table, on_commit=relay.hand_over) as work:
        for n in range(count):
            work.emit(
                StationHeartbeat(station_id="RELAY", connection_id=str(n), at=datetime.now(UTC)),
                subject="RELAY",
            )
        await work.commit()
    async with engine.connect() as conn:
        return list((await conn.execute(select(table.c.event_id).order_by(table.c.id))).scalars())


async def rows_left(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(table))).scalar_one()


async def received(queue: AbstractQueue, count: int) -> list[str | None]:
    return [event["id"] for event in await received_events(queue, count)]


async def received_events(queue: AbstractQueue, count: int) -> list[dict[str, Any]]:
    """The CloudEvents as they arrived, their message ids checked against their ids."""
    events = []
    for _ in range(count):
        message = await queue.get(timeout=5)
        await message.ack()
        event = json.loads(message.body)
        assert message.message_id == event["id"]
        events.append(event)
    return events


def relay_on(engine: AsyncEngine, table: Table, broker: Broker, **options: float) -> OutboxRelay:
    return OutboxRelay(
        lambda: DriverUnitOfWork(engine, None, durable=False),
        table,
        broker.publisher,
        **options,  # type: ignore[arg-type]
    )


async def test_handed_over_rows_are_published_in_order_and_deleted_together(
    outbox: tuple[AsyncEngine, Table], broker: Broker, heartbeats: AbstractQueue
) -> None:
    engine, table = outbox
    relay = relay_on(engine, table, broker)
    event_ids = await committed(engine, table, 4, relay)

    assert await relay.relay_handed_over() == 4
    assert await received(heartbeats, 4) == [str(event_id) for event_id in event_ids]
    # Published, and deleted only with the next deletion that is due.
    assert await rows_left(engine, table) == 4
    assert await relay.delete_published(force=True) == 4
    assert await rows_left(engine, table) == 0


async def test_the_sweep_takes_only_rows_old_enough_to_be_left_behind(
    outbox: tuple[AsyncEngine, Table], broker: Broker, heartbeats: AbstractQueue
) -> None:
    engine, table = outbox
    old, young = heartbeat_rows(5, age=timedelta(minutes=1)), heartbeat_rows(2)
    async with engine.begin() as conn:
        await conn.execute(insert(table), old + young)
    relay = relay_on(engine, table, broker, batch_size=3, sweep_after_s=30)

    assert await relay.sweep() == 3
    assert await relay.sweep() == 2
    assert await relay.sweep() == 0
    assert await received(heartbeats, 5) == [str(row["event_id"]) for row in old]
    # The young rows may still be on their way through another relay's memory.
    assert await rows_left(engine, table) == 2


async def test_rows_the_broker_did_not_confirm_stay_for_the_sweep(
    outbox: tuple[AsyncEngine, Table], amqp_url: str
) -> None:
    engine, table = outbox
    # A broker connection that has gone away: publishing fails after the rows were committed.
    gone = await Broker.open(amqp_url, name="relay-test-gone", source="/tests/relay")
    await gone.close()
    relay = relay_on(engine, table, gone, sweep_after_s=0)
    await committed(engine, table, 3, relay)

    assert await relay.relay_handed_over() == 0
    assert relay.left_to_sweep == 3
    assert await relay.delete_published(force=True) == 0
    with pytest.raises(ChannelInvalidStateError):
        await relay.sweep()
    assert await rows_left(engine, table) == 3


async def test_a_running_relay_publishes_at_once_and_deletes_soon_after(
    outbox: tuple[AsyncEngine, Table], broker: Broker, heartbeats: AbstractQueue
) -> None:
    engine, table = outbox
    relay = relay_on(engine, table, broker, poll_interval=3600, delete_every_s=0.05)
    task = asyncio.create_task(relay.run())
    try:
        event_ids = await committed(engine, table, 3, relay)
        assert await received(heartbeats, 3) == [str(event_id) for event_id in event_ids]
        async with asyncio.timeout(10):
            while await rows_left(engine, table):  # noqa: ASYNC110 - the table is what it waits for
                await asyncio.sleep(0.02)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_stopped_relay_publishes_and_deletes_what_it_holds(
    outbox: tuple[AsyncEngine, Table], broker: Broker, heartbeats: AbstractQueue
) -> None:
    engine, table = outbox
    # Deletions far apart: only the stop deletes.
    relay = relay_on(engine, table, broker, poll_interval=3600, delete_every_s=3600)
    task = asyncio.create_task(relay.run())
    event_ids = await committed(engine, table, 2, relay)
    assert await received(heartbeats, 2) == [str(event_id) for event_id in event_ids]
    assert await rows_left(engine, table) == 2
    event_ids = await committed(engine, table, 1, relay)  # handed over, then stopped at once
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert await received(heartbeats, 1) == [str(event_ids[-1])]
    assert await rows_left(engine, table) == 0


async def test_handed_over_and_swept_rows_are_the_same_cloudevents(
    outbox: tuple[AsyncEngine, Table], broker: Broker, heartbeats: AbstractQueue
) -> None:
    """The two ways out publish what the table holds: one event, handed over, and the same
    row read back by the sweep (as after a crash before its deletion)."""
    engine, table = outbox
    relay = relay_on(engine, table, broker, sweep_after_s=0)
    await committed(engine, table, 1, relay)
    assert await relay.relay_handed_over() == 1
    (handed,) = await received_events(heartbeats, 1)
    assert await relay.sweep() == 1
    (swept,) = await received_events(heartbeats, 1)

    assert handed == swept
    assert handed["type"] == StationHeartbeat.cloudevent_type()
    assert handed["subject"] == "RELAY"
    assert handed["data"]["connection_id"] == "0"
