"""The unit of work: one database transaction, with the events it emits written to the outbox
in the same transaction. It rolls back unless committed.

Two kinds share that: :class:`UnitOfWork` on an ORM session, for the operators' paths, and
:class:`DriverUnitOfWork` on the asyncpg connection itself, for the paths station messages take
(statements from :mod:`opencpms_db.driver`), at about an eighth of the CPU per statement
(``make bench`` prints both).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Self

import asyncpg
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import Insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from opencpms_contracts.base import Event
from opencpms_db.array_statements import as_arrays, insert_from_arrays
from opencpms_db.driver import DriverStatement, checkout
from opencpms_db.outbox import outbox_row

log = logging.getLogger(__name__)

# Given the outbox rows a commit wrote, in order (the outbox relay's ``hand_over``).
OnCommit = Callable[[list[dict[str, object]]], None]


class _OutboxWork:
    """What the kinds share: the events emitted, written to the outbox just before the commit,
    and the rollback on leaving unless committed."""

    def __init__(self, outbox: Table | None, on_commit: OnCommit | None) -> None:
        self._outbox = outbox
        self._on_commit = on_commit
        self._pending: list[dict[str, object]] = []
        self._committed = False

    def _open(self) -> None:
        self._pending = []
        self._committed = False

    def emit(self, event: Event, *, subject: str | None) -> None:
        """Queues ``event`` for publication once this unit of work commits."""
        if self._outbox is None:
            raise RuntimeError("this service has no outbox: it emits no events")
        self._pending.append(outbox_row(event, subject=subject))

    async def __aexit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        try:
            if not self._committed:
                try:
                    await self._rollback()
                except Exception:
                    # The error that ended the work is the one to report; the connection
                    # behind the failed rollback has been discarded.
                    if exc is None:
                        raise
                    log.warning("rollback failed after %r", exc, exc_info=True)
        finally:
            await self._close()

    async def commit(self) -> None:
        emitted, self._pending = self._pending, []
        if emitted and self._outbox is not None:
            await self._write_outbox(emitted)
        await self._commit()
        self._committed = True
        if emitted and self._on_commit is not None:
            self._on_commit(emitted)

    async def rollback(self) -> None:
        self._pending = []
        await self._rollback()

    # What each kind runs them on.
    async def _write_outbox(self, rows: list[dict[str, object]]) -> None:
        raise NotImplementedError

    async def _commit(self) -> None:
        raise NotImplementedError

    async def _rollback(self) -> None:
        raise NotImplementedError

    async def _close(self) -> None:
        raise NotImplementedError


class UnitOfWork(_OutboxWork):
    """Use as ``async with uow_factory() as uow: ...; await uow.commit()``.

    ``on_commit`` runs after a successful commit that emitted events, with the outbox rows it
    wrote; services pass the outbox relay's ``hand_over``, so events leave within milliseconds,
    published from memory rather than read back from the table.
    """

    session: AsyncSession

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Table | None,
        on_commit: OnCommit | None = None,
    ) -> None:
        super().__init__(outbox, on_commit)
        self._sessions = sessions

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        self._open()
        return self

    async def _write_outbox(self, rows: list[dict[str, object]]) -> None:
        assert self._outbox is not None
        await self.session.execute(_outbox_insert(self._outbox), as_arrays(rows, _OUTBOX_COLUMNS))

    async def _commit(self) -> None:
        await self.session.commit()

    async def _rollback(self) -> None:
        await self.session.rollback()

    async def _close(self) -> None:
        await self.session.close()


class DriverUnitOfWork(_OutboxWork):
    """The same on asyncpg: ``async with factory() as uow: ...; await uow.commit()``, statements
    (:class:`opencpms_db.driver.DriverStatement`) on ``uow.connection``.

    The connection is checked out of the engine's pool and this class runs BEGIN, COMMIT and
    ROLLBACK on it. SQLAlchemy never sees a statement on it, so its pool's rollback on return
    is a no-op: this class rolls back itself, and discards a connection whose rollback failed,
    or whose COMMIT failed or was interrupted (its state is then unknown), rather than return it
    to the pool mid-transaction.

    ``durable=False`` is for work whose loss in a database crash costs only a repeat: its
    COMMIT does not wait for the write-ahead log to reach disk. The outbox relays use it for the
    deletion of rows they published; lost, the rows are published again, which consumers absorb
    as they absorb any redelivery. Everything else stays durable: a station's answer, a
    read-model write whose event was acknowledged, a CDR.
    """

    connection: asyncpg.Connection

    def __init__(
        self,
        engine: AsyncEngine,
        outbox: Table | None,
        on_commit: OnCommit | None = None,
        *,
        durable: bool = True,
    ) -> None:
        super().__init__(outbox, on_commit)
        self._engine = engine
        self._outbox_insert = None if outbox is None else _driver_outbox_insert(outbox)
        # One round trip either way: without parameters asyncpg sends both in one message.
        self._begin = "BEGIN" if durable else "BEGIN; SET LOCAL synchronous_commit TO OFF"

    async def __aenter__(self) -> Self:
        self._pooled = await checkout(self._engine)
        self.connection = self._pooled.connection
        self._commit_sent = False
        try:
            await self.connection.execute(self._begin)
        except BaseException:
            await self._discard()
            raise
        self._open()
        return self

    async def _write_outbox(self, rows: list[dict[str, object]]) -> None:
        assert self._outbox_insert is not None
        await self._outbox_insert.execute(self.connection, **as_arrays(rows, _OUTBOX_COLUMNS))

    async def _commit(self) -> None:
        self._commit_sent = True
        status = await self.connection.execute("COMMIT")
        if status != "COMMIT":
            # PostgreSQL answers COMMIT in a failed transaction with ROLLBACK, not an error.
            raise RuntimeError(f"the transaction was not committed: {status}")

    async def _rollback(self) -> None:
        if self._commit_sent or self.connection.is_closed():
            await self._discard()
            return
        try:
            await self.connection.execute("ROLLBACK")
        except BaseException:
            await self._discard()
            raise

    async def _close(self) -> None:
        await self._pooled.give_back()

    async def _discard(self) -> None:
        await self._pooled.discard()


@functools.cache
def _outbox_insert(outbox: Table) -> Insert:
    # One statement for any number of rows, rather than one execution per row; built once per
    # outbox table and shared by both kinds of unit of work.
    return insert_from_arrays(outbox, _OUTBOX_COLUMNS)


@functools.cache
def _driver_outbox_insert(outbox: Table) -> DriverStatement:
    # One per outbox table, so its compiled forms are shared by every unit of work.
    return DriverStatement(_outbox_insert(outbox))


_OUTBOX_COLUMNS = ("event_id", "event_type", "routing_key", "subject", "data", "occurred_at")


UnitOfWorkFactory = Callable[[], UnitOfWork]
DriverUnitOfWorkFactory = Callable[[], DriverUnitOfWork]
