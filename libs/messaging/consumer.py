"""Consuming events from ``opencpms.events`` with ack after commit and a dead-letter queue.

Failure policy (STYLE rule 7): a message that cannot be decoded, or whose handler raises
:class:`PoisonMessageError`, goes to the dead-letter queue at once; any other failure is taken as
transient and the message is redelivered, up to ``delivery_limit`` times on a quorum queue (the
broker counts), after which it is dead-lettered too. Nothing is dropped silently.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

from opencpms_contracts.base import Event
from opencpms_messaging.cloudevents_codec import EventEnvelope, decode_event
from opencpms_messaging.deliveries import Deliveries
from opencpms_messaging.received import Received, consume

log = logging.getLogger(__name__)

EventT = TypeVar("EventT", bound=Event)
EventHandler = Callable[[Any, EventEnvelope], Awaitable[None]]


class PoisonMessageError(Exception):
    """Raised by a handler for a message that will never succeed; it is dead-lettered."""


class EventConsumer:
    """One durable queue bound to the event types it handles.

    Consumers of the same ``queue_name`` compete (replicas share the load); give each
    independent subscriber its own queue name. Handlers must be idempotent: delivery is at
    least once.
    """

    def __init__(
        self,
        channel: AbstractChannel,
        events_exchange: AbstractExchange,
        dead_letter_exchange: AbstractExchange,
        *,
        queue_name: str,
        queue_type: str = "quorum",
        delivery_limit: int = 5,
        prefetch: int = 64,
        ephemeral: bool = False,
    ) -> None:
        self._channel = channel
        self._events = events_exchange
        self._dead_letter = dead_letter_exchange
        self.queue_name = queue_name
        self._queue_type = queue_type
        self._delivery_limit = delivery_limit
        self._prefetch = prefetch
        self._ephemeral = ephemeral
        self._handlers: dict[str, EventHandler] = {}
        self._routing_keys: set[str] = set()
        self._queue: AbstractQueue | None = None
        self._deliveries = Deliveries()

    def on(
        self, event_cls: type[EventT], handler: Callable[[EventT, EventEnvelope], Awaitable[None]]
    ) -> None:
        self._handlers[event_cls.cloudevent_type()] = handler
        self._routing_keys.add(event_cls.routing_key())

    async def start(self, *, bound: bool = True) -> None:
        """Declares the queue and consumes it; with ``bound=False`` nothing reaches it until
        :meth:`bind` (a queue only worth filling while someone is listening)."""
        await self._channel.set_qos(prefetch_count=self._prefetch)
        if self._ephemeral:
            # One process's private view (a gateway node following connections): it lives and
            # dies with the connection, and nothing in it is worth dead-lettering.
            queue = await self._channel.declare_queue(
                self.queue_name, exclusive=True, auto_delete=True
            )
        else:
            queue = await self._declare_durable_queue()
        self._queue = queue
        if bound:
            await self.bind()
        self._deliveries.consuming(queue, await consume(queue, self._on_message))

    async def stop(self) -> None:
        """Takes no more events and returns once those taken are handled."""
        await self._deliveries.stop()

    async def bind(self) -> None:
        """Routes the handled event types to the queue (idempotent)."""
        assert self._queue is not None, "start() first"
        for routing_key in sorted(self._routing_keys):
            await self._queue.bind(self._events, routing_key=routing_key)

    async def unbind(self) -> None:
        """Stops routing events to the queue; what is in it is still consumed."""
        assert self._queue is not None, "start() first"
        for routing_key in sorted(self._routing_keys):
            await self._queue.unbind(self._events, routing_key=routing_key)

    async def _declare_durable_queue(self) -> AbstractQueue:
        dead_queue = await self._channel.declare_queue(
            f"{self.queue_name}.dead", durable=True, arguments={"x-queue-type": self._queue_type}
        )
        await dead_queue.bind(self._dead_letter, routing_key=self.queue_name)
        arguments: dict[str, Any] = {
            "x-queue-type": self._queue_type,
            "x-dead-letter-exchange": self._dead_letter.name,
            "x-dead-letter-routing-key": self.queue_name,
        }
        if self._queue_type == "quorum":
            arguments["x-delivery-limit"] = self._delivery_limit
        return await self._channel.declare_queue(self.queue_name, durable=True, arguments=arguments)

    async def _on_message(self, message: Received) -> None:
        with self._deliveries.handling():
            await self._handle(message)

    async def _handle(self, message: Received) -> None:
        try:
            envelope, event = decode_event(message.body, message.content_type)
            handler = self._handlers.get(envelope.type)
            if handler is None:
                raise PoisonMessageError(f"{self.queue_name} has no handler for {envelope.type}")
        except (ValueError, PoisonMessageError) as exc:
            log.error("dead-lettering undecodable message on %s: %s", self.queue_name, exc)
            await message.reject(requeue=False)
            return
        try:
            await handler(event, envelope)
        except PoisonMessageError as exc:
            log.error("dead-lettering %s %s: %s", envelope.type, envelope.id, exc)
            await message.reject(requeue=False)
        except Exception:
            if self._ephemeral:
                log.exception("dropping %s %s", envelope.type, envelope.id)
                await message.reject(requeue=False)
            elif self._queue_type != "quorum" and message.redelivered:
                # Classic queues count no deliveries; a second failure is the bound.
                log.exception("dead-lettering %s %s after retry", envelope.type, envelope.id)
                await message.reject(requeue=False)
            else:
                log.exception("will retry %s %s", envelope.type, envelope.id)
                await message.nack(requeue=True)
        else:
            await message.ack()
