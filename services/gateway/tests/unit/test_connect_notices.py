"""What a node does when it hears that one of its stations connected to another node."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from opencpms_contracts.stations import StationConnected
from opencpms_gateway.connections import ConnectionRegistry
from opencpms_gateway.router import StationState
from opencpms_gateway.session import CLOSE_REPLACED, SessionOptions

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@dataclass
class HeldSession:
    station_id: str
    connected_at: datetime
    closed: list[int] = field(default_factory=list)

    @property
    def state(self) -> StationState:
        return StationState(station_id=self.station_id, version="1.6", connection_id="here")

    async def close(self, code: int, reason: str) -> None:
        self.closed.append(code)


@dataclass
class Announcements:
    sent: list[StationConnected] = field(default_factory=list)

    async def announce(self, notice: StationConnected) -> None:
        self.sent.append(notice)


def node_holding(session: HeldSession) -> tuple[ConnectionRegistry, Announcements]:
    registry = ConnectionRegistry(
        node_id="here",
        routers={},
        backend=Any,  # type: ignore[arg-type]
        events=Any,  # type: ignore[arg-type]
        options=SessionOptions(frame_log=False, max_queued_calls=1),
    )
    registry.sessions[session.station_id] = session  # type: ignore[assignment]
    announcements = Announcements()
    registry.commands = announcements  # type: ignore[assignment]
    return registry, announcements


def notice(*, node_id: str = "there", at: datetime, station_id: str = "CP-1") -> StationConnected:
    return StationConnected(
        station_id=station_id,
        connection_id="elsewhere",
        node_id=node_id,
        ocpp_version="1.6",
        connected_at=at,
    )


async def test_a_newer_connection_elsewhere_closes_the_one_here() -> None:
    held = HeldSession("CP-1", T0)
    registry, announcements = node_holding(held)
    await registry.on_connect_notice(notice(at=T0 + timedelta(seconds=1)))
    assert held.closed == [CLOSE_REPLACED]
    assert registry.moved_away("CP-1")
    assert announcements.sent == []


async def test_an_older_connection_elsewhere_is_told_that_this_one_is_newer() -> None:
    # Both nodes bound the station at the same moment and missed each other's first notice:
    # the newer one answers, so the older one still closes.
    held = HeldSession("CP-1", T0 + timedelta(seconds=1))
    registry, announcements = node_holding(held)
    await registry.on_connect_notice(notice(at=T0))
    assert held.closed == []
    assert not registry.moved_away("CP-1")
    [answer] = announcements.sent
    assert (answer.station_id, answer.node_id, answer.connected_at) == (
        "CP-1",
        "here",
        held.connected_at,
    )


async def test_own_notices_and_stations_not_held_change_nothing() -> None:
    held = HeldSession("CP-1", T0)
    registry, announcements = node_holding(held)
    await registry.on_connect_notice(notice(node_id="here", at=T0 + timedelta(seconds=1)))
    await registry.on_connect_notice(notice(station_id="CP-2", at=T0 + timedelta(seconds=1)))
    assert held.closed == []
    assert announcements.sent == []
