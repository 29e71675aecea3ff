"""Lookups by key that wait together share one query: ``await lookups.get(key)``.

For the reads every station message makes (a station's password hash at the handshake): after
an outage thousands arrive at once, and one ``WHERE key = ANY(...)`` for all that are waiting
costs about what one of them alone did (a pooled connection, a round trip). One query runs at a
time; lookups that arrive meanwhile form the next, so a lookup alone waits for nothing but the
current turn of the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Any, Generic, TypeVar

import asyncpg

from opencpms_db.driver import DriverReads

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# Finds the values of the keys given; a key it does not return has none.
FetchMany = Callable[[asyncpg.Connection, list[K]], Awaitable[Mapping[K, V]]]


class LookupBatch(Generic[K, V]):
    def __init__(self, reads: DriverReads, fetch: FetchMany[K, V], *, max_batch: int = 256) -> None:
        self._reads = reads
        self._fetch = fetch
        self._max_batch = max_batch
        self._waiting: dict[K, asyncio.Future[V | None]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def get(self, key: K) -> V | None:
        """The value of ``key``, None when it has none; raises what made the query fail."""
        future = self._waiting.get(key)
        if future is None:  # callers of one key share its lookup
            future = self._waiting[key] = asyncio.get_running_loop().create_future()
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read_batches(), name="lookup-batch")
        # Shielded: a caller that gives up must not cancel the lookup others share.
        return await asyncio.shield(future)

    async def _read_batches(self) -> None:
        while self._waiting:
            await asyncio.sleep(0)  # lookups already on their way join this query
            keys = list(self._waiting)[: self._max_batch]
            futures = [self._waiting.pop(key) for key in keys]
            try:
                async with self._reads() as connection:
                    found = await self._fetch(connection, keys)
            except Exception as exc:
                _fail(futures, exc)
                continue
            except BaseException:
                # Cancelled (the service stopping): the lookups taken for this query and those
                # still waiting would otherwise hang their callers.
                _fail([*futures, *self._waiting.values()], asyncio.CancelledError())
                self._waiting.clear()
                raise
            for key, future in zip(keys, futures, strict=True):
                if not future.done():
                    future.set_result(found.get(key))


def _fail(futures: list[asyncio.Future[Any]], exc: BaseException) -> None:
    for future in futures:
        if not future.done():
            future.set_exception(exc)
            future.exception()  # retrieved here: its callers may all have gone
