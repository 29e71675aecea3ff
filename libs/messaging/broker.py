"""One process's view of the broker: a robust connection, the exchanges, and a channel per role
(confirmed publishing, RPC calls, RPC serving, event consuming), so a slow consumer's flow
control never stalls a publisher."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from aio_pika.abc import AbstractChannel, AbstractRobustConnection

from opencpms_messaging.commands import (
    CommandHandler,
    CommandQueue,
    NoticeHandler,
    StationCommander,
)
from opencpms_messaging.connection import connect
from opencpms_messaging.consumer import EventConsumer
from opencpms_messaging.publisher import EventPublisher
from opencpms_messaging.rpc import RpcClient, RpcServer
from opencpms_messaging.rpc_batch import DEFAULT_MAX_BATCH, DEFAULT_MAX_IN_FLIGHT
from opencpms_messaging.topology import Exchanges, declare_exchanges

log = logging.getLogger(__name__)


@dataclass
class Broker:
    connection: AbstractRobustConnection
    exchanges: Exchanges
    publisher: EventPublisher
    name: str
    _rpc_client: RpcClient | None = None
    _rpc_exchanges: Exchanges | None = None
    _channels: list[AbstractChannel] = field(default_factory=list)
    _consumers: list[RpcServer | EventConsumer] = field(default_factory=list)

    @classmethod
    async def open(cls, url: str, *, name: str, source: str) -> Broker:
        """``name`` identifies the process to RabbitMQ; ``source`` is the CloudEvents source of
        everything it publishes (for example ``/opencpms/transactions``)."""
        connection = await connect(url, name=name)
        channel = await connection.channel(publisher_confirms=True)
        exchanges = await declare_exchanges(channel)
        broker = cls(
            connection=connection,
            exchanges=exchanges,
            publisher=EventPublisher(exchanges.events, source=source),
            name=name,
        )
        broker._channels.append(channel)
        return broker

    async def rpc_client(
        self, *, max_batch: int = DEFAULT_MAX_BATCH, max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    ) -> RpcClient:
        """The process's RPC client; the batching limits (rpc_batch) apply to the first call
        that creates it."""
        if self._rpc_client is None:
            channel = await self.connection.channel(publisher_confirms=True, on_return_raises=True)
            self._channels.append(channel)
            exchanges = await declare_exchanges(channel)
            client = RpcClient(
                channel,
                exchanges.rpc,
                name=self.name,
                max_batch=max_batch,
                max_in_flight=max_in_flight,
            )
            await client.start()
            self._rpc_client, self._rpc_exchanges = client, exchanges
        return self._rpc_client

    async def commander(self) -> StationCommander:
        """Sends commands to stations; shares the RPC client's reply queue and channel."""
        client = await self.rpc_client()
        assert self._rpc_exchanges is not None
        return StationCommander(client, self._rpc_exchanges.commands)

    async def command_queue(
        self,
        node_id: str,
        handler: CommandHandler,
        *,
        on_notice: NoticeHandler | None = None,
        prefetch: int = 1000,
    ) -> CommandQueue:
        """A gateway node's command queue (call ``start()`` on it); ``on_notice`` hears of
        its stations connecting to other nodes."""
        channel = await self.connection.channel(publisher_confirms=False)
        self._channels.append(channel)
        exchanges = await declare_exchanges(channel)
        return CommandQueue(
            channel,
            exchanges.commands,
            node_id=node_id,
            handler=handler,
            on_notice=on_notice,
            prefetch=prefetch,
        )

    async def rpc_server(
        self, service: str, *, prefetch: int = 64, lane: str | None = None
    ) -> RpcServer:
        """The service's RPC consumer on its own channel; a ``lane`` is a second queue
        (``rpc.<service>.<lane>``) for operations that must not wait behind the others."""
        channel = await self.connection.channel(publisher_confirms=False)
        self._channels.append(channel)
        exchanges = await declare_exchanges(channel)
        server = RpcServer(channel, exchanges.rpc, service=service, prefetch=prefetch, lane=lane)
        self._consumers.append(server)
        return server

    async def event_consumer(
        self,
        queue_name: str,
        *,
        queue_type: str = "quorum",
        prefetch: int = 64,
        delivery_limit: int = 5,
        ephemeral: bool = False,
    ) -> EventConsumer:
        channel = await self.connection.channel(publisher_confirms=False)
        self._channels.append(channel)
        exchanges = await declare_exchanges(channel)
        consumer = EventConsumer(
            channel,
            exchanges.events,
            exchanges.dead_letter,
            queue_name=queue_name,
            queue_type=queue_type,
            prefetch=prefetch,
            delivery_limit=delivery_limit,
            ephemeral=ephemeral,
        )
        self._consumers.append(consumer)
        return consumer

    async def stop_consuming(self, *, timeout: float = 10.0) -> None:
        """Stops every RPC server and event consumer made here from taking work and waits, up to
        ``timeout``, for what they took: a service stops them before its outbox relay, so the
        events of that work are published as it stops rather than at the next sweep. A broker
        already gone has nothing to cancel; its unacknowledged deliveries go to other consumers."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                results = await asyncio.gather(
                    *(consumer.stop() for consumer in self._consumers), return_exceptions=True
                )
                for result in results:
                    if isinstance(result, Exception):
                        log.warning("could not stop a consumer cleanly: %s", result)

    async def close(self) -> None:
        await self.connection.close()
