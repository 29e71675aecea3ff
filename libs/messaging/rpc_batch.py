"""Calls to one operation that are waiting together travel as one broker message.

Under load the cost of an RPC is mostly per broker message, not per request: the client
library's framing and futures, a confirm, RabbitMQ's routing and queueing, the consumer's
delivery, reply and ack. :class:`CallBatcher` therefore sends a call at once while few are in
flight for its operation, and lets the calls that arrive while those are out wait and leave
together, as one message: batches grow with the load (natural batching), and a call alone is
held back by nothing but the current turn of the event loop.

The wire format is a transport detail, documented in docs/architecture.md and in the
AsyncAPI document: a batch is a message with header ``x-batch`` (the number of requests) whose
body is a JSON array of the operation's request objects; its reply carries ``x-batch`` too and
a JSON array, in the same order, of ``{"status": "ok" | "error", "body": reply or error}``. A
single call keeps the plain format (one request object; ``x-status`` on the reply).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

log = logging.getLogger(__name__)

BATCH_HEADER = "x-batch"
OK, ERROR = "ok", "error"
# Messages of one operation out at once before further calls wait to leave together, and how
# many calls share one message at most (a server serves a message's calls at once). Two rather
# than four: at 20 and 40 closed-loop stations the whole machine's CPU per answered message fell
# by 4-8 % with one or two gateway processes (bigger batches, fewer broker messages), and calls
# of an idle system still leave at once (docs/performance.md).
DEFAULT_MAX_IN_FLIGHT = 2
DEFAULT_MAX_BATCH = 64


def encode_batch(bodies: list[bytes]) -> bytes:
    """Request bodies (each one JSON object) as one JSON array, without decoding them."""
    return b"[" + b",".join(bodies) + b"]"


def encode_batch_reply(results: list[tuple[str, bytes]]) -> bytes:
    """``(status, body)`` pairs, each body one JSON object, as the batch reply's array."""
    return (
        b"["
        + b",".join(
            b'{"status":"' + status.encode() + b'","body":' + body + b"}"
            for status, body in results
        )
        + b"]"
    )


def decode_batch(body: bytes) -> list[Any]:
    """The items of a batch body; ValueError when it is not a JSON array."""
    items = orjson.loads(body)  # its JSONDecodeError is a ValueError
    if not isinstance(items, list):
        raise ValueError("a batch body must be a JSON array")
    return items


def decode_batch_reply(body: bytes, expected: int) -> list[tuple[str, Any]]:
    """The ``(status, body)`` of each item; ValueError for a reply of another shape."""
    items = decode_batch(body)
    if len(items) != expected:
        raise ValueError(f"a batch of {expected} was answered with {len(items)} replies")
    results = []
    for item in items:
        if (
            not isinstance(item, dict)
            or item.get("status") not in (OK, ERROR)
            or "body" not in item
        ):
            raise ValueError("a batch reply item must be {status, body}")
        results.append((item["status"], item.get("body")))
    return results


@dataclass
class PendingCall:
    body: bytes
    timeout: float
    result: asyncio.Future[tuple[str, Any]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    submitted_at: float = field(default_factory=lambda: asyncio.get_running_loop().time())

    def remaining_s(self) -> float:
        """What is left of the caller's timeout: how long the request may wait in a queue."""
        return self.timeout - (asyncio.get_running_loop().time() - self.submitted_at)


# Sends the calls as one message and settles each call's future (a result, or an exception).
SendBatch = Callable[[list[PendingCall]], Awaitable[None]]


class CallBatcher:
    """The calls of one operation. While fewer than ``max_in_flight`` messages are out, waiting
    calls leave at once, spread over the free slots (so that replicas of the server share
    them); beyond that they wait, and leave together when a message comes back or as soon as
    ``max_batch`` of them are waiting, so a slow server never holds back more than one message's
    worth of calls. ``max_batch=1`` turns batching off: every call leaves at once, alone."""

    def __init__(self, send: SendBatch, *, max_batch: int, max_in_flight: int) -> None:
        if max_batch < 1 or max_in_flight < 1:
            raise ValueError("max_batch and max_in_flight must be at least 1")
        self._send = send
        self._max_batch = max_batch
        self._max_in_flight = max_in_flight
        self._waiting: list[PendingCall] = []
        self._in_flight = 0
        self._flush_scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, call: PendingCall) -> None:
        self._waiting.append(call)
        self._schedule()

    def _schedule(self) -> None:
        # The flush runs after the callbacks already due in this turn of the loop, so calls
        # made by stations whose frames arrived together leave together.
        if self._flush_scheduled:
            return
        if self._in_flight < self._max_in_flight or len(self._waiting) >= self._max_batch:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        # A caller that gave up (its wait timed out or was cancelled) sends nothing.
        self._waiting = [call for call in self._waiting if not call.result.done()]
        free = self._max_in_flight - self._in_flight
        if free > 0 and self._waiting:
            size = min(self._max_batch, -(-len(self._waiting) // free))  # spread over the slots
            while self._waiting and self._in_flight < self._max_in_flight:
                self._start(size)
        while len(self._waiting) >= self._max_batch:  # full messages leave whatever is out
            self._start(self._max_batch)

    def _start(self, size: int) -> None:
        calls, self._waiting = self._waiting[:size], self._waiting[size:]
        self._in_flight += 1
        task = asyncio.create_task(self._send_batch(calls), name="rpc-batch")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_batch(self, calls: list[PendingCall]) -> None:
        try:
            await self._send(calls)
        except Exception as exc:  # the sender settles calls itself; this is a last resort
            log.exception("sending a batch of %d calls failed", len(calls))
            for call in calls:
                if not call.result.done():
                    call.result.set_exception(exc)
        finally:
            self._in_flight -= 1
            if self._waiting:
                self._schedule()
