"""The queries the transactions handlers need."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import asyncpg
from sqlalchemy import Table, bindparam, exists, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from opencpms_db.array_statements import as_arrays, insert_from_arrays, update_from_arrays
from opencpms_db.driver import DriverStatement
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
_seen = cast(Table, SeenSequenceNumber.__table__)
_transactions = cast(Table, TransactionRecord.__table__)

# The station messages' statements run on the driver (opencpms_db.driver); the queries below
# load ORM rows.

_NEXT_ID = DriverStatement(select(transaction_ids.next_value()))


async def next_transaction_id(connection: asyncpg.Connection) -> int:
    return int(await _NEXT_ID.fetchval(connection))


_INSERT_UNIQUE_ON = {
    key: DriverStatement(
        insert(_transactions)
        .on_conflict_do_nothing(index_elements=list(key))
        .returning(*_transactions.c)
    )
    for key in (("station_id", "start_key"), ("station_id", "station_transaction_id"))
}


async def insert_transaction(
    connection: asyncpg.Connection, values: dict[str, Any], *, unique_on: tuple[str, str]
) -> LockedTransaction | None:
    """Inserts a transaction and returns its row; None when one with the same ``unique_on`` key
    exists (decided by the unique constraint, so racing retries create one row). The new row
    needs no lock of its own: nobody else sees it before the commit, and a racing insert of the
    same key waits for that commit."""
    row = await _INSERT_UNIQUE_ON[unique_on].fetchrow(connection, **values)
    return None if row is None else LockedTransaction(**row)


_LOCK_QUERY = (
    select(_transactions)
    .where(
        _transactions.c.station_id == bindparam("station_id"),
        _transactions.c.station_transaction_id == bindparam("station_transaction_id"),
    )
    .with_for_update()
)
_LOCK = DriverStatement(_LOCK_QUERY)


async def locked_by_station_transaction_id(
    connection: asyncpg.Connection, station_id: str, station_transaction_id: str
) -> LockedTransaction | None:
    """The transaction, locked until commit so concurrent messages of one session apply one
    after the other."""
    row = await _LOCK.fetchrow(
        connection, station_id=station_id, station_transaction_id=station_transaction_id
    )
    return None if row is None else LockedTransaction(**row)


_BY_START_KEY = DriverStatement(
    select(_transactions).where(
        _transactions.c.station_id == bindparam("station_id"),
        _transactions.c.start_key == bindparam("start_key"),
    )
)


async def by_start_key(
    connection: asyncpg.Connection, station_id: str, key: str
) -> LockedTransaction:
    row = await _BY_START_KEY.fetchrow(connection, station_id=station_id, start_key=key)
    assert row is not None, (station_id, key)
    return LockedTransaction(**row)


# The SET clause follows the parameters given: one compiled form per set of changed columns.
_UPDATE = DriverStatement(update(_transactions).where(_transactions.c.id == bindparam("row_id")))


async def save(connection: asyncpg.Connection, row: LockedTransaction) -> None:
    """Writes what was assigned to ``row`` since it was read, in one UPDATE."""
    if not row.changed:
        return
    await _UPDATE.fetch(connection, row_id=row.id, **row.changed)
    row.changed.clear()


# The rows of a set of changed columns in one statement, whatever their number.
_UPDATE_MANY = DriverStatement(
    lambda names: update_from_arrays(
        _transactions, "id", [name for name in names if name != "row_id"], key_param="row_id"
    )
)


async def save_many(connection: asyncpg.Connection, rows: Sequence[LockedTransaction]) -> None:
    """:func:`save` for many rows: one statement per set of changed columns (meter values change
    the same ones, so a group of them is one statement). Each row appears once."""
    alike: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row.changed:
            alike[tuple(sorted(row.changed))].append({"row_id": row.id, **row.changed})
            row.changed.clear()
    for names, params in alike.items():
        if len(params) == 1:
            await _UPDATE.execute(connection, **params[0])
        else:
            await _UPDATE_MANY.execute(connection, **as_arrays(params, ("row_id", *names)))


_CLAIM_SEQ_NO = DriverStatement(
    insert(_seen)
    .values(transaction_id=bindparam("transaction_id"), seq_no=bindparam("seq_no"))
    .on_conflict_do_nothing()
    .returning(_seen.c.seq_no)
)


async def claim_seq_no(connection: asyncpg.Connection, transaction_id: int, seq_no: int) -> bool:
    """Records a seqNo as applied; False when it already was."""
    claimed = await _CLAIM_SEQ_NO.fetchrow(connection, transaction_id=transaction_id, seq_no=seq_no)
    return claimed is not None


def _lock_and_claim() -> DriverStatement:
    # The claim reads the locked row, so it runs after the lock is held: a concurrent message of
    # the same transaction waits on the lock, then finds this seqNo taken.
    locked = _LOCK_QUERY.cte("locked")
    claimed = (
        insert(_seen)
        .from_select(
            ["transaction_id", "seq_no"],
            select(locked.c.id, bindparam("seq_no", type_=_seen.c.seq_no.type)),
        )
        .on_conflict_do_nothing()
        .returning(_seen.c.seq_no)
        .cte("claimed")
    )
    was_claimed = exists(select(claimed.c.seq_no)).label(_CLAIMED)
    return DriverStatement(select(locked, was_claimed))


_CLAIMED = "seq_no_claimed"
_LOCK_AND_CLAIM = _lock_and_claim()


async def locked_and_claimed(
    connection: asyncpg.Connection, station_id: str, station_transaction_id: str, seq_no: int
) -> tuple[LockedTransaction, bool] | None:
    """:func:`locked_by_station_transaction_id` and :func:`claim_seq_no` in one round trip:
    the row locked, and False beside it when ``seq_no`` was applied before."""
    row = await _LOCK_AND_CLAIM.fetchrow(
        connection,
        station_id=station_id,
        station_transaction_id=station_transaction_id,
        seq_no=seq_no,
    )
    if row is None:
        return None
    values = dict(row)
    claimed = bool(values.pop(_CLAIMED))
    return LockedTransaction(**values), claimed


# New transactions of many starts in one statement, each 2.0.1 start's seqNo claimed with it.
# Every row draws its id; a 1.6 row's station transaction id is that id (the transactionId its
# station is answered). A start whose row exists (either unique key) is left out of the answer.
_INSERT_NEW = DriverStatement(
    text(
        """
        WITH numbered AS (
            SELECT nextval('transactions.transaction_ids') AS id, w.*
            FROM unnest(
                CAST(:station_id AS text[]),
                CAST(:station_transaction_id AS text[]),
                CAST(:start_key AS text[]),
                CAST(:evse_id AS integer[]),
                CAST(:connector_id AS integer[]),
                CAST(:status AS text[]),
                CAST(:implicit AS boolean[]),
                CAST(:id_token AS text[]),
                CAST(:id_token_type AS text[]),
                CAST(:id_token_info AS text[]),
                CAST(:started_at AS timestamptz[]),
                CAST(:meter_start_wh AS bigint[]),
                CAST(:energy_wh AS bigint[]),
                CAST(:charging_state AS text[]),
                CAST(:reservation_id AS bigint[]),
                CAST(:updated_at AS timestamptz[]),
                CAST(:seq_no AS bigint[])
            ) WITH ORDINALITY AS w(
                station_id, station_transaction_id, start_key, evse_id, connector_id, status,
                implicit, id_token, id_token_type, id_token_info, started_at, meter_start_wh,
                energy_wh, charging_state, reservation_id, updated_at, seq_no, place
            )
        ), created AS (
            INSERT INTO transactions.transactions (
                id, station_id, station_transaction_id, start_key, evse_id, connector_id, status,
                implicit, id_token, id_token_type, id_token_info, started_at, meter_start_wh,
                energy_wh, charging_state, reservation_id, updated_at
            )
            SELECT id, station_id, coalesce(station_transaction_id, id::text), start_key,
                evse_id, connector_id, status, implicit, id_token, id_token_type,
                CAST(id_token_info AS jsonb), started_at, meter_start_wh, energy_wh,
                charging_state, reservation_id, updated_at
            FROM numbered
            ORDER BY place
            ON CONFLICT DO NOTHING
            RETURNING *
        ), claimed AS (
            INSERT INTO transactions.seen_seq_nos (transaction_id, seq_no)
            SELECT created.id, numbered.seq_no
            FROM created JOIN numbered ON numbered.id = created.id
            WHERE numbered.seq_no IS NOT NULL
        )
        SELECT * FROM created
        """
    )
)
_NEW_ROW_COLUMNS = (
    "station_id",
    "station_transaction_id",
    "start_key",
    "evse_id",
    "connector_id",
    "status",
    "implicit",
    "id_token",
    "id_token_type",
    "started_at",
    "meter_start_wh",
    "energy_wh",
    "charging_state",
    "reservation_id",
    "updated_at",
    "seq_no",
)


async def insert_new_transactions(
    connection: asyncpg.Connection, rows: Sequence[dict[str, Any]]
) -> list[LockedTransaction]:
    """The transactions of many starts inserted at once: ``rows`` as :func:`insert_transaction`
    takes them, with ``station_transaction_id`` None and a ``start_key`` for a 1.6 start, and
    the 2.0.1 ``seq_no`` to claim; the rows created. A start whose business key,
    ``(station_id, start_key)`` or ``(station_id, station_transaction_id)``, exists already
    creates none; at most one start of ``rows`` may carry each key. Like
    :func:`insert_transaction`, the new rows need no lock."""
    if not rows:
        return []
    params = as_arrays(rows, _NEW_ROW_COLUMNS)
    # An array of JSON text, cast in the statement: asyncpg has no codec for arrays of jsonb.
    params["id_token_info"] = [
        None if row["id_token_info"] is None else json.dumps(row["id_token_info"]) for row in rows
    ]
    found = await _INSERT_NEW.fetch(connection, **params)
    return [LockedTransaction(**record) for record in found]


# The rows of many (station, transaction) keys locked in one statement, each with its seqNo
# claimed. Locks are taken in the keys' byte order, the order in which a group commit sorts its
# messages (opencpms_db.write_batch), so that groups mostly queue behind each other; a deadlock
# PostgreSQL finds anyway fails the group, whose messages are then retried one by one.
_LOCK_AND_CLAIM_MANY = DriverStatement(
    text(
        """
        WITH wanted AS (
            SELECT * FROM unnest(
                CAST(:station_ids AS text[]),
                CAST(:station_transaction_ids AS text[]),
                CAST(:seq_nos AS bigint[])
            ) AS w(station_id, station_transaction_id, seq_no)
        ), locked AS (
            SELECT t.*, w.seq_no AS wanted_seq_no
            FROM transactions.transactions AS t
            JOIN wanted AS w
                ON t.station_id = w.station_id
                AND t.station_transaction_id = w.station_transaction_id
            ORDER BY t.station_id COLLATE "C", t.station_transaction_id COLLATE "C"
            FOR UPDATE OF t
        ), claimed AS (
            INSERT INTO transactions.seen_seq_nos (transaction_id, seq_no)
            SELECT id, wanted_seq_no FROM locked WHERE wanted_seq_no IS NOT NULL
            ON CONFLICT DO NOTHING
            RETURNING transaction_id
        )
        SELECT locked.*,
            locked.wanted_seq_no IS NULL
                OR locked.id IN (SELECT transaction_id FROM claimed) AS seq_no_claimed
        FROM locked
        """
    )
)
_ROW_FIELDS = frozenset(_transactions.c.keys())


async def locked_and_claimed_many(
    connection: asyncpg.Connection, keys: Sequence[tuple[str, str, int | None]]
) -> dict[tuple[str, str], tuple[LockedTransaction, bool]]:
    """:func:`locked_and_claimed` for distinct ``(station_id, station_transaction_id, seq_no)``
    keys at once (``seq_no`` None claims nothing and counts as new); keys of transactions that
    do not exist are missing from the answer."""
    found = await _LOCK_AND_CLAIM_MANY.fetch(
        connection,
        station_ids=[key[0] for key in keys],
        station_transaction_ids=[key[1] for key in keys],
        seq_nos=[key[2] for key in keys],
    )
    rows = {}
    for record in found:
        row = LockedTransaction(**{name: record[name] for name in _ROW_FIELDS})
        rows[(row.station_id, row.station_transaction_id)] = (row, bool(record[_CLAIMED]))
    return rows


# One statement text for any number of samples, compiled and prepared once.
_INSERT_SAMPLES = DriverStatement(
    insert_from_arrays(_samples, SAMPLE_COLUMNS).on_conflict_do_nothing().returning(_samples.c.id)
)


async def insert_samples(connection: asyncpg.Connection, rows: list[dict[str, Any]]) -> int:
    """Stores samples, skipping any stored before; returns how many were new."""
    if not rows:
        return 0
    return len(await _INSERT_SAMPLES.fetch(connection, **as_arrays(rows, SAMPLE_COLUMNS)))


_INSERT_SAMPLES_OF = DriverStatement(
    insert_from_arrays(_samples, SAMPLE_COLUMNS)
    .on_conflict_do_nothing()
    .returning(_samples.c.transaction_id)
)


async def insert_samples_of_transactions(
    connection: asyncpg.Connection, rows: list[dict[str, Any]]
) -> Counter[int]:
    """:func:`insert_samples` for the samples of many transactions: how many were new, per
    transaction id."""
    if not rows:
        return Counter()
    stored = await _INSERT_SAMPLES_OF.fetch(connection, **as_arrays(rows, SAMPLE_COLUMNS))
    return Counter(record[0] for record in stored)


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
