"""Composition root of a gateway node."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from websockets.asyncio.server import Server, serve

from opencpms_gateway import actions_v2, actions_v16
from opencpms_gateway.admission import Admission
from opencpms_gateway.backend import Backend, EventLog
from opencpms_gateway.commands import CommandDispatcher
from opencpms_gateway.connections import ConnectionRegistry
from opencpms_gateway.handshake import Handshake
from opencpms_gateway.ocpp_schemas import schemas
from opencpms_gateway.router import ActionRouter
from opencpms_gateway.session import SessionOptions
from opencpms_gateway.settings import Settings
from opencpms_gateway.tls import server_tls_context
from opencpms_messaging.broker import Broker
from opencpms_messaging.topology import declare_exchanges

log = logging.getLogger(__name__)

ROUTERS: dict[str, ActionRouter] = {
    "1.6": actions_v16.router,
    "2.0.1": actions_v2.build_router("2.0.1"),
    "2.1": actions_v2.build_router("2.1"),
}


@dataclass
class GatewayNode:
    broker: Broker
    server: Server
    registry: ConnectionRegistry
    events: EventLog

    @property
    def port(self) -> int:
        return int(self.server.sockets[0].getsockname()[1])

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await stop.wait()
        finally:
            await self.close()

    async def close(self) -> None:
        self.server.close(close_connections=False)
        await self.registry.close_all()
        await self.server.wait_closed()
        await self.events.stop()
        await self.broker.close()


async def build(settings: Settings) -> GatewayNode:
    for version in ROUTERS:
        schemas(version)  # compile the validators now, not on a station's first frame
    broker = await Broker.open(
        settings.amqp_url.get_secret_value(),
        name=f"gateway-{settings.node_id}",
        source=f"/opencpms/gateway/{settings.node_id}",
    )
    rpc = await broker.rpc_client(
        max_batch=settings.rpc_max_batch, max_in_flight=settings.rpc_max_in_flight
    )
    backend = Backend(rpc, broker.publisher, timeout=settings.rpc_timeout_s)
    log_channel = await broker.connection.channel(publisher_confirms=False)
    events = EventLog(
        (await declare_exchanges(log_channel)).events,
        source=broker.publisher.source,
        node_id=settings.node_id,
        frame_wait_s=settings.frame_log_wait_s,
    )
    events.start()
    admission = Admission(
        max_starting=settings.max_starting,
        grace_s=settings.start_grace_s,
        wait_s=settings.admission_wait_s,
    )
    registry = ConnectionRegistry(
        node_id=settings.node_id,
        routers=ROUTERS,
        backend=backend,
        events=events,
        options=SessionOptions(
            frame_log=settings.frame_log,
            max_queued_calls=settings.max_queued_calls,
            authorization_reuse_s=settings.authorization_reuse_s,
        ),
        admission=admission,
    )
    dispatcher = CommandDispatcher(registry.session_of, registry.moved_away)
    registry.commands = await broker.command_queue(
        settings.node_id, dispatcher.handle, on_notice=registry.on_connect_notice
    )
    await registry.commands.start()
    server = await serve(
        registry.serve,
        settings.host,
        settings.port,
        process_request=Handshake(backend, subprotocols=registry.subprotocols, admission=admission),
        subprotocols=registry.subprotocols,  # type: ignore[arg-type]
        ssl=server_tls_context(settings),
        max_size=settings.max_frame_bytes,
        ping_interval=settings.ping_interval_s,
        ping_timeout=settings.ping_timeout_s,
        # permessage-deflate costs tens of KiB per connection; OCPP frames are small.
        compression=None,
        open_timeout=settings.open_timeout_s,
        backlog=settings.listen_backlog,
    )
    node = GatewayNode(broker=broker, server=server, registry=registry, events=events)
    log.info(
        "gateway %s listening on port %d (%s)",
        settings.node_id,
        node.port,
        ", ".join(registry.subprotocols),
    )
    return node
