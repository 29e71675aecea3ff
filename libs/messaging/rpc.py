"""Request/reply over ``opencpms.rpc`` (ARCHITECTURE §3).

Requests are published ``mandatory`` with ``expiration`` = the caller's timeout: an operation no
service consumes fails at once as *unavailable*, and a request nobody picked up in time dies in
its queue instead of being carried out after the caller gave up. Replies go to the caller's
exclusive reply queue and are matched by ``correlation_id``. Calls of one operation that wait
together share a message (:mod:`opencpms_messaging.rpc_batch`); each still has its own answer.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractQueue,
)
from aiormq.exceptions import PublishError
from pamqp.common import FieldTable
from pydantic import ValidationError

from opencpms_contracts.base import Contract, Operation
from opencpms_messaging.amqp_properties import Properties
from opencpms_messaging.deliveries import Deliveries
from opencpms_messaging.received import Received, consume
from opencpms_messaging.rpc_batch import (
    BATCH_HEADER,
    DEFAULT_MAX_BATCH,
    DEFAULT_MAX_IN_FLIGHT,
    ERROR,
    OK,
    CallBatcher,
    PendingCall,
    decode_batch,
    decode_batch_reply,
    encode_batch,
    encode_batch_reply,
)
from opencpms_messaging.rpc_errors import (
    RpcError,
    RpcErrorBody,
    RpcNoRouteError,
    RpcTimeoutError,
    RpcUnavailableError,
    error_from_body,
)
from opencpms_messaging.socket_writes import Outgoing, publish

log = logging.getLogger(__name__)

RequestT = TypeVar("RequestT", bound=Contract)
ReplyT = TypeVar("ReplyT", bound=Contract)
Handler = Callable[[Any], Awaitable[Contract]]
ModelT = TypeVar("ModelT", bound=Contract)

STATUS_HEADER = "x-status"
JSON = "application/json"
# Requests and replies live as long as their caller: never written to disk.
NOT_PERSISTENT = aio_pika.DeliveryMode.NOT_PERSISTENT


class RpcClient:
    """Calls operations and waits for their replies. One per process is enough."""

    def __init__(
        self,
        channel: AbstractChannel,
        exchange: AbstractExchange,
        *,
        name: str,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    ) -> None:
        # ``channel`` must be opened with publisher confirms and ``on_return_raises``: only then
        # does the client library report a returned (unroutable) request.
        self._channel = channel
        self._exchange = exchange
        self._reply_queue_name = f"rpc.reply.{name}.{uuid.uuid4().hex[:12]}"
        self._pending: dict[str, asyncio.Future[Received]] = {}
        self._queue: AbstractQueue | None = None
        # Calls of one operation share messages once ``max_in_flight`` are out (rpc_batch).
        self._max_batch = max_batch
        self._max_in_flight = max_in_flight
        self._batchers: dict[str, CallBatcher] = {}

    async def start(self) -> None:
        # Named by us (not by the server) so a robust reconnect re-declares the same queue.
        self._queue = await self._channel.declare_queue(
            self._reply_queue_name, exclusive=True, auto_delete=True
        )
        await consume(self._queue, self._on_reply, no_ack=True)

    async def call(
        self, op: Operation[RequestT, ReplyT], request: RequestT, *, timeout: float
    ) -> ReplyT:
        if not isinstance(request, op.request):
            raise TypeError(f"{op.routing_key} takes {op.request.__name__}")
        batcher = self._batchers.get(op.routing_key)
        if batcher is None:
            batcher = self._batchers[op.routing_key] = CallBatcher(
                functools.partial(self._send_calls, op.routing_key),
                max_batch=self._max_batch,
                max_in_flight=self._max_in_flight,
            )
        pending = PendingCall(request.model_dump_json().encode(), timeout)
        batcher.submit(pending)
        try:
            # On a timeout the call's future is cancelled: a batch not yet sent leaves it out.
            async with asyncio.timeout(timeout):
                status, body = await pending.result
        except TimeoutError:
            raise RpcTimeoutError(f"{op.routing_key} got no answer within {timeout:g} s") from None
        if status == ERROR:
            raise error_from_body(_decoded(RpcErrorBody, body))
        return _decoded(op.reply, body)

    async def _send_calls(self, routing_key: str, calls: list[PendingCall]) -> None:
        """One message for ``calls`` (the plain format for one), and each call's result."""
        single = len(calls) == 1
        body = calls[0].body if single else encode_batch([call.body for call in calls])
        try:
            reply = await self._round_trip(
                self._exchange,
                routing_key,
                body,
                message_type=routing_key,
                # A request nobody took before its last caller gave up dies in the queue.
                timeout=max(0.001, max(call.remaining_s() for call in calls)),
                unroutable=f"no service consumes {routing_key}",
                headers=None if single else {BATCH_HEADER: len(calls)},
            )
            results = _results_of(reply, len(calls))
        except _NotBatched:
            # A server of an earlier version takes no batches (services are upgraded before
            # gateways, but replicas of both kinds may share a queue meanwhile): each alone.
            log.warning("%s answered a batch as a single request; sending calls alone", routing_key)
            await asyncio.gather(*(self._send_calls(routing_key, [call]) for call in calls))
            return
        except RpcError as exc:
            for call in calls:
                if not call.result.done():
                    # An exception of its own for each caller: one raised in many tasks would
                    # pile their tracebacks onto one another.
                    call.result.set_exception(type(exc)(exc.message, details=exc.details))
            return
        for call, result in zip(calls, results, strict=True):
            if not call.result.done():
                call.result.set_result(result)

    async def request(
        self,
        exchange: AbstractExchange,
        routing_key: str,
        request: Contract,
        *,
        message_type: str,
        timeout: float,
        unroutable: str,
    ) -> bytes:
        """Publishes ``request`` on ``exchange`` and returns the body of a successful reply;
        raises the :class:`RpcError` the serving side reported, :class:`RpcNoRouteError`
        (message ``unroutable``) when the broker returned the request, or a timeout. Never
        batched: for messages each bound somewhere else (a station's commands)."""
        reply = await self._round_trip(
            exchange,
            routing_key,
            request.model_dump_json().encode(),
            message_type=message_type,
            timeout=timeout,
            unroutable=unroutable,
        )
        [(_status, body)] = _results_of(reply, 1)  # raises the error a reply reports
        return bytes(body)

    async def _round_trip(
        self,
        exchange: AbstractExchange,
        routing_key: str,
        body: bytes,
        *,
        message_type: str,
        timeout: float,
        unroutable: str,
        headers: FieldTable | None = None,
    ) -> Received:
        correlation_id = uuid.uuid4().hex
        future: asyncio.Future[Received] = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = future
        try:
            message = Outgoing(
                body,
                Properties(
                    content_type=JSON,
                    correlation_id=correlation_id,
                    message_id=correlation_id,
                    reply_to=self._reply_queue_name,
                    message_type=message_type,
                    expiration=str(int(timeout * 1000)),  # milliseconds, as text
                    delivery_mode=NOT_PERSISTENT,
                    headers=headers,
                ),
            )
            # The confirm is not awaited before the reply: it runs alongside, and only its
            # failure (a returned request, a lost channel) ends the wait early. Awaited in
            # the caller's stead, a timeout or a cancellation would cancel aiormq's wait for
            # a confirm or return already on its way, which aiormq does not expect.
            published = asyncio.ensure_future(
                publish(exchange, message, routing_key=routing_key, mandatory=True)
            )
            published.add_done_callback(functools.partial(_on_published, future, unroutable))
            try:
                async with asyncio.timeout(timeout):
                    return await future
            except TimeoutError:
                raise RpcTimeoutError(
                    f"{message_type} for {routing_key} got no answer within {timeout:g} s"
                ) from None
        finally:
            self._pending.pop(correlation_id, None)

    async def _on_reply(self, message: Received) -> None:
        future = self._pending.get(message.correlation_id or "")
        if future is not None and not future.done():
            future.set_result(message)


def _results_of(reply: Received, expected: int) -> list[tuple[str, Any]]:
    """Each call's ``(status, body)`` from the reply to its message."""
    status = reply.headers.get(STATUS_HEADER)
    if reply.headers.get(BATCH_HEADER) is not None:
        try:
            return decode_batch_reply(reply.body, expected)
        except ValueError as exc:
            raise RpcError(f"malformed batch reply: {exc}") from None
    if expected != 1:
        raise _NotBatched
    if status == ERROR:
        raise error_from_body(RpcErrorBody.model_validate_json(reply.body))
    return [(OK, reply.body)]


class _NotBatched(Exception):
    """A batch was answered with a single reply: the server takes no batches."""


def _decoded(model: type[ModelT], body: Any) -> ModelT:
    # A single reply is still the raw JSON; a batch reply's items were decoded with the array.
    if isinstance(body, bytes | str):
        return model.model_validate_json(body)
    return model.model_validate(body)


def _on_published(
    future: asyncio.Future[Received],
    unroutable: str,
    published: asyncio.Future[object],
) -> None:
    if published.cancelled():
        return
    exc = published.exception()
    if exc is None or future.done():
        return
    if isinstance(exc, PublishError):
        future.set_exception(RpcNoRouteError(unroutable))
    else:
        future.set_exception(RpcUnavailableError(f"broker unavailable: {exc}"))


class RpcServer:
    """Consumes the operations of one service from its shared queue ``rpc.<service>``, or
    from a lane of it, ``rpc.<service>.<lane>``.

    Replicas of a service consume the same queue as competing consumers, so adding replicas
    adds capacity. A lane keeps cheap, urgent operations from queueing behind costly ones of
    the same service (a boot behind thousands of handshake password checks after an outage):
    each queue has its own channel and prefetch window. A request is acked once its reply is
    published: the handler has committed by then, and a redelivery after a crash is made
    harmless by the handlers' idempotency.
    """

    def __init__(
        self,
        channel: AbstractChannel,
        exchange: AbstractExchange,
        *,
        service: str,
        prefetch: int = 64,
        lane: str | None = None,
    ) -> None:
        self._channel = channel
        self._exchange = exchange
        self._service = service
        self._lane = lane
        self._prefetch = prefetch
        self._handlers: dict[str, tuple[Operation[Any, Any], Handler]] = {}
        # Batches' requests served at once, at most: prefetch counts messages, and a message
        # may hold many requests, each wanting a database connection.
        self._serving = asyncio.Semaphore(prefetch)
        self._deliveries = Deliveries()

    def register(
        self, op: Operation[RequestT, ReplyT], handler: Callable[[RequestT], Awaitable[ReplyT]]
    ) -> None:
        if op.service != self._service:
            raise ValueError(f"{op.routing_key} does not belong to {self._service}")
        self._handlers[op.routing_key] = (op, handler)

    @property
    def queue_name(self) -> str:
        return rpc_queue_name(self._service, self._lane)

    async def start(self, *, served_elsewhere: Iterable[Operation[Any, Any]] = ()) -> None:
        """Binds the queue to the registered operations and consumes it. ``served_elsewhere``
        are operations of this service that another lane serves: a queue declared by an
        earlier version may still be bound to them, and a request must reach one queue only."""
        await self._channel.set_qos(prefetch_count=self._prefetch)
        queue = await self._channel.declare_queue(self.queue_name, durable=True)
        for op in served_elsewhere:
            await queue.unbind(self._exchange, routing_key=op.routing_key)
        for routing_key in self._handlers:
            await queue.bind(self._exchange, routing_key=routing_key)
        self._deliveries.consuming(queue, await consume(queue, self._on_request))

    async def stop(self) -> None:
        """Takes no more requests and returns once those taken are answered."""
        await self._deliveries.stop()

    async def _on_request(self, message: Received) -> None:
        with self._deliveries.handling():
            await self._answer(message)

    async def _answer(self, message: Received) -> None:
        entry = self._handlers.get(message.routing_key or "")
        headers: dict[str, int] | None = None
        if message.headers.get(BATCH_HEADER) is not None:
            status, body, headers = await self._serve_batch(entry, message)
        else:
            status, body = await self._serve(entry, message.routing_key, message.body)
        await publish_reply(self._channel, message, body, status, headers=headers)
        await message.ack()

    async def _serve_batch(
        self, entry: tuple[Operation[Any, Any], Handler] | None, message: Received
    ) -> tuple[str, bytes, dict[str, int] | None]:
        """Every request of a batch, at once (each is a different station's call, so none
        waits for another), answered together in the order they came."""
        try:
            items = decode_batch(message.body)
        except ValueError as exc:
            error = RpcErrorBody(code="invalid", message=f"malformed batch: {exc}")
            return ERROR, error.model_dump_json().encode(), None

        async def bounded(item: Any) -> tuple[str, bytes]:
            async with self._serving:
                return await self._serve(entry, message.routing_key, item)

        results = await asyncio.gather(*(bounded(item) for item in items))
        return OK, encode_batch_reply(results), {BATCH_HEADER: len(results)}

    async def _serve(
        self, entry: tuple[Operation[Any, Any], Handler] | None, routing_key: str | None, body: Any
    ) -> tuple[str, bytes]:
        """``(status, reply body)`` for one request, raw JSON or an item of a batch."""
        try:
            if entry is None:
                raise _UnknownOperation(f"unknown operation {routing_key!r}")
            op, handler = entry
            request = _decoded(op.request, body)
            reply: Contract = await handler(request)
            return OK, reply.model_dump_json().encode()
        except Exception as exc:  # every failure becomes an error reply, never a lost request
            error = error_body(exc)
            if error.code == "internal":
                log.exception("RPC %s failed", routing_key)
            return ERROR, error.model_dump_json().encode()


def rpc_queue_name(service: str, lane: str | None = None) -> str:
    return f"rpc.{service}" if lane is None else f"rpc.{service}.{lane}"


async def publish_reply(
    channel: AbstractChannel,
    request: Received,
    body: bytes,
    status: str,
    *,
    headers: dict[str, int] | None = None,
) -> None:
    """Answers ``request`` on its ``reply_to`` queue; ``status`` is ``ok`` or ``error``."""
    if request.reply_to:
        await publish(
            channel.default_exchange,
            Outgoing(
                body,
                Properties(
                    content_type=JSON,
                    correlation_id=request.correlation_id,
                    headers={STATUS_HEADER: status, **(headers or {})},
                    delivery_mode=NOT_PERSISTENT,
                ),
            ),
            routing_key=request.reply_to,
        )


class _UnknownOperation(Exception):
    rpc_code = "invalid"


def error_body(exc: Exception) -> RpcErrorBody:
    """The error reply for ``exc``: its own code when it carries one, ``internal`` otherwise."""
    if isinstance(exc, ValidationError):
        return RpcErrorBody(code="invalid", message=str(exc))
    if isinstance(exc, RpcError):
        return RpcErrorBody(code=exc.code, message=exc.message, details=exc.details)
    code = getattr(exc, "rpc_code", None)
    if isinstance(code, str):
        return RpcErrorBody(code=code, message=str(exc))
    return RpcErrorBody(code="internal", message=f"{type(exc).__name__}: internal error")
