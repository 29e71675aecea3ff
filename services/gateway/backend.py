"""The gateway's view of the rest of OpenCPMS: RPC calls to the services that own the data,
confirmed event publishing, and the fire-and-forget message log."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import TypeVar

from aio_pika.abc import AbstractExchange

from opencpms_contracts.base import Contract, Event, Operation
from opencpms_contracts.stations import StationFrame, StationFrames
from opencpms_messaging.cloudevents_codec import encode_event
from opencpms_messaging.publisher import EventPublisher
from opencpms_messaging.rpc import RpcClient
from opencpms_messaging.socket_writes import publish

log = logging.getLogger(__name__)

RequestT = TypeVar("RequestT", bound=Contract)
ReplyT = TypeVar("ReplyT", bound=Contract)


class Backend:
    def __init__(self, rpc: RpcClient, publisher: EventPublisher, *, timeout: float) -> None:
        self._rpc = rpc
        self._publisher = publisher
        self.timeout = timeout

    async def call(self, op: Operation[RequestT, ReplyT], request: RequestT) -> ReplyT:
        return await self._rpc.call(op, request, timeout=self.timeout)

    async def publish(self, event: Event, *, subject: str) -> None:
        """Returns once the broker has confirmed the event."""
        await self._publisher.publish(event, subject=subject)


class EventLog:
    """Events the station's answer does not wait for (frames, heartbeats), published in order
    by one background task on a channel without confirms.

    Frames of all this node's stations travel together as ``station.frames``: a batch leaves
    when it holds ``frames_per_batch`` frames or ``bytes_per_batch`` of raw text, or when its
    first frame is ``frame_wait_s`` old. Nobody waits for the log, so the wait is long enough
    for batches of hundreds of frames at a few frames a millisecond: each batch costs the
    gateway, RabbitMQ and the message log's writer a message and a transaction whatever it
    holds.

    The queue is bounded: when the broker cannot keep up, events are dropped and counted, never
    piled up in the gateway's memory or allowed to slow down a station's answers.
    """

    def __init__(
        self,
        exchange: AbstractExchange,
        *,
        source: str,
        node_id: str,
        capacity: int = 10_000,
        frames_per_batch: int = 1000,
        bytes_per_batch: int = 1024 * 1024,
        frame_wait_s: float = 0.25,
    ) -> None:
        self._exchange = exchange
        self._source = source
        self._node_id = node_id
        self._queue: asyncio.Queue[tuple[Event, str, datetime | None]] = asyncio.Queue(capacity)
        self._task: asyncio.Task[None] | None = None
        self._frames: list[StationFrame] = []
        self._frame_bytes = 0
        self._frames_per_batch = frames_per_batch
        self._bytes_per_batch = bytes_per_batch
        self._frame_wait_s = frame_wait_s
        self._frame_timer: asyncio.TimerHandle | None = None
        self.dropped = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="event-log")

    async def stop(self) -> None:
        self._flush_frames()
        if self._task is not None:
            # What is already queued leaves before the task ends, as far as the broker takes it.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), 2)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def record(self, event: Event, *, subject: str, time: datetime | None = None) -> None:
        try:
            self._queue.put_nowait((event, subject, time))
        except asyncio.QueueFull:
            self._drop(len(event.frames) if isinstance(event, StationFrames) else 1)

    def record_frame(self, frame: StationFrame) -> None:
        self._frames.append(frame)
        self._frame_bytes += len(frame.raw)
        if (
            len(self._frames) >= self._frames_per_batch
            or self._frame_bytes >= self._bytes_per_batch
        ):
            self._flush_frames()
        elif self._frame_timer is None:
            self._frame_timer = asyncio.get_running_loop().call_later(
                self._frame_wait_s, self._flush_frames
            )

    def _flush_frames(self) -> None:
        if self._frame_timer is not None:
            self._frame_timer.cancel()
            self._frame_timer = None
        if self._frames:
            frames, self._frames = self._frames, []
            self._frame_bytes = 0
            self.record(StationFrames(node_id=self._node_id, frames=frames), subject=self._node_id)

    def _drop(self, count: int) -> None:
        before, self.dropped = self.dropped, self.dropped + count
        if before // 1000 != self.dropped // 1000 or before == 0:
            log.warning("event log full: %d events dropped so far", self.dropped)

    async def _run(self) -> None:
        while True:
            event, subject, time = await self._queue.get()
            try:
                message = encode_event(
                    event, source=self._source, subject=subject, time=time, persistent=False
                )
                # Waits until the connection's writer has taken the frames (and drained, so it
                # stops while the transport is paused), unlike the RPC calls and confirmed
                # events: nothing else holds back a log that thousands of stations feed, and a
                # broker in flow control must slow it down rather than let its frames pile up
                # in front of the RPC calls. Not mandatory: an event no queue takes (nobody
                # follows the log) is the broker's to drop.
                await publish(self._exchange, message, routing_key=event.routing_key(), wait=True)
            except Exception:  # a broker outage must not end the log task
                self.dropped += len(event.frames) if isinstance(event, StationFrames) else 1
                log.exception("could not publish %s", event.routing_key())
            finally:
                self._queue.task_done()
