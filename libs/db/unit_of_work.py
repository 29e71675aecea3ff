"""The unit of work: one database transaction, with the events it emits written to the outbox
in the same transaction. It rolls back unless committed.

Two kinds share that: :class:`UnitOfWork` on an ORM session, and :class:`ConnectionUnitOfWork`
on a Core connection, for hot paths that load no ORM objects. A session per unit of work costs
about twice the CPU of a connection (``make bench`` prints both).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from opencpms_contracts.base import Event
from opencpms_db.outbox import outbox_row


class _OutboxWork:
    """What both kinds share: the events emitted, written to the outbox just before the commit,
    and the rollback on leaving unless committed."""

    def __init__(self, outbox: Table | None, on_commit: Callable[[], None] | None) -> None:
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

    def _executor(self) -> AsyncSession | AsyncConnection:
        """What the statements run on: the session or the connection."""
        raise NotImplementedError

    async def __aexit__(self, *exc_info: object) -> None:
        executor = self._executor()
        try:
            if not self._committed:
                await executor.rollback()
        finally:
            await executor.close()

    async def commit(self) -> None:
        executor = self._executor()
        emitted = bool(self._pending)
        if self._pending and self._outbox is not None:
            await executor.execute(insert(self._outbox), self._pending)
            self._pending = []
        await executor.commit()
        self._committed = True
        if emitted and self._on_commit is not None:
            self._on_commit()

    async def rollback(self) -> None:
        self._pending = []
        await self._executor().rollback()


class UnitOfWork(_OutboxWork):
    """Use as ``async with uow_factory() as uow: ...; await uow.commit()``.

    ``on_commit`` runs after a successful commit that emitted events; services pass the outbox
    relay's ``wake`` so events leave within milliseconds rather than at the next poll.
    """

    session: AsyncSession

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Table | None,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(outbox, on_commit)
        self._sessions = sessions

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        self._open()
        return self

    def _executor(self) -> AsyncSession:
        return self.session


class ConnectionUnitOfWork(_OutboxWork):
    """The same on a Core connection: ``async with factory() as uow: ...; await uow.commit()``,
    statements through ``uow.connection``."""

    connection: AsyncConnection

    def __init__(
        self,
        engine: AsyncEngine,
        outbox: Table | None,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(outbox, on_commit)
        self._engine = engine

    async def __aenter__(self) -> Self:
        self.connection = await self._engine.connect()
        self._open()
        return self

    def _executor(self) -> AsyncConnection:
        return self.connection


UnitOfWorkFactory = Callable[[], UnitOfWork]
ConnectionUnitOfWorkFactory = Callable[[], ConnectionUnitOfWork]
