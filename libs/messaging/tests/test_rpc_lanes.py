"""RPC lanes on a real broker: an operation moved to a lane reaches the lane's queue only,
even where an earlier version left the service's main queue bound to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from opencpms_contracts.base import Empty, Operation
from opencpms_messaging.broker import Broker
from opencpms_messaging.received import Received
from opencpms_messaging.rpc import RpcServer

pytestmark = pytest.mark.integration

SLOW = Operation(routing_key="lanetest.slow", request=Empty, reply=Empty, summary="a lane's")
FAST = Operation(routing_key="lanetest.fast", request=Empty, reply=Empty, summary="the main's")


class _RecordingServer(RpcServer):
    def __init__(self, server: RpcServer) -> None:
        self.__dict__.update(server.__dict__)
        self.seen: list[str] = []

    async def _on_request(self, message: Received) -> None:
        self.seen.append(message.routing_key or "")
        await super()._on_request(message)


@pytest.fixture
async def service_broker(amqp_url: str) -> AsyncIterator[Broker]:
    broker = await Broker.open(amqp_url, name="lanetest", source="/opencpms/tests")
    yield broker
    await broker.close()


async def _answer(request: Empty) -> Empty:
    return Empty()


async def test_an_operation_moved_to_a_lane_reaches_only_the_lane(
    service_broker: Broker, broker: Broker
) -> None:
    # What an earlier version left behind: the main queue bound to both operations.
    channel = await broker.connection.channel()
    old = await channel.declare_queue("rpc.lanetest", durable=True)
    exchange = await channel.get_exchange("opencpms.rpc")
    for op in (SLOW, FAST):
        await old.bind(exchange, routing_key=op.routing_key)
    await channel.close()

    lane = await service_broker.rpc_server("lanetest", lane="slow")
    lane.register(SLOW, _answer)
    await lane.start()
    main = _RecordingServer(await service_broker.rpc_server("lanetest"))
    main.register(FAST, _answer)
    await main.start(served_elsewhere=[SLOW])
    assert (lane.queue_name, main.queue_name) == ("rpc.lanetest.slow", "rpc.lanetest")

    client = await broker.rpc_client()
    for _ in range(10):
        assert await client.call(SLOW, Empty(), timeout=5) == Empty()
    # Deliveries of one queue are in order: had any SLOW request reached the main queue, the
    # main server would have seen it before this one.
    assert await client.call(FAST, Empty(), timeout=5) == Empty()
    assert main.seen == ["lanetest.fast"]
