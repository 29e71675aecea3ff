"""The queries the transactions handlers need."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from opencpms_db.array_insert import as_arrays, insert_from_arrays
from opencpms_db.paging import fetch_page
from opencpms_transactions.tables import (
    LockedTransaction,
    MeterSampleRecord,
    SeenSequenceNumber,
    TransactionRecord,
    transaction_ids,
)

_samples = cast(Table, MeterSampleRecord.__table__)
SAMPLE_COLUMNS = (
    "transaction_id",
    "station_id",
    "evse_id",
    "connector_id",
    "timestamp",
    "measurand",
    "phase",
    "location",
    "context",
    "unit",
    "value",
)
# One statement text for any number of samples, compiled and prepared once; on the table, not
# the ORM class, whose bulk-insert layer cost more than the statement for rows nobody reads back.
_INSERT_SAMPLES = (
    insert_from_arrays(_samples, SAMPLE_COLUMNS).on_conflict_do_nothing().returning(_samples.c.id)
)
_seen = cast(Table, SeenSequenceNumber.__table__)
_transactions = cast(Table, TransactionRecord.__table__)


async def next_transaction_id(connection: AsyncConnection) -> int:
    return int((await connection.execute(select(transaction_ids.next_value()))).scalar_one())


async def insert_transaction(
    connection: AsyncConnection, values: dict[str, Any], *, unique_on: list[str]
) -> int | None:
    """Inserts a transaction; None when one with the same ``unique_on`` key exists (decided by
    the unique constraint, so racing retries create one row)."""
    result = await connection.execute(
        insert(_transactions)
        .on_conflict_do_nothing(index_elements=unique_on)
        .returning(_transactions.c.id),
        values,
    )
    created: int | None = result.scalar_one_or_none()
    return created


_LOCK = (
    select(_transactions)
    .where(
        _transactions.c.station_id == bindparam("station_id"),
        _transactions.c.station_transaction_id == bindparam("station_transaction_id"),
    )
    .with_for_update()
)


async def locked_by_station_transaction_id(
    connection: AsyncConnection, station_id: str, station_transaction_id: str
) -> LockedTransaction | None:
    """The transaction, locked until commit so concurrent messages of one session apply one
    after the other."""
    result = await connection.execute(
        _LOCK, {"station_id": station_id, "station_transaction_id": station_transaction_id}
    )
    row = result.mappings().one_or_none()
    return None if row is None else LockedTransaction(**row)


async def by_start_key(connection: AsyncConnection, station_id: str, key: str) -> LockedTransaction:
    query = select(_transactions).where(
        _transactions.c.station_id == station_id, _transactions.c.start_key == key
    )
    return LockedTransaction(**(await connection.execute(query)).mappings().one())


# The SET clause follows the parameters given, so one statement serves every set of changes and
# the values are not walked for its cache key.
_UPDATE = update(_transactions).where(_transactions.c.id == bindparam("row_id"))


async def save(connection: AsyncConnection, row: LockedTransaction) -> None:
    """Writes what was assigned to ``row`` since it was read, in one UPDATE."""
    if not row.changed:
        return
    await connection.execute(_UPDATE, {"row_id": row.id, **row.changed})
    row.changed.clear()


async def claim_seq_no(connection: AsyncConnection, transaction_id: int, seq_no: int) -> bool:
    """Records a seqNo as applied; False when it already was."""
    result = await connection.execute(
        insert(_seen)
        .values(transaction_id=transaction_id, seq_no=seq_no)
        .on_conflict_do_nothing()
        .returning(_seen.c.seq_no)
    )
    return result.scalar_one_or_none() is not None


async def insert_samples(connection: AsyncConnection, rows: list[dict[str, Any]]) -> int:
    """Stores samples, skipping any stored before; returns how many were new."""
    if not rows:
        return 0
    result = await connection.execute(_INSERT_SAMPLES, as_arrays(rows, SAMPLE_COLUMNS))
    return len(result.all())


async def get(session: AsyncSession, transaction_id: int) -> TransactionRecord | None:
    return await session.get(TransactionRecord, transaction_id)


async def samples_of(session: AsyncSession, transaction_id: int) -> Sequence[MeterSampleRecord]:
    query = (
        select(MeterSampleRecord)
        .where(MeterSampleRecord.transaction_id == transaction_id)
        .order_by(MeterSampleRecord.timestamp, MeterSampleRecord.id)
    )
    return (await session.execute(query)).scalars().all()


async def list_transactions(
    session: AsyncSession,
    *,
    station_id: str | None,
    id_token: str | None,
    status: str | None,
    started_from: datetime | None,
    started_to: datetime | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[TransactionRecord], int]:
    """Newest start first; ``started_from`` inclusive, ``started_to`` exclusive."""
    query = select(TransactionRecord)
    if station_id is not None:
        query = query.where(TransactionRecord.station_id == station_id)
    if id_token is not None:
        query = query.where(TransactionRecord.id_token == id_token)
    if status is not None:
        query = query.where(TransactionRecord.status == status)
    if started_from is not None:
        query = query.where(TransactionRecord.started_at >= started_from)
    if started_to is not None:
        query = query.where(TransactionRecord.started_at < started_to)
    ordered = query.order_by(TransactionRecord.started_at.desc(), TransactionRecord.id.desc())
    return await fetch_page(session, ordered, limit=limit, offset=offset)


async def summarize(
    session: AsyncSession, *, started_from: datetime, started_to: datetime, station_id: str | None
) -> tuple[int, int, int]:
    """(sessions, energy in Wh, running now) for sessions started in the period."""
    in_period = select(func.count(), func.coalesce(func.sum(TransactionRecord.energy_wh), 0)).where(
        TransactionRecord.started_at >= started_from, TransactionRecord.started_at < started_to
    )
    running = select(func.count()).where(TransactionRecord.status == "Running")
    if station_id is not None:
        in_period = in_period.where(TransactionRecord.station_id == station_id)
        running = running.where(TransactionRecord.station_id == station_id)
    sessions, energy_wh = (await session.execute(in_period)).one()
    return int(sessions), int(energy_wh), int((await session.execute(running)).scalar_one())
