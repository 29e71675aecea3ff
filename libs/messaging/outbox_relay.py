"""Moves committed outbox rows onto the broker (ARCHITECTURE §5).

Rows are taken with ``FOR UPDATE SKIP LOCKED`` so replicas of a service relay in parallel
without publishing a row twice; a row's deletion commits only after the broker confirmed it. If
the process dies between confirm and commit the event is published again with the same
CloudEvents id, which consumers' inboxes absorb.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import Table, delete, select

from opencpms_db.driver import DriverStatement
from opencpms_db.unit_of_work import DriverUnitOfWorkFactory
from opencpms_messaging.publisher import EventPublisher

log = logging.getLogger(__name__)


class OutboxRelay:
    """``work`` opens a unit of work on the driver, not durable
    (``DriverUnitOfWork(engine, None, durable=False)``): a relay pass follows every commit that
    emitted events, so its statements and its commit's wait for the disk are paid per message;
    a pass lost in a database crash only publishes its rows again."""

    def __init__(
        self,
        work: DriverUnitOfWorkFactory,
        outbox: Table,
        publisher: EventPublisher,
        *,
        batch_size: int = 200,
        poll_interval: float = 1.0,
    ) -> None:
        self._work = work
        t = outbox
        # Taken and deleted in one statement, inside the pass's transaction: the deletion holds
        # only if the broker confirmed every row, since a failed pass rolls it back. Replicas
        # skip each other's rows.
        batch = select(t.c.id).order_by(t.c.id).limit(batch_size).with_for_update(skip_locked=True)
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
        self._publisher = publisher
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        """Called after a commit that wrote outbox rows."""
        self._wakeup.set()

    async def run(self) -> None:
        """Relays until cancelled; survives database and broker outages by retrying."""
        while True:
            # Cleared before the batch, not after: a wake() that arrives while the batch runs
            # must trigger another pass instead of being erased.
            self._wakeup.clear()
            try:
                relayed = await self.relay_batch()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay failed; retrying")
                relayed = 0
                await asyncio.sleep(self._poll_interval)
            if relayed < self._batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), self._poll_interval)

    async def relay_batch(self) -> int:
        """Publishes one batch in id order and deletes it; returns how many rows it relayed."""
        async with self._work() as work:
            # RETURNING follows no order of its own.
            rows = sorted(await self._take.fetch(work.connection), key=lambda row: row["id"])
            if not rows:
                return 0
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
            await work.commit()
        return len(rows)
