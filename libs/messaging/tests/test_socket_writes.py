"""Coalesced socket writes: what one pass of the event loop writes leaves in one transport
write, in order, and nothing held is lost on close; over a real broker, a burst of publishes
arrives whole and in order, in far fewer writes than messages."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest
from aio_pika.abc import AbstractRobustConnection
from aiormq.exceptions import AMQPConnectionError
from yarl import URL

from opencpms_messaging.connection import connect
from opencpms_messaging.socket_writes import (
    CoalescingStreamWriter,
    CoalescingTransportFactory,
    publish,
)


class _Received:
    def __init__(self) -> None:
        self.data = b""
        self.closed = asyncio.Event()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while chunk := await reader.read(65536):
            self.data += chunk
        self.closed.set()
        writer.close()


@pytest.fixture
async def peer() -> AsyncIterator[tuple[_Received, CoalescingStreamWriter]]:
    received = _Received()
    server = await asyncio.start_server(received.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    factory = CoalescingTransportFactory()
    await factory.create(URL(f"amqp://127.0.0.1:{port}/"))
    writer = factory.writer
    assert writer is not None
    yield received, writer
    writer.close()
    server.close()
    await server.wait_closed()


@pytest.fixture
async def connection(amqp_url: str) -> AsyncIterator[AbstractRobustConnection]:
    connection = await connect(amqp_url, name="socket-writes-test")
    yield connection
    await connection.close()


def _factory_of(connection: AbstractRobustConnection) -> CoalescingTransportFactory:
    factory = connection.kwargs["transport_factory"]
    assert isinstance(factory, CoalescingTransportFactory)
    assert factory.writer is not None
    return factory


async def _next_pass() -> None:
    await asyncio.sleep(0)
    await asyncio.sleep(0)


async def test_the_writes_of_one_pass_leave_together_and_in_order(
    peer: tuple[_Received, CoalescingStreamWriter],
) -> None:
    received, writer = peer
    writer.write(b"one,")
    writer.write(b"two,")
    writer.writelines([b"three,", bytearray(b"four,")])
    assert writer.flushes == 0
    await _next_pass()
    assert writer.flushes == 1

    writer.write(b"five")
    await writer.drain()
    await _next_pass()
    assert writer.flushes == 2

    writer.close()
    async with asyncio.timeout(5):
        await received.closed.wait()
    assert received.data == b"one,two,three,four,five"


async def test_close_sends_what_is_held(peer: tuple[_Received, CoalescingStreamWriter]) -> None:
    received, writer = peer
    writer.write(b"held until the close")
    writer.close()
    async with asyncio.timeout(5):
        await received.closed.wait()
    assert received.data == b"held until the close"


async def test_a_closed_transport_drops_what_is_held_without_raising(
    peer: tuple[_Received, CoalescingStreamWriter],
) -> None:
    _, writer = peer
    writer.transport.abort()
    writer.write(b"nowhere to go")
    writer.flush()  # here, not from the loop, so that an exception would reach the test
    assert writer.flushes == 0


@pytest.mark.integration
async def test_a_burst_of_publishes_arrives_whole_in_order_and_in_few_writes(
    connection: AbstractRobustConnection,
) -> None:
    channel = await connection.channel(publisher_confirms=False)
    queue = await channel.declare_queue(exclusive=True)
    stream = _factory_of(connection).writer
    assert stream is not None
    before = stream.flushes

    # Eight at a time: aiormq's write queue holds ten frames, and a publish that finds it
    # full holds the channel's lock until the writer makes room, one publish a pass.
    for burst in range(0, 480, 8):
        await asyncio.gather(
            *(
                publish(
                    channel.default_exchange,
                    aio_pika.Message(str(i).encode()),
                    routing_key=queue.name,
                )
                for i in range(burst, burst + 8)
            )
        )
    await asyncio.sleep(0.1)
    # One write per publish, as aio-pika's own publish makes, would be 480.
    assert stream.flushes - before <= 120

    bodies: list[int] = []
    async with asyncio.timeout(10), queue.iterator() as messages:
        async for message in messages:
            await message.ack()
            bodies.append(int(message.body))
            if len(bodies) == 480:
                break
    assert bodies == list(range(480))


@pytest.mark.integration
async def test_a_dropped_connection_comes_back_with_a_new_coalescing_socket(
    connection: AbstractRobustConnection,
) -> None:
    factory = _factory_of(connection)
    first = factory.writer
    assert first is not None
    channel = await connection.channel(publisher_confirms=True)
    queue = await channel.declare_queue(
        f"socket-writes-reconnect-{uuid.uuid4().hex[:8]}", auto_delete=True
    )

    reconnected = asyncio.Event()
    connection.reconnect_callbacks.add(lambda *_: reconnected.set())

    first.transport.abort()
    async with asyncio.timeout(15):
        await reconnected.wait()
        assert factory.writer is not first
        await channel.ready()
        await publish(channel.default_exchange, aio_pika.Message(b"after"), routing_key=queue.name)
        async with queue.iterator() as messages:
            async for message in messages:
                await message.ack()
                assert message.body == b"after"
                break


async def test_an_amqps_url_without_a_tls_context_is_refused() -> None:
    with pytest.raises(AMQPConnectionError, match="no TLS context"):
        await CoalescingTransportFactory().create(URL("amqps://guest:secret@127.0.0.1:5671/"))


@pytest.mark.integration
async def test_publishing_to_an_internal_exchange_is_refused_before_the_broker_sees_it(
    connection: AbstractRobustConnection,
) -> None:
    channel = await connection.channel(publisher_confirms=False)
    exchange = await channel.declare_exchange(
        f"socket-writes-internal-{uuid.uuid4().hex[:8]}", internal=True, auto_delete=True
    )
    with pytest.raises(ValueError, match="internal exchange"):
        await publish(exchange, aio_pika.Message(b"x"), routing_key="any")
    assert not channel.is_closed
