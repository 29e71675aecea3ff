"""Messages consumed without aio-pika's per-message object, over the real broker: what a
consumer reads of them, their one settlement, and a subscription that survives a dropped
connection."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest
from aio_pika.abc import AbstractQueue, AbstractRobustConnection

from opencpms_messaging.connection import connect
from opencpms_messaging.received import MessageSettledError, Received, consume
from opencpms_messaging.socket_writes import CoalescingTransportFactory

pytestmark = pytest.mark.integration


@pytest.fixture
async def connection(amqp_url: str) -> AsyncIterator[AbstractRobustConnection]:
    connection = await connect(amqp_url, name="received-test")
    yield connection
    await connection.close()


class _Inbox:
    """A queue of its own and what its consumer was given."""

    def __init__(self, queue: AbstractQueue) -> None:
        self.queue = queue
        self.messages: asyncio.Queue[Received] = asyncio.Queue()

    @classmethod
    async def consuming(
        cls, connection: AbstractRobustConnection, *, no_ack: bool = False
    ) -> _Inbox:
        channel = await connection.channel()
        inbox = cls(
            await channel.declare_queue(f"received-{uuid.uuid4().hex[:8]}", auto_delete=True)
        )
        await consume(inbox.queue, inbox.take, no_ack=no_ack)
        return inbox

    async def send(self, message: aio_pika.Message) -> None:
        await self.queue.channel.default_exchange.publish(message, self.queue.name)

    async def take(self, message: Received) -> None:
        await self.messages.put(message)

    async def next(self) -> Received:
        async with asyncio.timeout(10):
            return await self.messages.get()


async def test_a_consumer_reads_the_body_and_properties_and_settles_once(
    connection: AbstractRobustConnection,
) -> None:
    inbox = await _Inbox.consuming(connection)
    await inbox.send(
        aio_pika.Message(
            b'{"n": 1}',
            content_type="application/json",
            headers={"x-status": "ok"},
            correlation_id="c-1",
            reply_to="replies",
            type="test.thing",
        )
    )
    message = await inbox.next()
    assert isinstance(message, Received)
    assert message.body == b'{"n": 1}'
    assert message.headers == {"x-status": "ok"}
    assert (message.correlation_id, message.reply_to) == ("c-1", "replies")
    assert (message.content_type, message.type) == ("application/json", "test.thing")
    assert (message.routing_key, message.redelivered) == (inbox.queue.name, False)
    await message.ack()
    with pytest.raises(MessageSettledError):
        await message.ack()


async def test_a_requeued_message_comes_back_marked_redelivered(
    connection: AbstractRobustConnection,
) -> None:
    inbox = await _Inbox.consuming(connection)
    await inbox.send(aio_pika.Message(b"again"))
    first = await inbox.next()
    await first.nack(requeue=True)
    second = await inbox.next()
    assert (second.body, second.redelivered) == (b"again", True)
    await second.reject(requeue=False)
    with pytest.raises(MessageSettledError):
        await second.nack()


async def test_a_message_taken_without_acks_cannot_be_acked(
    connection: AbstractRobustConnection,
) -> None:
    inbox = await _Inbox.consuming(connection, no_ack=True)
    await inbox.send(aio_pika.Message(b"taken"))
    message = await inbox.next()
    with pytest.raises(MessageSettledError):
        await message.ack()


async def test_the_subscription_is_restored_after_a_dropped_connection(
    connection: AbstractRobustConnection,
) -> None:
    inbox = await _Inbox.consuming(connection)
    reconnected = asyncio.Event()
    connection.reconnect_callbacks.add(lambda *_: reconnected.set())
    factory = connection.kwargs["transport_factory"]
    assert isinstance(factory, CoalescingTransportFactory)
    assert factory.writer is not None

    factory.writer.transport.abort()
    async with asyncio.timeout(15):
        await reconnected.wait()
        await inbox.queue.channel.ready()  # type: ignore[attr-defined]
    await inbox.send(aio_pika.Message(b"after"))
    message = await inbox.next()
    assert isinstance(message, Received)  # subscribed again through ReceivingQueue
    assert message.body == b"after"
    await message.ack()


async def test_a_queue_of_another_connection_is_refused(amqp_url: str) -> None:
    plain = await aio_pika.connect(amqp_url)
    try:
        channel = await plain.channel()
        queue = await channel.declare_queue(exclusive=True)
        with pytest.raises(TypeError, match="not on a connection opened by"):
            await consume(queue, _Inbox(queue).take)
    finally:
        await plain.close()
