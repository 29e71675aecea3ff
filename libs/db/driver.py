"""Statements run on the asyncpg connection itself, for the paths a station's messages take.

A statement through SQLAlchemy Core on an open connection costs about two and a half times the
driver's own CPU (``make bench`` prints both), and those paths make five or six per message.
The statements are still written as Core: :class:`DriverStatement` compiles each once to the
SQL text and parameter order asyncpg takes, with its columns' bind processing (JSON is encoded
as SQLAlchemy would). The connection comes from the engine's pool
(:class:`opencpms_db.unit_of_work.DriverUnitOfWork`), so a service keeps one connection budget.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, cast

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement
from sqlalchemy.util.concurrency import greenlet_spawn

# The engines (opencpms_db.engine) use this dialect's defaults, the JSON serializer included.
_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    # Values written into the statement itself (``.limit(1)``), sent as parameters too.
    constants: Mapping[str, Any]

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        if self.constants:
            params = {**self.constants, **params}
        return [
            params[name] if process is None else process(params[name])
            for name, process in zip(self.names, self.processors, strict=True)
        ]


StatementBuilder = Callable[[tuple[str, ...]], ClauseElement]


class DriverStatement:
    """A Core statement run on asyncpg, compiled once per set of parameter names.

    An INSERT or UPDATE without a VALUES/SET clause takes its columns from the parameters
    given, as SQLAlchemy does. A statement whose shape depends on them in other ways (an
    upsert's SET clause) is given as a builder instead: it gets the names, sorted, and is
    called once per set of names."""

    def __init__(self, statement: ClauseElement | StatementBuilder) -> None:
        self._statement = statement
        self._compiled: dict[frozenset[str], _Compiled] = {}

    def compiled(self, params: Mapping[str, Any]) -> _Compiled:
        key = frozenset(params)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = self._compile(list(params))
        return found

    def _compile(self, keys: list[str]) -> _Compiled:
        statement = self._statement
        if not isinstance(statement, ClauseElement):
            statement = statement(tuple(sorted(keys)))
        compiled = cast(SQLCompiler, statement.compile(dialect=_DIALECT, column_keys=keys))
        names = tuple(compiled.positiontup or ())
        given = set(keys)
        try:
            # The given names as placeholders: what comes back besides is written into the
            # statement; a required parameter left out raises.
            values = compiled.construct_params(dict.fromkeys(keys))
        except InvalidRequestError as exc:
            raise ValueError(f"{exc} in: {compiled.string}") from exc
        constants = {name: value for name, value in values.items() if name not in given}
        constants |= _python_defaults(compiled, given)
        processors = tuple(
            compiled.binds[name].type.dialect_impl(_DIALECT).bind_processor(_DIALECT)
            for name in names
        )
        return _Compiled(compiled.string, names, processors, constants)

    async def fetch(self, connection: asyncpg.Connection, **params: Any) -> list[asyncpg.Record]:
        compiled = self.compiled(params)
        return list(await connection.fetch(compiled.sql, *compiled.arguments(params)))

    async def fetchrow(
        self, connection: asyncpg.Connection, **params: Any
    ) -> asyncpg.Record | None:
        compiled = self.compiled(params)
        row: asyncpg.Record | None = await connection.fetchrow(
            compiled.sql, *compiled.arguments(params)
        )
        return row

    async def fetchval(self, connection: asyncpg.Connection, **params: Any) -> Any:
        compiled = self.compiled(params)
        return await connection.fetchval(compiled.sql, *compiled.arguments(params))

    async def execute(self, connection: asyncpg.Connection, **params: Any) -> None:
        compiled = self.compiled(params)
        await connection.execute(compiled.sql, *compiled.arguments(params))

    async def executemany(
        self, connection: asyncpg.Connection, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """One statement for rows that share their keys, pipelined by the driver."""
        if not rows:
            return
        compiled = self.compiled(rows[0])
        await connection.executemany(compiled.sql, [compiled.arguments(row) for row in rows])


def _python_defaults(compiled: SQLCompiler, given: set[str]) -> dict[str, Any]:
    """The columns' Python-side defaults the statement leaves to its execution, which
    SQLAlchemy fills in there and the driver knows nothing of."""
    defaults: dict[str, Any] = {}
    prefetched = ((compiled.insert_prefetch, "default"), (compiled.update_prefetch, "onupdate"))
    for columns, attribute in prefetched:
        for column in columns:
            if column.key in given:
                continue
            default = getattr(column, attribute)
            if default is None or not default.is_scalar:
                raise ValueError(
                    f"column {column.key} has a default computed in Python; pass it as a parameter"
                )
            defaults[column.key] = default.arg
    return defaults


DriverReads = Callable[[], AbstractAsyncContextManager[asyncpg.Connection]]


def driver_reads(engine: AsyncEngine) -> DriverReads:
    """Pooled connections for lookups on the hot path (``async with reads() as connection``),
    outside any transaction: a lookup is one round trip, not BEGIN, SELECT and ROLLBACK.
    Nothing is written through them; writes use a unit of work."""

    @contextlib.asynccontextmanager
    async def read() -> AsyncIterator[asyncpg.Connection]:
        pooled = await checkout(engine)
        try:
            yield pooled.connection
        finally:
            await pooled.give_back()

    return read


class PooledConnection:
    """A driver connection checked out of an engine's pool, outside SQLAlchemy's ``Connection``.

    Through ``AsyncEngine.connect()`` a checkout and its return took three greenlet switches and
    about 100 µs of CPU, as much as a statement; here the checkout takes one switch (it may
    connect or recycle, which needs the event loop) and the return none: a connection given
    back clean, outside a transaction, is only put back in the queue, which does no I/O. That
    holds for pools without overflow (``opencpms_db.engine.create_engine``); a pool with overflow
    closes a connection returned to a full queue, which needs the event loop.
    """

    def __init__(self, fairy: PoolProxiedConnection, connection: asyncpg.Connection) -> None:
        self._fairy = fairy
        self.connection = connection

    @property
    def closed(self) -> bool:
        return not self._fairy.is_valid

    async def give_back(self) -> None:
        """Returns the connection to the pool, or discards it when it is closed or was left
        inside a transaction: SQLAlchemy never ran a statement on it, so it would not notice."""
        if self.closed:
            return
        if self.connection.is_closed() or self.connection.is_in_transaction():
            await self.discard()
        else:
            self._fairy.close()  # back into the pool's queue: no I/O, no greenlet needed

    async def discard(self) -> None:
        """Closes the connection instead of returning it (its state is unknown or broken)."""
        if not self.closed:
            # Closes the driver connection (I/O, hence the greenlet) and checks the pool's
            # record back in, to be connected anew by the next checkout.
            await greenlet_spawn(self._fairy.invalidate)


async def checkout(engine: AsyncEngine) -> PooledConnection:
    """A pooled connection and its driver connection, outside any transaction.

    SQLAlchemy discards a whole pool's stale connections when one of its statements finds the
    server gone; statements on the driver never tell it. asyncpg does notice an idle connection
    the server closed (a restart, a failover), so such connections are skipped here instead of
    failing one unit of work each."""
    pool = engine.sync_engine.pool
    for _ in range(_pool_capacity(engine) + 1):
        fairy = await greenlet_spawn(pool.connect)
        try:
            adapted = fairy.dbapi_connection
            assert adapted is not None
            pooled = PooledConnection(fairy, adapted.driver_connection)
        except BaseException:
            await greenlet_spawn(fairy.close)
            raise
        if pooled.connection.is_closed():
            await pooled.discard()
            continue
        if pooled.connection.is_in_transaction():
            # Every path returns its connections outside a transaction; one that did not would
            # turn the next unit of work's BEGIN into a savepoint and its commit into a release.
            await pooled.discard()
            raise RuntimeError("a pooled connection came back inside a transaction")
        return pooled
    raise ConnectionError("no live database connection after trying the whole pool")


def _pool_capacity(engine: AsyncEngine) -> int:
    size = getattr(engine.pool, "size", None)
    return int(size()) if callable(size) else 1
