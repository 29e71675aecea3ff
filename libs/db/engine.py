"""Async engines and sessions on asyncpg."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """An engine for ``postgresql+asyncpg://`` URLs (plain ``postgresql://`` is accepted)."""
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url.removeprefix("postgresql://")
    # No pre-ping: it costs a round trip per unit of work. The driver paths skip a connection
    # asyncpg saw the server close (opencpms_db.driver.checkout); on SQLAlchemy's own paths a
    # connection the server dropped fails its next statement, and SQLAlchemy then discards the
    # whole pool's stale connections. Either way an RPC answers with an error the caller
    # retries, and an event is redelivered.
    # No overflow: SQLAlchemy closes an overflow connection as soon as it returns to a full pool,
    # so a load above pool_size paid a login and re-prepared statements per unit of work.
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=False,
        pool_recycle=1800,
        echo=echo,
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
