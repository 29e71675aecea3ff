"""Stopping a service's consumers on a real broker: work already taken is finished and
answered, nothing new is taken, and the stop does not wait past its bound."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from opencpms_contracts.base import Empty, Operation
from opencpms_contracts.stations import StationHeartbeat
from opencpms_messaging.broker import Broker
from opencpms_messaging.cloudevents_codec import EventEnvelope
from opencpms_messaging.rpc_errors import RpcTimeoutError

pytestmark = pytest.mark.integration

SLOW = Operation(routing_key="stoptest.slow", request=Empty, reply=Empty, summary="held open")


@pytest.fixture
async def service_broker(amqp_url: str) -> AsyncIterator[Broker]:
    broker = await Broker.open(amqp_url, name="stoptest", source="/opencpms/tests")
    yield broker
    await broker.close()


async def test_a_request_taken_before_the_stop_is_answered_and_no_other_is_taken(
    service_broker: Broker, broker: Broker
) -> None:
    began, release = asyncio.Event(), asyncio.Event()
    handled = 0

    async def slow(request: Empty) -> Empty:
        nonlocal handled
        began.set()
        await release.wait()
        handled += 1
        return Empty()

    server = await service_broker.rpc_server("stoptest")
    server.register(SLOW, slow)
    await server.start()
    client = await broker.rpc_client()

    taken = asyncio.create_task(client.call(SLOW, Empty(), timeout=10))
    await asyncio.wait_for(began.wait(), 5)
    stopping = asyncio.create_task(service_broker.stop_consuming())
    await asyncio.sleep(0.2)
    assert not stopping.done(), "the stop waits for the request it took"
    release.set()
    await asyncio.wait_for(stopping, 5)
    assert await taken == Empty()

    # Stopped: a new request waits in the queue for another replica, unanswered here.
    with pytest.raises(RpcTimeoutError):
        await client.call(SLOW, Empty(), timeout=0.5)
    assert handled == 1


async def test_an_event_handler_that_never_ends_holds_the_stop_only_until_its_bound(
    service_broker: Broker, broker: Broker
) -> None:
    began = asyncio.Event()

    async def stuck(event: StationHeartbeat, envelope: EventEnvelope) -> None:
        began.set()
        await asyncio.Event().wait()

    consumer = await service_broker.event_consumer(
        "stoptest.events", queue_type="classic", ephemeral=True
    )
    consumer.on(StationHeartbeat, stuck)
    await consumer.start()
    await broker.publisher.publish(
        StationHeartbeat(station_id="STOP-1", connection_id="c", at=datetime.now(UTC)),
        subject="STOP-1",
    )
    await asyncio.wait_for(began.wait(), 5)
    async with asyncio.timeout(5):
        await service_broker.stop_consuming(timeout=0.3)
