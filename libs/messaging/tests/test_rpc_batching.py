"""RPC calls that wait together travel as one message, on a real broker: each caller still gets
its own answer or its own error, and a call alone keeps the plain format."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest

from opencpms_contracts.base import Contract, Operation
from opencpms_messaging.broker import Broker
from opencpms_messaging.received import Received
from opencpms_messaging.rpc import RpcClient, RpcServer, publish_reply
from opencpms_messaging.rpc_batch import BATCH_HEADER
from opencpms_messaging.rpc_errors import NotFoundError, RpcNoRouteError

pytestmark = pytest.mark.integration


class Number(Contract):
    value: int


class _CountingServer(RpcServer):
    """Remembers the batch size of every message it takes (1 for the plain format)."""

    def __init__(self, server: RpcServer) -> None:
        self.__dict__.update(server.__dict__)
        self.sizes: list[int] = []

    async def _on_request(self, message: Received) -> None:
        self.sizes.append(int(message.headers.get(BATCH_HEADER) or 1))  # type: ignore[call-overload]
        await super()._on_request(message)


@pytest.fixture
async def service(amqp_url: str) -> AsyncIterator[tuple[Broker, Operation[Number, Number]]]:
    """A broker connection and a fresh operation (its own queue) for one test."""
    name = f"batchtest{uuid.uuid4().hex[:8]}"
    broker = await Broker.open(amqp_url, name=name, source="/opencpms/tests")
    yield broker, Operation(f"{name}.double", Number, Number, summary="doubles")
    await broker.close()


async def _serve(
    broker: Broker,
    op: Operation[Number, Number],
    *,
    delay: float = 0.05,
    kind: type[_CountingServer] = _CountingServer,
) -> _CountingServer:
    async def double(request: Number) -> Number:
        await asyncio.sleep(delay)  # long enough for later calls to queue behind the first
        if request.value < 0:
            raise NotFoundError(f"no {request.value}")
        return Number(value=request.value * 2)

    server = kind(await broker.rpc_server(op.service))
    server.register(op, double)
    await server.start()
    return server


async def _client(amqp_url: str, *, max_in_flight: int, max_batch: int = 64) -> Broker:
    caller = await Broker.open(amqp_url, name="batchcaller", source="/opencpms/tests")
    await caller.rpc_client(max_batch=max_batch, max_in_flight=max_in_flight)
    return caller


async def _call_together(
    amqp_url: str,
    op: Operation[Number, Number],
    values: list[int],
    *,
    max_in_flight: int,
    max_batch: int = 64,
) -> list[Number | BaseException]:
    """Calls ``op`` for every value in the same turn of the loop, from a client of its own."""
    caller = await _client(amqp_url, max_in_flight=max_in_flight, max_batch=max_batch)
    try:
        client = await caller.rpc_client()
        return await asyncio.gather(
            *(client.call(op, Number(value=v), timeout=10) for v in values),
            return_exceptions=True,
        )
    finally:
        await caller.close()


async def test_calls_made_together_share_the_free_slots_and_each_gets_its_own_answer(
    amqp_url: str, service: tuple[Broker, Operation[Number, Number]]
) -> None:
    broker, op = service
    server = await _serve(broker, op)
    answers = await _call_together(amqp_url, op, list(range(40)), max_in_flight=4)
    assert answers == [Number(value=2 * v) for v in range(40)]
    # Nothing was out: the calls leave at once, spread over the four free slots.
    assert server.sizes == [10, 10, 10, 10]


async def test_calls_wait_while_the_messages_in_flight_are_out_then_leave_together(
    amqp_url: str, service: tuple[Broker, Operation[Number, Number]]
) -> None:
    broker, op = service
    server = await _serve(broker, op)
    caller = await _client(amqp_url, max_in_flight=1)
    client = await caller.rpc_client()
    try:
        first = asyncio.ensure_future(client.call(op, Number(value=100), timeout=10))
        await asyncio.sleep(0.01)  # the first is out; the server takes 50 ms to answer
        later = []
        for value in range(20):  # one call per turn of the loop, as stations' frames come
            later.append(asyncio.ensure_future(client.call(op, Number(value=value), timeout=10)))
            await asyncio.sleep(0)
        answers = await asyncio.gather(first, *later)
    finally:
        await caller.close()
    assert answers == [Number(value=200)] + [Number(value=2 * v) for v in range(20)]
    assert server.sizes == [1, 20]


async def test_a_failing_request_fails_only_its_own_caller(
    amqp_url: str, service: tuple[Broker, Operation[Number, Number]]
) -> None:
    broker, op = service
    server = await _serve(broker, op)
    answers = await _call_together(amqp_url, op, [1, -2, 3, -4, 5, 6], max_in_flight=1)
    assert max(server.sizes) > 1
    assert answers[0::2] == [Number(value=2), Number(value=6), Number(value=10)]
    for failed in (answers[1], answers[3]):
        assert isinstance(failed, NotFoundError)
    assert isinstance(answers[5], Number)


async def test_batch_size_is_capped(
    amqp_url: str, service: tuple[Broker, Operation[Number, Number]]
) -> None:
    broker, op = service
    server = await _serve(broker, op)
    answers = await _call_together(amqp_url, op, list(range(30)), max_in_flight=1, max_batch=5)
    assert answers == [Number(value=2 * v) for v in range(30)]
    assert max(server.sizes) == 5


async def test_a_call_alone_keeps_the_plain_format(
    rpc: RpcClient, service: tuple[Broker, Operation[Number, Number]]
) -> None:
    broker, op = service
    server = await _serve(broker, op, delay=0)
    for value in range(3):
        assert await rpc.call(op, Number(value=value), timeout=5) == Number(value=2 * value)
    assert server.sizes == [1, 1, 1]


async def test_a_batch_nobody_consumes_fails_every_call_as_unroutable(amqp_url: str) -> None:
    nowhere = Operation("batchtest-nobody.double", Number, Number, summary="unserved")
    answers = await _call_together(amqp_url, nowhere, list(range(10)), max_in_flight=1)
    assert all(isinstance(answer, RpcNoRouteError) for answer in answers)


async def test_a_malformed_batch_is_answered_with_an_error(
    broker: Broker, service: tuple[Broker, Operation[Number, Number]]
) -> None:
    service_broker, op = service
    await _serve(service_broker, op, delay=0)
    channel = await broker.connection.channel()
    replies = await channel.declare_queue(exclusive=True)
    await channel.default_exchange.publish(
        aio_pika.Message(body=b'{"value": 1}', headers={BATCH_HEADER: 1}, reply_to=replies.name),
        routing_key=f"rpc.{op.service}",
    )
    reply = await _first(replies)
    await channel.close()
    assert reply.headers.get("x-status") == "error"
    assert b"malformed batch" in reply.body


async def _first(queue: aio_pika.abc.AbstractQueue) -> Received:
    async with asyncio.timeout(5):
        async with queue.iterator(no_ack=True) as messages:
            async for message in messages:
                return message
    raise AssertionError("no reply")


async def test_a_batch_size_of_one_sends_every_call_at_once_alone(
    amqp_url: str, service: tuple[Broker, Operation[Number, Number]]
) -> None:
    broker, op = service
    server = await _serve(broker, op)
    answers = await _call_together(amqp_url, op, list(range(20)), max_in_flight=1, max_batch=1)
    assert answers == [Number(value=2 * v) for v in range(20)]
    assert server.sizes == [1] * 20


class _ServerOfAnEarlierVersion(_CountingServer):
    """Takes every message as one request, as servers did before batches."""

    async def _on_request(self, message: Received) -> None:
        entry = self._handlers.get(message.routing_key or "")
        status, body = await self._serve(entry, message.routing_key, message.body)
        await publish_reply(self._channel, message, body, status)
        await message.ack()


async def test_calls_batched_for_a_server_that_takes_no_batches_are_sent_again_alone(
    amqp_url: str, service: tuple[Broker, Operation[Number, Number]]
) -> None:
    broker, op = service
    await _serve(broker, op, delay=0.02, kind=_ServerOfAnEarlierVersion)
    answers = await _call_together(amqp_url, op, list(range(12)), max_in_flight=2)
    assert answers == [Number(value=2 * v) for v in range(12)]
