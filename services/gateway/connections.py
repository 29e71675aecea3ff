"""The live connections of this gateway node, and the rule that the newest connection of a
station wins (ARCHITECTURE §2): a station that reconnects while its old socket still looks open
gets through, and the old socket is closed, whichever node holds it.

Other nodes hear of a connection through a notice on the command exchange, routed by the
station id like a command, so only a node bound to the station gets it. Which connection is
the newer is decided by the order in which the broker routed the notices, not by the nodes'
clocks (which may disagree by seconds): a node binds the station before it announces, so its
own notice comes back to it, and a foreign notice that arrives after it was announced later
and wins. Of two nodes announcing at the same moment, each sees the other's notice on the
same side of its own, so exactly one gives way."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime

from websockets.asyncio.server import ServerConnection

from opencpms_contracts.stations import StationConnected, StationDisconnected
from opencpms_gateway.admission import Admission
from opencpms_gateway.authorizations import RecentAuthorizations
from opencpms_gateway.backend import Backend, EventLog
from opencpms_gateway.handshake import station_id_from_path
from opencpms_gateway.ocpp_schemas import schemas
from opencpms_gateway.router import ActionRouter, StationState
from opencpms_gateway.session import CLOSE_REPLACED, SessionOptions, StationSession
from opencpms_messaging.commands import CommandQueue

log = logging.getLogger(__name__)

SUBPROTOCOL_VERSIONS = {"ocpp1.6": "1.6", "ocpp2.0.1": "2.0.1", "ocpp2.1": "2.1"}


class ConnectionRegistry:
    def __init__(
        self,
        *,
        node_id: str,
        routers: dict[str, ActionRouter],
        backend: Backend,
        events: EventLog,
        options: SessionOptions,
        admission: Admission,
    ) -> None:
        self.node_id = node_id
        self._routers = routers
        self._backend = backend
        self._events = events
        self._options = options
        self._admission = admission
        self.sessions: dict[str, StationSession] = {}
        # Set by bootstrap once the node's command queue exists; bindings follow sessions.
        self.commands: CommandQueue | None = None
        # Stations whose connection here was closed because another node took them over.
        self._moved: set[str] = set()
        # Station -> the connection here whose own notice has come back from the broker.
        self._announced: dict[str, str] = {}

    @property
    def subprotocols(self) -> list[str]:
        """Newest first: websockets picks the first of these that the station offers."""
        order = ["ocpp2.1", "ocpp2.0.1", "ocpp1.6"]
        return [name for name in order if SUBPROTOCOL_VERSIONS[name] in self._routers]

    async def serve(self, websocket: ServerConnection) -> None:
        """The websockets connection handler; the handshake has authenticated the station."""
        station_id = station_id_from_path(websocket.request.path if websocket.request else "")
        version = SUBPROTOCOL_VERSIONS.get(websocket.subprotocol or "")
        if station_id is None or version is None:  # the handshake hook refused these already
            await websocket.close(1002, "no station id or subprotocol")
            return
        state = StationState(
            station_id=station_id,
            version=version,
            connection_id=uuid.uuid4().hex,
            authorizations=RecentAuthorizations(self._options.authorization_reuse_s),
        )
        # Starting until its first CALL is answered (admission.py): the place its handshake
        # was given, which lapses if no CALL comes within the grace period (a 1.6 station back
        # after a short network loss may wait for its next heartbeat).
        ticket = self._admission.take(websocket)
        session = StationSession(
            websocket,
            state=state,
            router=self._routers[version],
            schemas=schemas(version),
            backend=self._backend,
            events=self._events,
            options=self._options,
            on_first_call=ticket.keep if ticket is not None else None,
            on_first_answer=ticket.release if ticket is not None else None,
        )
        try:
            previous = self.sessions.get(station_id)
            self.sessions[station_id] = session
            self._moved.discard(station_id)
            if previous is not None:
                log.info("%s reconnected; closing its older connection", station_id)
                await previous.close(CLOSE_REPLACED, "replaced by a newer connection")
            remote = websocket.remote_address
            connected = StationConnected(
                station_id=station_id,
                connection_id=state.connection_id,
                node_id=self.node_id,
                ocpp_version=version,
                remote_address=f"{remote[0]}:{remote[1]}" if remote else None,
                connected_at=session.connected_at,
            )
            await asyncio.gather(self._bind_and_announce(connected), self._publish(connected))
            await session.run()
        finally:
            if ticket is not None:
                ticket.release(started=False)
            if self.sessions.get(station_id) is session:
                del self.sessions[station_id]
                self._announced.pop(station_id, None)
                await self._unbind(station_id)
            await self._publish(
                StationDisconnected(
                    station_id=station_id,
                    connection_id=state.connection_id,
                    node_id=self.node_id,
                    connected_at=session.connected_at,
                    disconnected_at=datetime.now(UTC),
                    close_code=websocket.close_code,
                    reason=websocket.close_reason or None,
                )
            )

    def session_of(self, station_id: str) -> StationSession | None:
        return self.sessions.get(station_id)

    def moved_away(self, station_id: str) -> bool:
        return station_id in self._moved

    async def _bind_and_announce(self, connected: StationConnected) -> None:
        # Bound first, so this node's own notice comes back to it: the order of that and other
        # nodes' notices decides which connection is the newer.
        if self.commands is None:
            return
        try:
            await self.commands.bind(connected.station_id)
        except Exception:  # the station is still served; only commands cannot reach it
            log.exception("could not bind %s to this node's command queue", connected.station_id)
        try:
            await self.commands.announce(connected)
        except Exception:  # another node's stale socket then dies by its ping timeout
            log.exception("could not announce %s to other nodes", connected.station_id)

    async def _unbind(self, station_id: str) -> None:
        if self.commands is None:
            return
        try:
            await self.commands.unbind(station_id)
        except Exception:
            log.exception("could not unbind %s from this node's command queue", station_id)

    async def _publish(self, event: StationConnected | StationDisconnected) -> None:
        try:
            await self._backend.publish(event, subject=event.station_id)
        except Exception:  # the station must be served even while the broker is away
            log.exception("could not publish %s for %s", event.routing_key(), event.station_id)

    async def on_connect_notice(self, notice: StationConnected) -> None:
        """A notice of a station connecting to some node, this one included: another node's
        notice that arrives after this node's own closes the connection here."""
        session = self.sessions.get(notice.station_id)
        if session is None:
            return
        current = session.state.connection_id
        if notice.node_id == self.node_id:
            if notice.connection_id == current:
                self._announced[notice.station_id] = current
            return
        if self._announced.get(notice.station_id) != current:
            return  # announced before ours: that node sees ours after its own and gives way
        log.info(
            "%s connected to node %s; closing the stale connection here",
            notice.station_id,
            notice.node_id,
        )
        self._moved.add(notice.station_id)
        await session.close(CLOSE_REPLACED, "replaced by a newer connection")

    async def close_all(self) -> None:
        await asyncio.gather(
            *(s.close(1001, "gateway shutting down") for s in list(self.sessions.values())),
            return_exceptions=True,
        )
