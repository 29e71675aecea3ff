"""Moves committed outbox rows onto the broker (ARCHITECTURE §5).

A committed row leaves by one of two ways:

- **handed over**: the unit of work that committed it passes it to :meth:`OutboxRelay.hand_over`
  (its ``on_commit``), and the relay publishes it from memory with a confirm. Its deletion waits
  and is done for many rows at once (``DELETE ... WHERE event_id = ANY(...)``, a few times a
  second): a row costs the database its insert and a share of one statement, not a pass of its
  own (BEGIN, a ``DELETE ... RETURNING`` that reads the row back, COMMIT) after every commit.
- **swept**: a row nobody handed over and deleted (its process died between commit and
  publish or between publish and deletion, or the broker refused it) is taken by the periodic
  sweep once it is ``sweep_after_s`` old: ``FOR UPDATE SKIP LOCKED``, so replicas of a service
  sweep in parallel without publishing a row twice, and deleted in the sweep's transaction, which
  commits only after the broker confirmed every row of it.

Either way a row is published at least once: a crash between confirm and deletion publishes it
again with the same CloudEvents id, which consumers' inboxes absorb. A row's age is its
``occurred_at``, the time its unit of work emitted it; the sweep leaves younger rows alone, so
it does not publish the rows the relays are handing over or about to delete.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Coroutine, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.dialects.postgresql import ARRAY

from opencpms_db.driver import DriverStatement
from opencpms_db.unit_of_work import DriverUnitOfWorkFactory
from opencpms_messaging.publisher import EventPublisher

log = logging.getLogger(__name__)

FAILURE_LOG_EVERY_S = 30.0

OutboxRow = Mapping[str, Any]


class OutboxRelay:
    """``work`` opens a unit of work on the driver, not durable
    (``DriverUnitOfWork(engine, None, durable=False)``): a deletion lost in a database crash only
    publishes its rows again.

    Handed-over rows wait in memory for the broker, at most ``max_handed_over`` of them: past
    that (the broker away or slower than the commits) further rows are left to the sweep
    rather than held. The ids of published rows wait for their deletion within the same bound
    (past it, the database away, the oldest are forgotten and their rows swept once more).
    """

    def __init__(
        self,
        work: DriverUnitOfWorkFactory,
        outbox: Table,
        publisher: EventPublisher,
        *,
        batch_size: int = 200,
        poll_interval: float = 1.0,
        sweep_after_s: float = 10.0,
        delete_every_s: float = 0.25,
        max_handed_over: int = 10_000,
    ) -> None:
        self._work = work
        t = outbox
        # Taken and deleted in one statement, inside the sweep's transaction: the deletion holds
        # only if the broker confirmed every row, since a failed sweep rolls it back.
        batch = (
            select(t.c.id)
            .where(t.c.occurred_at < bindparam("cutoff", type_=t.c.occurred_at.type))
            .order_by(t.c.id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        )
        self._take = DriverStatement(
            delete(t)
            .where(t.c.id.in_(batch.scalar_subquery()))
            .returning(
                t.c.id,
                t.c.event_id,
                t.c.event_type,
                t.c.routing_key,
                t.c.subject,
                t.c.data,
                t.c.occurred_at,
            )
        )
        published = bindparam("event_ids", type_=ARRAY(t.c.event_id.type))
        self._forget = DriverStatement(delete(t).where(t.c.event_id == published.any_()))
        self._publisher = publisher
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._sweep_after = timedelta(seconds=sweep_after_s)
        self._delete_every_s = delete_every_s
        self._max_handed_over = max_handed_over
        self._handed_over: list[OutboxRow] = []
        self._published: list[Any] = []  # event ids whose rows are still to be deleted
        self._delete_at = 0.0  # when the oldest of them has waited long enough
        self._retry_at = 0.0  # not before, after a failed deletion
        self._next_sweep = 0.0
        self._logged_failure_at = -math.inf
        self._wakeup = asyncio.Event()
        self.left_to_sweep = 0

    def hand_over(self, rows: Sequence[OutboxRow]) -> None:
        """Called after a commit with the outbox rows it wrote, in the order written."""
        room = max(self._max_handed_over - len(self._handed_over), 0)
        if room < len(rows):
            self.left_to_sweep += len(rows) - room
            rows = rows[:room]
        self._handed_over.extend(rows)
        self._wakeup.set()

    async def run(self) -> None:
        """Relays until cancelled; survives database and broker outages by retrying. Cancelled,
        it publishes and deletes what it holds first, as far as a few seconds allow."""
        try:
            while True:
                # Cleared before the work, not after: rows handed over while it runs must
                # trigger another pass instead of being erased.
                self._wakeup.clear()
                await self.relay_handed_over()
                await self._guarded("deleting published rows", self.delete_published(force=False))
                if time.monotonic() >= self._next_sweep:
                    swept = await self._guarded("sweeping", self.sweep())
                    # A full batch: more may be left behind, so the next pass sweeps again.
                    pause = 0.0 if swept >= self._batch_size else self._poll_interval
                    self._next_sweep = time.monotonic() + pause
                # Not asyncio.wait_for: on Python 3.11 it loses a cancellation that arrives as
                # the wait ends, and rows handed over all the time end every wait at once.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._idle_s()):
                        await self._wakeup.wait()
        except asyncio.CancelledError:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                async with asyncio.timeout(3):
                    await self.relay_handed_over()
                    await self.delete_published(force=True)
            raise

    def _idle_s(self) -> float:
        """How long the loop may wait for rows: until the next sweep or deletion is due."""
        due = self._next_sweep
        if self._published:
            deletion = self._delete_at if len(self._published) < self._batch_size else 0.0
            due = min(due, max(deletion, self._retry_at))
        return max(0.0, due - time.monotonic())

    async def _guarded(self, what: str, work: Coroutine[Any, Any, int]) -> int:
        try:
            return await work
        except asyncio.CancelledError:
            raise
        except Exception:
            self._log_failure(f"outbox relay failed {what}; retrying")
            return 0

    def _log_failure(self, message: str, *args: object) -> None:
        # An outage fails every pass: its traceback is logged once every half minute.
        now = time.monotonic()
        if now - self._logged_failure_at >= FAILURE_LOG_EVERY_S:
            self._logged_failure_at = now
            log.warning(message, *args, exc_info=True)
        else:
            log.debug(message, *args, exc_info=True)

    async def relay_handed_over(self) -> int:
        """Publishes the rows handed over so far, in order, confirms awaited together; returns
        how many the broker confirmed. Rows it refused are left to the sweep."""
        rows, self._handed_over = self._handed_over, []
        if not rows:
            return 0
        try:
            await self._publish(rows)
        except asyncio.CancelledError:
            # Still held: a stopping relay publishes them once more before it ends.
            self._handed_over = rows + self._handed_over
            raise
        except Exception:
            self.left_to_sweep += len(rows)
            self._log_failure(
                "could not publish %d outbox rows; the sweep publishes them in %.0f s",
                len(rows),
                self._sweep_after.total_seconds(),
            )
            return 0
        if not self._published:
            self._delete_at = time.monotonic() + self._delete_every_s
        self._published += [row["event_id"] for row in rows]
        excess = len(self._published) - self._max_handed_over
        if excess > 0:
            # Deletions failing for long: the oldest are forgotten, and the sweep publishes
            # their rows once more.
            del self._published[:excess]
            self.left_to_sweep += excess
        return len(rows)

    async def delete_published(self, *, force: bool) -> int:
        """Deletes the rows published from memory, in one statement, once a batch of them wait
        or the oldest has waited ``delete_every_s`` (or at once, ``force``); after a failed
        deletion, not again for ``poll_interval``."""
        now = time.monotonic()
        if not self._published:
            return 0
        if not force and (
            now < self._retry_at
            or (now < self._delete_at and len(self._published) < self._batch_size)
        ):
            return 0
        event_ids, self._published = self._published, []
        try:
            async with self._work() as work:
                await self._forget.execute(work.connection, event_ids=event_ids)
                await work.commit()
        except BaseException:
            # Published but not deleted: tried again later (the sweep would publish them once
            # more after a crash, which consumers absorb).
            self._published = event_ids + self._published
            self._retry_at = time.monotonic() + self._poll_interval
            raise
        if self._published:  # handed over while the deletion ran
            self._delete_at = time.monotonic() + self._delete_every_s
        return len(event_ids)

    async def sweep(self) -> int:
        """Publishes one batch of rows old enough to have been left behind, in id order, and
        deletes it; returns how many rows it relayed."""
        cutoff = datetime.now(UTC) - self._sweep_after
        async with self._work() as work:
            # RETURNING follows no order of its own.
            rows = sorted(
                await self._take.fetch(work.connection, cutoff=cutoff), key=lambda row: row["id"]
            )
            if not rows:
                return 0
            await self._publish(rows)
            await work.commit()
        log.info("outbox relay swept %d rows left behind", len(rows))
        return len(rows)

    async def _publish(self, rows: Sequence[OutboxRow]) -> None:
        # Confirms are awaited together: one round trip per batch, not per row.
        await asyncio.gather(
            *(
                self._publisher.publish_raw(
                    event_type=row["event_type"],
                    routing_key=row["routing_key"],
                    data=row["data"],
                    subject=row["subject"],
                    event_id=str(row["event_id"]),
                    time=row["occurred_at"],
                )
                for row in rows
            )
        )
