"""Live updates for the web UI: each admin process follows the events that change what a page
shows on a queue of its own, and passes a small notice to every open browser (server-sent
events). Pages then re-read what changed through the API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterator

from opencpms_contracts import billing, stations, transactions
from opencpms_contracts.base import Event
from opencpms_messaging.cloudevents_codec import EventEnvelope
from opencpms_messaging.consumer import EventConsumer

log = logging.getLogger(__name__)

LIVE_EVENTS: tuple[type[Event], ...] = (
    stations.StationConnected,
    stations.StationDisconnected,
    stations.StationBooted,
    stations.ConnectorStatusChanged,
    stations.FirmwareStatusChanged,
    stations.LogUploadStatusChanged,
    transactions.TransactionStarted,
    transactions.TransactionUpdated,
    transactions.TransactionEnded,
    billing.CdrCreated,
)
KEEPALIVE_S = 15.0
BACKLOG = 100  # notices a slow browser may fall behind by before it misses some


class LiveFeed:
    """Events reach this process's live queue only while a browser follows the feed: in a
    reconnect storm with nobody watching, decoding every station's events for nobody cost the
    admin service a share of its CPU. Start the consumer with ``bound=False``."""

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[str]] = set()
        self.closed = asyncio.Event()
        self._consumer: EventConsumer | None = None
        self._bound = False
        self._binding = asyncio.Lock()

    def register(self, consumer: EventConsumer) -> None:
        self._consumer = consumer
        for event_cls in LIVE_EVENTS:
            consumer.on(event_cls, self._on_event)

    async def follow_subscribers(self) -> None:
        """Binds the live queue when someone subscribed, unbinds it when nobody is left."""
        async with self._binding:
            wanted = bool(self._subscribers)
            if self._consumer is None or wanted == self._bound:
                return
            try:
                await (self._consumer.bind() if wanted else self._consumer.unbind())
                self._bound = wanted
            except Exception:  # the broker is away; the next subscriber tries again
                log.exception("cannot %s the live feed", "bind" if wanted else "unbind")

    async def _on_event(self, event: Event, envelope: EventEnvelope) -> None:
        notice = json.dumps({"type": event.event_type, "station_id": envelope.subject})
        for queue in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(notice)

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=BACKLOG)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    async def stream(self) -> AsyncIterator[str]:
        """``text/event-stream`` lines for one browser, until the feed closes."""
        try:
            with self.subscribe() as queue:
                await self.follow_subscribers()  # the stream opens once events flow
                yield "retry: 2000\n\n"
                while not self.closed.is_set():
                    try:
                        async with asyncio.timeout(KEEPALIVE_S):
                            notice = await queue.get()
                    except TimeoutError:
                        yield ": keepalive\n\n"  # proxies drop idle streams
                        continue
                    yield f"data: {notice}\n\n"
        finally:
            if not self.closed.is_set():
                await asyncio.shield(self.follow_subscribers())

    def close(self) -> None:
        self.closed.set()
        for queue in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(json.dumps({"type": "closing"}))
