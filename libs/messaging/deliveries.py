"""Deliveries a consumer is handling, counted so that a stopping consumer can cancel its
subscription and then wait for the ones it already took."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from aio_pika.abc import AbstractQueue


class Deliveries:
    def __init__(self) -> None:
        self._handling = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._queue: AbstractQueue | None = None
        self._consumer_tag: str | None = None

    def consuming(self, queue: AbstractQueue, consumer_tag: str) -> None:
        self._queue, self._consumer_tag = queue, consumer_tag

    @contextlib.contextmanager
    def handling(self) -> Iterator[None]:
        self._handling += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._handling -= 1
            if not self._handling:
                self._idle.set()

    async def stop(self) -> None:
        """Cancels the subscription (no new deliveries) and returns once those taken are
        handled. Deliveries the broker sent but nobody began are left unacknowledged, and the
        broker gives them to another consumer when this channel closes."""
        if self._queue is not None and self._consumer_tag is not None:
            queue, tag, self._consumer_tag = self._queue, self._consumer_tag, None
            await queue.cancel(tag)
        await asyncio.sleep(0)  # a delivery read with the cancel's answer begins first
        await self._idle.wait()
