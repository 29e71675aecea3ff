"""Messages taken from a queue, handed to OpenCPMS's consumers without aio-pika's per-message
object.

aio-pika wraps every delivery in an ``IncomingMessage`` (fifteen attributes, each set through
a checking ``__setattr__``, the expiration and timestamp decoded whether read or not) and then
starts a second task to run the callback in: about 60 µs of CPU a delivery on this machine,
as much as decoding the message's JSON. Each station message is delivered two or three times
on its way through the system (the request to its service, the reply to the gateway, the
events to their consumers). A :class:`Received` reads the few properties the consumers use
from aiormq's message when they ask, and the callback runs in the task aiormq started.

Queues of channels opened on :func:`opencpms_messaging.connection.connect` are
:class:`ReceivingQueue`: their consumers keep aio-pika's robustness (restored after a broker
restart) and get :class:`Received` messages. Subscribe with :func:`consume`; ``queue.iterator()``
on such a queue yields them too.

One way back to aio-pika's messages remains: a consumer the broker cancelled (its queue
deleted, a cluster node lost) is subscribed again by aio-pika's channel recovery through its
own ``Queue.consume``, and its callback then gets ``IncomingMessage``s. They have every
attribute and method a ``Received`` has, so the consumers here go on working, at aio-pika's
cost per message, until the next reconnect.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import aio_pika
from aio_pika.abc import AbstractQueue, ConsumerTag, TimeoutType
from aiormq.abc import DeliveredMessage

ReceivedCallback = Callable[["Received"], Awaitable[Any]]


class MessageSettledError(Exception):
    """A message was acknowledged, rejected or requeued twice, or taken without acks."""


class Received:
    """A delivered message: what consumers read of it, and its one settlement (``ack``,
    ``nack`` or ``reject``) on the channel it came on.

    It counts as settled once a settlement is tried, before the frame is sent: a second one,
    concurrent or after a failed send, raises here rather than reach the broker, which would
    close the channel for an unknown delivery tag (a failed send means a closed channel,
    whose deliveries the broker gives to another consumer anyway)."""

    __slots__ = ("_message", "_settled")

    def __init__(self, message: DeliveredMessage, *, no_ack: bool) -> None:
        self._message = message
        self._settled = no_ack  # the broker counts it as settled once sent

    @property
    def body(self) -> bytes:
        return self._message.body

    @property
    def headers(self) -> dict[str, Any]:
        return self._message.header.properties.headers or {}

    @property
    def correlation_id(self) -> str | None:
        return self._message.header.properties.correlation_id

    @property
    def reply_to(self) -> str | None:
        return self._message.header.properties.reply_to

    @property
    def content_type(self) -> str | None:
        return self._message.header.properties.content_type

    @property
    def type(self) -> str | None:
        return self._message.header.properties.message_type

    @property
    def routing_key(self) -> str | None:
        return self._message.routing_key

    @property
    def redelivered(self) -> bool:
        return bool(self._message.redelivered)

    # ``multiple`` as aio-pika's messages take it (its queue iterator requeues what it holds
    # with ``nack(requeue=True, multiple=False)``).
    async def ack(self, multiple: bool = False) -> None:
        await self._message.channel.basic_ack(self._take_delivery_tag(), multiple=multiple)

    async def nack(self, multiple: bool = False, requeue: bool = True) -> None:
        await self._message.channel.basic_nack(
            self._take_delivery_tag(), multiple=multiple, requeue=requeue
        )

    async def reject(self, *, requeue: bool = False) -> None:
        await self._message.channel.basic_reject(self._take_delivery_tag(), requeue=requeue)

    def _take_delivery_tag(self) -> int:
        tag = self._message.delivery_tag
        if self._settled or tag is None:
            raise MessageSettledError(f"message {tag} was taken without acks or settled before")
        self._settled = True
        return tag


async def _deliver(callback: ReceivedCallback, no_ack: bool, message: DeliveredMessage) -> None:
    await callback(Received(message, no_ack=no_ack))


class ReceivingQueue(aio_pika.RobustQueue):
    """aio-pika's robust queue whose consumers get :class:`Received` messages, also after
    a reconnect restored them (``RobustQueue.restore`` subscribes again through here)."""

    async def consume(  # type: ignore[override]
        self,
        callback: ReceivedCallback,
        no_ack: bool = False,
        exclusive: bool = False,
        arguments: dict[str, Any] | None = None,
        consumer_tag: ConsumerTag | None = None,
        timeout: TimeoutType = None,
        robust: bool = True,
    ) -> ConsumerTag:
        channel = await self.channel.get_underlay_channel()
        subscribed = await channel.basic_consume(
            queue=self.name,
            consumer_callback=partial(_deliver, callback, no_ack),
            exclusive=exclusive,
            no_ack=no_ack,
            arguments=arguments,
            consumer_tag=consumer_tag,
            timeout=timeout,
        )
        tag = subscribed.consumer_tag
        if tag is None:
            raise RuntimeError(f"the broker gave no consumer tag for {self.name}")
        if robust:
            # What RobustQueue keeps to subscribe again after a reconnect.
            self._consumers[tag] = {
                "callback": callback,
                "no_ack": no_ack,
                "exclusive": exclusive,
                "arguments": arguments,
            }
        return tag


class ReceivingChannel(aio_pika.RobustChannel):
    QUEUE_CLASS = ReceivingQueue


async def consume(
    queue: AbstractQueue, callback: ReceivedCallback, *, no_ack: bool = False
) -> ConsumerTag:
    """Subscribes ``callback`` to ``queue``, a queue of a channel of ``connection.connect``."""
    if not isinstance(queue, ReceivingQueue):
        raise TypeError(f"{queue!r} is not on a connection opened by opencpms_messaging.connect")
    return await queue.consume(callback, no_ack=no_ack)
