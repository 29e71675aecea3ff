"""The unit of work: one database transaction, with the events it emits written to the outbox
in the same transaction. It rolls back unless committed."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from opencpms_contracts.base import Event
from opencpms_db.outbox import outbox_row


class UnitOfWork:
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
        self._sessions = sessions
        self._outbox = outbox
        self._on_commit = on_commit
        self._pending: list[dict[str, object]] = []
        self._committed = False

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        self._pending = []
        self._committed = False
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                await self.session.rollback()
        finally:
            await self.session.close()

    def emit(self, event: Event, *, subject: str | None) -> None:
        """Queues ``event`` for publication once this unit of work commits."""
        if self._outbox is None:
            raise RuntimeError("this service has no outbox: it emits no events")
        self._pending.append(outbox_row(event, subject=subject))

    async def commit(self) -> None:
        emitted = bool(self._pending)
        if self._pending and self._outbox is not None:
            await self.session.execute(insert(self._outbox), self._pending)
            self._pending = []
        await self.session.commit()
        self._committed = True
        if emitted and self._on_commit is not None:
            self._on_commit()

    async def rollback(self) -> None:
        self._pending = []
        await self.session.rollback()


UnitOfWorkFactory = Callable[[], UnitOfWork]
