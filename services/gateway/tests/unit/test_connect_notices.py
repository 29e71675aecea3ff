"""What a node does when it hears that one of its stations connected somewhere: the order of
the notices, as the broker routed them, decides which connection is the newer, never the
nodes' clocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from opencpms_contracts.stations import StationConnected
from opencpms_gateway.admission import Admission
from opencpms_gateway.connections import ConnectionRegistry
from opencpms_gateway.router import StationState
from opencpms_gateway.session import CLOSE_REPLACED, SessionOptions

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@dataclass
class HeldSession:
    station_id: str
    connection_id: str
    closed: list[int] = field(default_factory=list)

    @property
    def state(self) -> StationState:
        return StationState(
            station_id=self.station_id, version="1.6", connection_id=self.connection_id
        )

    async def close(self, code: int, reason: str) -> None:
        self.closed.append(code)


def node_holding(session: HeldSession) -> ConnectionRegistry:
    registry = ConnectionRegistry(
        node_id="here",
        routers={},
        backend=Any,  # type: ignore[arg-type]
        events=Any,  # type: ignore[arg-type]
        options=SessionOptions(frame_log=False, max_queued_calls=1),
        admission=Admission(max_starting=1),
    )
    registry.sessions[session.station_id] = session  # type: ignore[assignment]
    return registry


def notice(*, node_id: str, connection_id: str, at: datetime = T0) -> StationConnected:
    return StationConnected(
        station_id="CP-1",
        connection_id=connection_id,
        node_id=node_id,
        ocpp_version="1.6",
        connected_at=at,
    )


async def test_a_notice_after_this_nodes_own_closes_the_connection_here() -> None:
    held = HeldSession("CP-1", "c1")
    registry = node_holding(held)
    await registry.on_connect_notice(notice(node_id="here", connection_id="c1"))
    # The other node's clock runs behind: its connection still is the newer one.
    await registry.on_connect_notice(
        notice(node_id="there", connection_id="c2", at=T0 - timedelta(seconds=5))
    )
    assert held.closed == [CLOSE_REPLACED]
    assert registry.moved_away("CP-1")


async def test_a_notice_before_this_nodes_own_leaves_the_connection_here() -> None:
    # The other node announced first, so it gets this node's notice after its own and gives
    # way; this node's clock running behind changes nothing.
    held = HeldSession("CP-1", "c1")
    registry = node_holding(held)
    await registry.on_connect_notice(
        notice(node_id="there", connection_id="c2", at=T0 + timedelta(seconds=5))
    )
    await registry.on_connect_notice(notice(node_id="here", connection_id="c1"))
    assert held.closed == []
    assert not registry.moved_away("CP-1")


async def test_the_own_notice_of_a_replaced_connection_does_not_count() -> None:
    # The station reconnected to this node: c1 was replaced by c3 here before c1's notice came
    # back, so another node's notice still finds c3 not yet announced.
    held = HeldSession("CP-1", "c3")
    registry = node_holding(held)
    await registry.on_connect_notice(notice(node_id="here", connection_id="c1"))
    await registry.on_connect_notice(notice(node_id="there", connection_id="c2"))
    assert held.closed == []


async def test_notices_for_stations_not_held_change_nothing() -> None:
    held = HeldSession("CP-2", "c1")
    registry = node_holding(held)
    await registry.on_connect_notice(notice(node_id="here", connection_id="c1"))
    await registry.on_connect_notice(notice(node_id="there", connection_id="c2"))
    assert held.closed == []
