"""Group commit for many small, independent writes: each caller waits for its own write, but
writes that arrive together share one transaction (one BEGIN, one COMMIT, one pooled
connection) instead of paying a transaction each.

For projections that consume a stream of small events (a read model updated per event), and
for a service's answers to many stations at once (:meth:`WriteBatch.run_work`: a step that also
emits events and returns its result; :meth:`WriteBatch.run_together`: a step that applies the
items of many callers in one go). Each write must be idempotent and order-tolerant on its own,
as an event handler's or a station message's must be anyway: within a batch writes run sorted
by their key, and a batch that fails is retried write by write, so one bad write fails only its
own caller.

The writes run on the asyncpg connection of a :class:`~opencpms_db.unit_of_work.DriverUnitOfWork`
(statements from :mod:`opencpms_db.driver`): a projection's write is one small statement, and on
an ORM session building and running it cost several times the statement itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import asyncpg

from opencpms_db.unit_of_work import DriverUnitOfWork, DriverUnitOfWorkFactory

log = logging.getLogger(__name__)

T = TypeVar("T")
Write = Callable[[asyncpg.Connection], Awaitable[None]]
Step = Callable[[DriverUnitOfWork], Awaitable[T]]
# Applies the items of many callers at once; one result per item, in the order given.
ManyStep = Callable[[DriverUnitOfWork, list[Any]], Awaitable[list[Any]]]


@dataclass
class _Pending:
    key: str
    step: Step[Any] | None
    item: Any = None
    together: ManyStep | None = None
    done: asyncio.Future[Any] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class WriteBatch:
    """``await batch.run(key, write)`` returns once ``write`` is committed, or raises what made
    it fail.

    One batch is written at a time; writes that arrive meanwhile form the next one, so batches
    grow with the load and a write alone is not held back (``max_wait_s`` can hold a batch
    open a little longer for more to join). Writes run sorted by ``key`` (a station id, say),
    the bulk steps after the single ones; writes of one key keep the order they arrived in.
    Concurrent batches of replicas can still lock two rows in opposite orders: PostgreSQL then
    ends one of them as a deadlock, and its writes are retried one by one like any failed
    batch's. A batch that fails because the database is unreachable fails all its callers at
    once.
    """

    def __init__(
        self, uow: DriverUnitOfWorkFactory, *, max_batch: int = 256, max_wait_s: float = 0.0
    ):
        self._uow = uow
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._pending: list[_Pending] = []
        self._full = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None

    async def run(self, key: str, write: Write) -> None:
        async def step(work: DriverUnitOfWork) -> None:
            await write(work.connection)

        await self.run_work(key, step)

    async def run_work(self, key: str, step: Step[T]) -> T:
        """Runs ``step`` in the batch's unit of work (its events go to the outbox with the
        batch) and returns what it returned, once the batch has committed. A step must leave
        nothing behind outside the database: it may run twice, its batch having failed."""
        return cast(T, await self._submit(_Pending(key, step)))

    async def run_together(self, key: str, item: Any, step: ManyStep) -> Any:
        """Like :meth:`run_work`, for steps that are cheaper in bulk (one statement for many
        rows): the items of a batch given the same ``step`` reach it in one call, in key order,
        and each caller gets its own item's result. Retried one by one, a step gets one item."""
        return await self._submit(_Pending(key, None, item, step))

    async def _submit(self, pending: _Pending) -> Any:
        self._pending.append(pending)
        if len(self._pending) >= self._max_batch:
            self._full.set()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_batches(), name="write-batch")
        return await pending.done

    async def _write_batches(self) -> None:
        while self._pending:
            if len(self._pending) < self._max_batch:
                # Deliveries already read from the socket run first and join this batch.
                self._full.clear()
                if self._max_wait_s <= 0:
                    await asyncio.sleep(0)
                else:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self._max_wait_s):
                            await self._full.wait()
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            await self._commit(batch)

    async def _commit(self, batch: list[_Pending]) -> None:
        batch.sort(key=lambda p: p.key)
        try:
            async with self._uow() as work:
                results = await _apply(work, batch)
                await work.commit()
        except Exception as exc:
            if len(batch) == 1 or isinstance(exc, _UNREACHABLE):
                # Without a database, one by one would only fail again, one after the other.
                for pending in batch:
                    if not pending.done.done():
                        pending.done.set_exception(exc)
                return
            log.warning("a batch of %d writes failed; retrying them one by one", len(batch))
            for pending in batch:
                if not pending.done.done():  # nobody waits for a caller's write that gave up
                    await self._commit([pending])
            return
        for pending, result in zip(batch, results, strict=True):
            if not pending.done.done():
                pending.done.set_result(result)


# Failures of the connection or the server, not of one write.
_UNREACHABLE = (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError)


async def _apply(work: DriverUnitOfWork, batch: list[_Pending]) -> list[Any]:
    """Every write of a sorted batch in key order, then each bulk step once for its items.

    A bulk item whose key the batch also gives a single step, or another bulk step, runs alone,
    in its place in the key order, so the writes of one key keep the order they arrived in."""
    results: list[Any] = [None] * len(batch)
    kinds: dict[str, set[ManyStep | None]] = {}
    for pending in batch:
        kinds.setdefault(pending.key, set()).add(pending.together)
    together: dict[ManyStep, list[int]] = {}
    for place, pending in enumerate(batch):
        if pending.together is None:
            assert pending.step is not None
            results[place] = await pending.step(work)
        elif len(kinds[pending.key]) > 1:
            results[place] = (await pending.together(work, [pending.item]))[0]
        else:
            together.setdefault(pending.together, []).append(place)
    for step, places in together.items():
        answers = await step(work, [batch[place].item for place in places])
        if len(answers) != len(places):
            raise RuntimeError(f"a bulk step answered {len(answers)} of {len(places)} items")
        for place, answer in zip(places, answers, strict=True):
            results[place] = answer
    return results
