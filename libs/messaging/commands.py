"""Commands to charge points over ``opencpms.commands`` (ARCHITECTURE §3).

RabbitMQ is the routing table: each gateway node has one exclusive queue and binds a station's
id to it while it holds that station's websocket. A command is published ``mandatory`` with the
station id as routing key, so it reaches the node holding the station, or comes back at once
when no node does (the station is offline).

The same routing tells a node that one of its stations connected to another node: the new node
sends a ``station.connected`` notice with the station id as routing key, which reaches only the
nodes bound to that station (itself among them). An event every node consumed cost each node
every connect of the whole fleet (nodes times stations deliveries); now it is one per connect.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustQueue,
)

from opencpms_contracts.commands import CommandAnswer, StationCommand
from opencpms_contracts.stations import StationConnected
from opencpms_messaging.received import Received, consume
from opencpms_messaging.rpc import RpcClient, error_body, publish_reply
from opencpms_messaging.rpc_errors import RpcNoRouteError, StationOfflineError

log = logging.getLogger(__name__)

COMMAND_MESSAGE_TYPE = "station.command"
# Beyond the station's own time: the gateway needs a moment to translate and to reply.
REPLY_MARGIN_S = 5.0

NOTICE_MESSAGE_TYPE = StationConnected.event_type

CommandHandler = Callable[[StationCommand], Awaitable[CommandAnswer | None]]
NoticeHandler = Callable[[StationConnected], Awaitable[None]]


class StationCommander:
    """Sends commands to stations, whichever gateway node holds them."""

    def __init__(self, rpc: RpcClient, exchange: AbstractExchange) -> None:
        self._rpc = rpc
        self._exchange = exchange

    async def send(self, command: StationCommand) -> CommandAnswer:
        """The station's answer; raises :class:`StationOfflineError`, ``RpcTimeoutError``,
        ``StationCallError``, ``NotSupportedError`` or ``InvalidRequestError``."""
        try:
            body = await self._rpc.request(
                self._exchange,
                command.station_id,
                command,
                message_type=COMMAND_MESSAGE_TYPE,
                timeout=command.timeout_s + REPLY_MARGIN_S,
                unroutable=f"{command.station_id} is not connected",
            )
        except RpcNoRouteError as exc:
            raise StationOfflineError(exc.message) from None
        return CommandAnswer.model_validate_json(body)


class CommandQueue:
    """A gateway node's command queue and the bindings of the stations it holds.

    The handler returns ``None`` for a command this node must not answer: during a reconnect
    to another node both nodes are bound for a moment, and only the one holding the station
    replies, so a command is carried out once.

    The node keeps the set of stations it has bound and binds them again after the broker
    connection was restored. aio-pika could do that itself, but it scans all of a queue's
    bindings on every unbind: 5,000 stations leaving a node at once cost it 12 s of CPU.
    """

    def __init__(
        self,
        channel: AbstractChannel,
        exchange: AbstractExchange,
        *,
        node_id: str,
        handler: CommandHandler,
        on_notice: NoticeHandler | None = None,
        prefetch: int = 1000,
    ) -> None:
        self._channel = channel
        self._exchange = exchange
        self._handler = handler
        self._on_notice = on_notice
        self._prefetch = prefetch
        self.queue_name = f"gateway.commands.{node_id}"
        self._queue: AbstractQueue | None = None
        self._bound: set[str] = set()
        self._rebinding: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        # Each command waits for a station's answer, so prefetch bounds how many stations this
        # node can be waiting on at once, not throughput.
        await self._channel.set_qos(prefetch_count=self._prefetch)
        self._queue = await self._channel.declare_queue(
            self.queue_name, exclusive=True, auto_delete=True
        )
        await consume(self._queue, self._on_command)
        if isinstance(self._channel, AbstractRobustChannel):
            self._channel.reopen_callbacks.add(self._on_reopen)

    async def bind(self, station_id: str) -> None:
        self._bound.add(station_id)
        await self._bind(station_id)

    async def announce(self, notice: StationConnected) -> None:
        """Sends ``notice`` to the nodes bound to its station, this one included once it has
        bound the station: the order in which a node gets its own notice and the others' tells
        which connection is the newer. Transient and not mandatory: it matters only to a node
        holding the station now, and no node may hold it."""
        await self._exchange.publish(
            aio_pika.Message(
                body=notice.model_dump_json().encode(),
                content_type="application/json",
                type=NOTICE_MESSAGE_TYPE,
                delivery_mode=aio_pika.DeliveryMode.NOT_PERSISTENT,
            ),
            routing_key=notice.station_id,
        )

    async def unbind(self, station_id: str) -> None:
        assert self._queue is not None, "start() first"
        self._bound.discard(station_id)
        await self._queue.unbind(self._exchange, routing_key=station_id)

    async def _bind(self, station_id: str) -> None:
        assert self._queue is not None, "start() first"
        if isinstance(self._queue, AbstractRobustQueue):
            await self._queue.bind(self._exchange, routing_key=station_id, robust=False)
        else:
            await self._queue.bind(self._exchange, routing_key=station_id)

    def _on_reopen(self, _channel: object) -> None:
        # Called while the channel is being restored: the binds must wait until it is.
        task = asyncio.create_task(self._bind_again(), name=f"rebind-{self.queue_name}")
        self._rebinding.add(task)
        task.add_done_callback(self._rebinding.discard)

    async def _bind_again(self) -> None:
        stations = sorted(self._bound)
        log.info("broker connection restored; binding %d stations again", len(stations))
        for station_id in stations:
            if station_id not in self._bound:  # left meanwhile; its unbind already ran
                continue
            try:
                await self._bind(station_id)
            except Exception:
                log.exception("could not bind %s again; commands to it fail", station_id)

    async def _on_command(self, message: Received) -> None:
        if message.type == NOTICE_MESSAGE_TYPE:
            await self._notice(message)
            return
        try:
            command = StationCommand.model_validate_json(message.body)
            answer = await self._handler(command)
            if answer is None:
                await message.ack()
                return
            body, status = answer.model_dump_json().encode(), "ok"
        except Exception as exc:  # every failure becomes an error reply, never a lost command
            error = error_body(exc)
            if error.code == "internal":
                log.exception("command for %s failed", message.routing_key)
            body, status = error.model_dump_json().encode(), "error"
        await publish_reply(self._channel, message, body, status)
        await message.ack()

    async def _notice(self, message: Received) -> None:
        try:
            if self._on_notice is not None:
                await self._on_notice(StationConnected.model_validate_json(message.body))
        except Exception:  # a notice is advice: the stale socket still dies by ping timeout
            log.exception("could not act on the connect notice for %s", message.routing_key)
        await message.ack()
