"""Request/reply over ``opencpms.rpc`` (ARCHITECTURE §3).

Requests are published ``mandatory`` with ``expiration`` = the caller's timeout: an operation no
service consumes fails at once as *unavailable*, and a request nobody picked up in time dies in
its queue instead of being carried out after the caller gave up. Replies go to the caller's
exclusive reply queue and are matched by ``correlation_id``.
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
    AbstractIncomingMessage,
    AbstractQueue,
)
from aiormq.exceptions import PublishError
from pydantic import ValidationError

from opencpms_contracts.base import Contract, Operation
from opencpms_messaging.rpc_errors import (
    RpcError,
    RpcErrorBody,
    RpcNoRouteError,
    RpcTimeoutError,
    RpcUnavailableError,
    error_from_body,
)

log = logging.getLogger(__name__)

RequestT = TypeVar("RequestT", bound=Contract)
ReplyT = TypeVar("ReplyT", bound=Contract)
Handler = Callable[[Any], Awaitable[Contract]]

STATUS_HEADER = "x-status"


class RpcClient:
    """Calls operations and waits for their replies. One per process is enough."""

    def __init__(self, channel: AbstractChannel, exchange: AbstractExchange, *, name: str) -> None:
        # ``channel`` must be opened with publisher confirms and ``on_return_raises``: only then
        # does the client library report a returned (unroutable) request.
        self._channel = channel
        self._exchange = exchange
        self._reply_queue_name = f"rpc.reply.{name}.{uuid.uuid4().hex[:12]}"
        self._pending: dict[str, asyncio.Future[AbstractIncomingMessage]] = {}
        self._queue: AbstractQueue | None = None

    async def start(self) -> None:
        # Named by us (not by the server) so a robust reconnect re-declares the same queue.
        self._queue = await self._channel.declare_queue(
            self._reply_queue_name, exclusive=True, auto_delete=True
        )
        await self._queue.consume(self._on_reply, no_ack=True)

    async def call(
        self, op: Operation[RequestT, ReplyT], request: RequestT, *, timeout: float
    ) -> ReplyT:
        if not isinstance(request, op.request):
            raise TypeError(f"{op.routing_key} takes {op.request.__name__}")
        reply = await self.request(
            self._exchange,
            op.routing_key,
            request,
            message_type=op.routing_key,
            timeout=timeout,
            unroutable=f"no service consumes {op.routing_key}",
        )
        return op.reply.model_validate_json(reply)

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
        (message ``unroutable``) when the broker returned the request, or a timeout."""
        correlation_id = uuid.uuid4().hex
        future: asyncio.Future[AbstractIncomingMessage] = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = future
        try:
            message = aio_pika.Message(
                body=request.model_dump_json().encode(),
                content_type="application/json",
                correlation_id=correlation_id,
                message_id=correlation_id,
                reply_to=self._reply_queue_name,
                type=message_type,
                expiration=timeout,
                delivery_mode=aio_pika.DeliveryMode.NOT_PERSISTENT,
            )
            # The confirm is not awaited before the reply: it runs alongside, and only its
            # failure (a returned request, a lost channel) ends the wait early.
            published = asyncio.ensure_future(
                exchange.publish(message, routing_key=routing_key, mandatory=True)
            )
            published.add_done_callback(functools.partial(_on_published, future, unroutable))
            try:
                reply = await asyncio.wait_for(future, timeout)
            except TimeoutError:
                raise RpcTimeoutError(
                    f"{message_type} for {routing_key} got no answer within {timeout:g} s"
                ) from None
        finally:
            self._pending.pop(correlation_id, None)
        if reply.headers.get(STATUS_HEADER) == "error":
            raise error_from_body(RpcErrorBody.model_validate_json(reply.body))
        return reply.body

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        future = self._pending.get(message.correlation_id or "")
        if future is not None and not future.done():
            future.set_result(message)


def _on_published(
    future: asyncio.Future[AbstractIncomingMessage],
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
        await queue.consume(self._on_request)

    async def _on_request(self, message: AbstractIncomingMessage) -> None:
        entry = self._handlers.get(message.routing_key or "")
        try:
            if entry is None:
                raise _UnknownOperation(f"unknown operation {message.routing_key!r}")
            op, handler = entry
            request = op.request.model_validate_json(message.body)
            reply: Contract = await handler(request)
            body, status = reply.model_dump_json().encode(), "ok"
        except Exception as exc:  # every failure becomes an error reply, never a lost request
            error = error_body(exc)
            if error.code == "internal":
                log.exception("RPC %s failed", message.routing_key)
            body, status = error.model_dump_json().encode(), "error"
        await publish_reply(self._channel, message, body, status)
        await message.ack()


def rpc_queue_name(service: str, lane: str | None = None) -> str:
    return f"rpc.{service}" if lane is None else f"rpc.{service}.{lane}"


async def publish_reply(
    channel: AbstractChannel, request: AbstractIncomingMessage, body: bytes, status: str
) -> None:
    """Answers ``request`` on its ``reply_to`` queue; ``status`` is ``ok`` or ``error``."""
    if request.reply_to:
        await channel.default_exchange.publish(
            aio_pika.Message(
                body=body,
                content_type="application/json",
                correlation_id=request.correlation_id,
                headers={STATUS_HEADER: status},
                delivery_mode=aio_pika.DeliveryMode.NOT_PERSISTENT,
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
