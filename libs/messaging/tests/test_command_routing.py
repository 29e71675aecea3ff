"""Command routing on the real broker: the binding of a station id is the routing table."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from opencpms_contracts.commands import ClearCache, CommandAnswer, StationCommand
from opencpms_contracts.stations import StationConnected
from opencpms_messaging.broker import Broker
from opencpms_messaging.commands import CommandQueue
from opencpms_messaging.rpc_errors import NotSupportedError, RpcError, StationOfflineError
from opencpms_messaging.testing import close_connections, temporary_vhost

pytestmark = pytest.mark.integration


class Node:
    """A gateway node as the routing sees it: which stations it holds and what it answered."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.holds: set[str] = set()
        self.answered: list[str] = []
        self.notices: list[StationConnected] = []
        self._arrived = asyncio.Condition()
        self.queue: CommandQueue | None = None

    async def notice(self, notice: StationConnected) -> None:
        async with self._arrived:
            self.notices.append(notice)
            self._arrived.notify_all()

    async def heard(self, count: int) -> list[str]:
        """The stations of the notices, once ``count`` arrived."""
        async with asyncio.timeout(10), self._arrived:
            await self._arrived.wait_for(lambda: len(self.notices) >= count)
        return [n.station_id for n in self.notices]

    async def handle(self, command: StationCommand) -> CommandAnswer | None:
        if command.station_id not in self.holds:
            return None
        if command.station_id.startswith("OLD-"):
            raise NotSupportedError("clear_cache is not in this version")
        self.answered.append(command.station_id)
        return CommandAnswer(
            station_id=command.station_id,
            ocpp_version="1.6",
            action="ClearCache",
            status="Accepted",
            data={"node": self.name},
        )

    async def take(self, station_id: str) -> None:
        assert self.queue is not None
        self.holds.add(station_id)
        await self.queue.bind(station_id)

    async def drop(self, station_id: str) -> None:
        assert self.queue is not None
        self.holds.discard(station_id)
        await self.queue.unbind(station_id)


@pytest.fixture
async def nodes(amqp_url: str) -> AsyncIterator[tuple[Node, Node]]:
    brokers, pair = [], []
    for name in ("a", "b"):
        node = Node(name)
        broker = await Broker.open(amqp_url, name=f"node-{name}", source="/tests")
        node.queue = await broker.command_queue(
            f"test-{name}-{uuid.uuid4().hex[:6]}", node.handle, on_notice=node.notice
        )
        await node.queue.start()
        brokers.append(broker)
        pair.append(node)
    yield pair[0], pair[1]
    for broker in brokers:
        await broker.close()


def command(station_id: str) -> StationCommand:
    return StationCommand(station_id=station_id, command=ClearCache(), timeout_s=5)


async def test_command_reaches_the_node_holding_the_station(broker, nodes):
    a, b = nodes
    await a.take("CP-A")
    await b.take("CP-B")
    commander = await broker.commander()
    assert (await commander.send(command("CP-A"))).data == {"node": "a"}
    assert (await commander.send(command("CP-B"))).data == {"node": "b"}
    assert a.answered == ["CP-A"]
    assert b.answered == ["CP-B"]


async def test_unbound_station_is_offline_at_once(broker, nodes):
    commander = await broker.commander()
    with pytest.raises(StationOfflineError, match="not connected"):
        await commander.send(command("CP-NOWHERE"))


async def test_station_moved_to_another_node_is_commanded_there_once(broker, nodes):
    a, b = nodes
    await a.take("CP-M")
    commander = await broker.commander()
    assert (await commander.send(command("CP-M"))).data == {"node": "a"}
    # Reconnected to b; a still has its binding until it notices (both are bound now).
    a.holds.discard("CP-M")
    await b.take("CP-M")
    assert (await commander.send(command("CP-M"))).data == {"node": "b"}
    await a.drop("CP-M")
    assert (await commander.send(command("CP-M"))).data == {"node": "b"}
    assert a.answered == ["CP-M"]
    assert b.answered == ["CP-M", "CP-M"]


async def test_a_connect_notice_reaches_only_the_nodes_bound_to_the_station(broker, nodes):
    a, b = nodes
    await a.take("CP-N")
    await a.take("CP-OTHER")
    notice = StationConnected(
        station_id="CP-N",
        connection_id="c2",
        node_id="b",
        ocpp_version="1.6",
        connected_at=datetime.now(UTC),
    )
    assert b.queue is not None
    await b.queue.announce(notice)  # b is not bound to the station yet: only a hears of it
    assert await a.heard(1) == ["CP-N"]
    assert a.notices == [notice]
    # Commands to the station still go where they did; the notice was not taken for one.
    commander = await broker.commander()
    assert (await commander.send(command("CP-N"))).data == {"node": "a"}
    assert b.notices == []
    # A notice for a station no node holds is dropped, not returned or queued.
    await b.queue.announce(notice.model_copy(update={"station_id": "CP-NOWHERE"}))
    await b.take("CP-N")
    await b.queue.announce(notice)
    assert await a.heard(2) == ["CP-N", "CP-N"]
    # b is bound now and gets its own notice back, ahead of one announced after it: the order
    # tells a node which connection is the newer.
    assert a.queue is not None
    await a.queue.announce(notice.model_copy(update={"node_id": "a"}))
    await b.heard(2)
    assert [n.node_id for n in b.notices] == ["b", "a"]


async def test_handler_errors_reach_the_caller_with_their_code(broker, nodes):
    a, _ = nodes
    await a.take("OLD-1")
    commander = await broker.commander()
    with pytest.raises(NotSupportedError, match="not in this version"):
        await commander.send(command("OLD-1"))


async def test_stations_are_bound_again_after_the_broker_connection_is_restored(amqp_url):
    async with temporary_vhost(amqp_url) as url:
        node = Node("a")
        node_broker = await Broker.open(url, name="node-a", source="/tests")
        caller = await Broker.open(url, name="caller", source="/tests")
        try:
            node.queue = await node_broker.command_queue("test-restored", node.handle)
            await node.queue.start()
            for station_id in ("CP-1", "CP-2", "CP-3"):
                await node.take(station_id)
            await node.drop("CP-3")
            commander = await caller.commander()
            await close_connections(url)

            deadline = asyncio.get_running_loop().time() + 30
            while True:
                try:
                    answer = await commander.send(command("CP-2"))
                    break
                except (StationOfflineError, RpcError):
                    if asyncio.get_running_loop().time() > deadline:
                        raise
                    await asyncio.sleep(0.5)
            assert answer.data == {"node": "a"}
            assert (await commander.send(command("CP-1"))).data == {"node": "a"}
            # A station that left before the failure stays unbound.
            with pytest.raises(StationOfflineError):
                await commander.send(command("CP-3"))
        finally:
            await caller.close()
            await node_broker.close()
