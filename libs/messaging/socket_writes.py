"""AMQP connections whose frames of one event-loop pass leave the process in one system call.

aiormq writes every queued frame (a publish, an ack, a reply) to its socket with a call of
its own. On loopback, and more so in a virtual machine, each such call costs the sender the
receiver's TCP processing and a wake-up of RabbitMQ. Frames that aiormq's writer takes from
its queue in one pass of the event loop are joined and handed to the transport once, at the
start of the next pass: with ``publish`` below, 7 to 17 % less CPU per answered message across
the whole system at saturation (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

import aiormq
from aio_pika import Exchange
from aio_pika.abc import AbstractExchange, AbstractMessage
from aiormq import spec
from aiormq.connection import TransportFactory
from aiormq.exceptions import AMQPConnectionError, ChannelInvalidStateError
from yarl import URL

# asyncio.open_connection's default reader limit.
_READ_LIMIT = 2**16


class CoalescingStreamWriter(asyncio.StreamWriter):
    """A ``StreamWriter`` that holds the writes of one loop pass and sends them together.

    Flow control still works, a pass late: ``drain`` waits while the transport is paused, and
    the transport pauses once a flush has filled its buffer, so a writer that drains after
    every write (aiormq's, for a frame whose publisher waits) stops at the next pass. The
    bytes held meanwhile are at most a pass's worth of frames (aiormq's write queue holds
    ten), and they reach the transport before anything written in a later pass.
    """

    def __init__(
        self,
        transport: asyncio.Transport,
        protocol: asyncio.StreamReaderProtocol,
        reader: asyncio.StreamReader,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        super().__init__(transport, protocol, reader, loop)
        self._event_loop = loop  # StreamWriter's own ``_loop`` is not part of its interface
        self._held: list[bytes] = []
        self._flush_handle: asyncio.Handle | None = None
        self.flushes = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._held.append(bytes(data))
        if self._flush_handle is None:
            self._flush_handle = self._event_loop.call_soon(self.flush)

    def writelines(self, data: Iterable[bytes | bytearray | memoryview]) -> None:
        for chunk in data:
            self.write(chunk)

    def flush(self) -> None:
        """Hands what is held to the transport now."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if not self._held:
            return
        held, self._held = self._held, []
        if self.transport.is_closing():
            # The connection is going: aiormq learns it from the reader, as it would have
            # from a write that went nowhere.
            return
        self.flushes += 1
        # Runs from the loop, not from aiormq's writer task, so a failing write would reach
        # the loop's exception handler; the transport is open here and aiormq never writes
        # after ``write_eof``, the two ways ``write`` raises.
        self.transport.write(held[0] if len(held) == 1 else b"".join(held))

    def write_eof(self) -> None:
        self.flush()
        super().write_eof()

    def close(self) -> None:
        self.flush()
        super().close()


async def _open(
    url: URL, ssl_context: ssl.SSLContext | None, **kwargs: Any
) -> tuple[asyncio.StreamReader, CoalescingStreamWriter]:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=_READ_LIMIT, loop=loop)
    protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
    try:
        transport, _ = await loop.create_connection(
            lambda: protocol, url.host or "localhost", url.port or 5672, ssl=ssl_context, **kwargs
        )
    except OSError as e:
        raise AMQPConnectionError(*e.args) from e
    return reader, CoalescingStreamWriter(transport, protocol, reader, loop)


class CoalescingTransportFactory(TransportFactory):
    """aiormq's TCP and TLS transports (by the URL's scheme), with coalesced writes.

    One factory serves one connection; ``writer`` is the writer of its latest socket.
    """

    def __init__(self) -> None:
        self.writer: CoalescingStreamWriter | None = None

    async def create(
        self, url: URL, **kwargs: Any
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        ssl_context_provider = kwargs.pop("ssl_context_provider", None)
        context = None
        if url.scheme == "amqps":
            if ssl_context_provider is None:  # never fall back to plain text
                raise AMQPConnectionError(f"no TLS context for {url.with_password(None)}")
            context = await ssl_context_provider.get_context()
        reader, self.writer = await _open(url, context, **kwargs)
        return reader, self.writer


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to publish: its body and its AMQP properties as the wire carries them.

    ``aio_pika.Message`` holds the same, but sets each attribute through a checking
    ``__setattr__`` and builds the properties anew whenever they are read: about 45 µs of CPU
    a message on this machine, for each RPC request, reply and event."""

    body: bytes
    properties: spec.Basic.Properties


async def publish(
    exchange: AbstractExchange,
    message: Outgoing | AbstractMessage,
    *,
    routing_key: str,
    mandatory: bool = False,
    wait: bool = False,
) -> None:
    """``exchange.publish``, except that (unless ``wait``) the channel is free again as soon as
    the message's frames are queued for the socket.

    aiormq's ``basic_publish``, as aio-pika calls it, holds the channel's lock until the
    connection's writer has taken the frames; the next publish on the channel gets the lock a
    pass of the event loop later, so a channel's publishes never share a socket write. With
    ``wait=False`` they do. On a channel with publisher confirms this still returns only once
    the broker has confirmed the message (and raises as ``exchange.publish`` does when the
    broker returns or refuses it).

    Not waiting for the write also means not stopping for a broker that has stopped reading
    (flow control): aiormq's writer drains only for frames whose publisher waits, so these
    gather in the connection's buffer. Publish this way only what callers already bound, a
    call awaiting its reply, an event awaiting its confirm, a reply per delivery taken. A
    producer that nothing holds back (the gateway's event log) passes ``wait=True``: as in
    ``exchange.publish``, the call then waits until aiormq's writer has drained, and so stops
    while the transport is paused. Unlike ``exchange.publish``, ``mandatory`` is off unless
    asked for.
    """
    if not isinstance(exchange, Exchange):
        raise TypeError(f"{exchange!r} is not an exchange of an aio-pika channel")
    if exchange.internal:  # the broker would close the channel
        raise ValueError(f"cannot publish to internal exchange {exchange.name!r}")
    if exchange.channel.is_closed:
        raise ChannelInvalidStateError(f"{exchange.channel!r} closed")
    # aiormq's abstract channel does not declare ``wait``; its only channel has it.
    channel = cast(aiormq.Channel, await exchange.channel.get_underlay_channel())
    await channel.basic_publish(
        message.body,
        exchange=exchange.name,
        routing_key=routing_key,
        properties=message.properties,
        mandatory=mandatory,
        wait=wait,
    )
