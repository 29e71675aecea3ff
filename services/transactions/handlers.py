"""Use cases of the transactions service: the station's transaction messages and the queries.

Each takes the message and keyword-only dependencies (``writes``, ``sessions``, ``clock``)
bound by the composition root; ``HANDLERS`` routes every RPC operation of the service.

Station messages share transactions (``writes``, a group commit): the messages of many
stations that arrive together are applied one after another in one database transaction and
answered once it has committed, so a busy service pays one BEGIN, COMMIT and disk flush per
batch rather than per message. Each message's step is the same as if it ran alone.

Stations retry and replay (ARCHITECTURE §5), so every write is idempotent by a business key:
a 1.6 start by its start key, a 2.0.1 event by (transaction, seqNo), samples by their reading.
``transaction.started`` is emitted when a transaction's row is created, ``transaction.ended``
when it first becomes Ended: once each, whatever the order in which messages arrive.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from opencpms_contracts import transactions as contract
from opencpms_contracts.common import IdToken, MeterValue
from opencpms_db.unit_of_work import DriverUnitOfWork
from opencpms_db.write_batch import WriteBatch
from opencpms_transactions import domain, records, repository
from opencpms_transactions.clock import Clock
from opencpms_transactions.errors import TransactionNotFoundError
from opencpms_transactions.tables import LockedTransaction

log = logging.getLogger(__name__)

# Station messages run on the driver (DriverUnitOfWork); the queries load ORM rows.
Sessions = async_sessionmaker[AsyncSession]

RUNNING = contract.TransactionStatus.RUNNING.value
ENDED = contract.TransactionStatus.ENDED.value


# -- station messages -------------------------------------------------------------------------


async def start_transaction(
    msg: contract.StartTransaction, *, writes: WriteBatch, clock: Clock
) -> contract.TransactionAccepted:
    async def step(work: DriverUnitOfWork) -> contract.TransactionAccepted:
        if msg.station_transaction_id is None:
            return await _start_16(work, msg, clock())
        return await _start_2(work, msg, msg.station_transaction_id, clock())

    return await writes.run_work(_lock_order(msg), step)


async def _start_16(
    work: DriverUnitOfWork, msg: contract.StartTransaction, now: datetime
) -> contract.TransactionAccepted:
    key = domain.start_key(
        evse_id=msg.evse_id,
        connector_id=msg.connector_id,
        started_at=msg.started_at,
        id_token=msg.id_token.value if msg.id_token else None,
    )
    transaction_id = await repository.next_transaction_id(work.connection)
    values = _new_row(msg, station_transaction_id=str(transaction_id), now=now)
    created = await repository.insert_transaction(
        work.connection,
        {**values, "id": transaction_id, "start_key": key},
        unique_on=("station_id", "start_key"),
    )
    if created is None:
        existing = await repository.by_start_key(work.connection, msg.station_id, key)
        log.info("%s repeated StartTransaction %s", msg.station_id, existing.id)
        return _accepted(existing, duplicate=True)
    row = await _locked(work, msg.station_id, str(transaction_id))
    assert row is not None
    await _record_values(work, row, msg.meter_values, now)
    await repository.save(work.connection, row)
    work.emit(records.started_event(row), subject=row.station_id)
    return _accepted(row, duplicate=False)


async def _start_2(
    work: DriverUnitOfWork,
    msg: contract.StartTransaction,
    station_transaction_id: str,
    now: datetime,
) -> contract.TransactionAccepted:
    values = _new_row(msg, station_transaction_id=station_transaction_id, now=now)
    created = await repository.insert_transaction(
        work.connection, values, unique_on=("station_id", "station_transaction_id")
    )
    row = await _locked(work, msg.station_id, station_transaction_id)
    assert row is not None  # inserted now, or by the earlier message the insert collided with
    if created is not None:
        await _claim(work, row, msg.seq_no)
        await _record_values(work, row, msg.meter_values, now)
        await repository.save(work.connection, row)
        work.emit(records.started_event(row), subject=row.station_id)
        return _accepted(row, duplicate=False)
    if not await _claim(work, row, msg.seq_no):
        return _accepted(row, duplicate=True)
    # The transaction was created from a later event whose Started had not arrived (an offline
    # queue delivered out of order): fill in what only the start knows.
    if row.implicit:
        row.implicit = False
        row.evse_id, row.connector_id = msg.evse_id, msg.connector_id
        row.started_at = min(row.started_at, msg.started_at)
    if row.id_token is None and msg.id_token is not None:
        _set_token(row, msg.id_token)
    if row.id_token_info is None and msg.id_token_info is not None:
        row.id_token_info = msg.id_token_info.model_dump(mode="json")
    if row.meter_start_wh is None:
        row.meter_start_wh = msg.meter_start_wh
    if row.reservation_id is None:
        row.reservation_id = msg.reservation_id
    await _record_values(work, row, msg.meter_values, now)
    row.energy_wh = _energy(row)
    await repository.save(work.connection, row)
    return _accepted(row, duplicate=False)


async def update_transaction(
    msg: contract.UpdateTransaction, *, writes: WriteBatch, clock: Clock
) -> contract.TransactionAccepted:
    accepted: contract.TransactionAccepted = await writes.run_together(
        _lock_order(msg), (msg, clock()), _update_many
    )
    return accepted


async def _update(
    work: DriverUnitOfWork, msg: contract.UpdateTransaction, now: datetime
) -> contract.TransactionAccepted:
    row, claimed = await _existing_or_implicit(
        work, msg, started_at=_earliest(msg.meter_values, msg.timestamp), now=now
    )
    if not claimed:
        return _accepted(row, duplicate=True)
    changed_state = _take_token_and_state(row, msg)
    stored = await _record_values(work, row, msg.meter_values, now)
    accepted = _updated(work, row, msg, stored=stored, changed_state=changed_state)
    await repository.save(work.connection, row)
    return accepted


async def _update_many(
    work: DriverUnitOfWork, items: list[tuple[contract.UpdateTransaction, datetime]]
) -> list[contract.TransactionAccepted]:
    """:func:`_update` for many messages at once, in four statements rather than four per
    message: rows locked and seqNos claimed, samples stored, rows written (the outbox with the
    commit). What the bulk path does not cover (a transaction never seen, a second message of
    the same transaction) then runs message by message, in order."""
    answers: list[contract.TransactionAccepted | None] = [None] * len(items)
    first: dict[tuple[str, str], int] = {}
    one_by_one: list[int] = []
    for place, (msg, _now) in enumerate(items):
        key = (msg.station_id, msg.station_transaction_id)
        if key in first:
            one_by_one.append(place)
        else:
            first[key] = place
    found = await repository.locked_and_claimed_many(
        work.connection, [(*key, items[place][0].seq_no) for key, place in first.items()]
    )
    applied: list[tuple[int, LockedTransaction, bool]] = []
    samples: list[dict[str, Any]] = []
    for key, place in first.items():
        msg, now = items[place]
        if key not in found:
            one_by_one.append(place)
            continue
        row, claimed = found[key]
        if not claimed:
            assert msg.seq_no is not None  # only a seqNo can have been applied before
            _log_replay(row, msg.seq_no)
            answers[place] = _accepted(row, duplicate=True)
            continue
        applied.append((place, row, _take_token_and_state(row, msg)))
        samples += _sample_rows(row, msg.meter_values)
    stored = await repository.insert_samples_of_transactions(work.connection, samples)
    for place, row, changed_state in applied:
        msg, now = items[place]
        _fold(row, msg.meter_values, stored[row.id], now)
        answers[place] = _updated(
            work, row, msg, stored=stored[row.id], changed_state=changed_state
        )
    await repository.save_many(work.connection, [row for _place, row, _changed in applied])
    for place in sorted(one_by_one):
        answers[place] = await _update(work, *items[place])
    done = [answer for answer in answers if answer is not None]
    assert len(done) == len(items), "every message is answered"
    return done


def _take_token_and_state(row: LockedTransaction, msg: contract.UpdateTransaction) -> bool:
    """Applies the message's token and charging state; whether the state changed."""
    if msg.id_token is not None and row.id_token is None:
        _set_token(row, msg.id_token)
    changed_state = msg.charging_state is not None and msg.charging_state != row.charging_state
    if msg.charging_state is not None:
        row.charging_state = msg.charging_state
    return changed_state


def _updated(
    work: DriverUnitOfWork,
    row: LockedTransaction,
    msg: contract.UpdateTransaction,
    *,
    stored: int,
    changed_state: bool,
) -> contract.TransactionAccepted:
    """Emits what an applied update changed; the answer to it."""
    if (stored or changed_state) and row.status == RUNNING:
        work.emit(
            records.updated_event(row, timestamp=msg.timestamp, values=msg.meter_values),
            subject=row.station_id,
        )
    return _accepted(row, duplicate=not (stored or changed_state))


async def end_transaction(
    msg: contract.EndTransaction, *, writes: WriteBatch, clock: Clock
) -> contract.TransactionAccepted:
    return await writes.run_work(_lock_order(msg), lambda work: _end(work, msg, clock()))


async def _end(
    work: DriverUnitOfWork, msg: contract.EndTransaction, now: datetime
) -> contract.TransactionAccepted:
    row, claimed = await _existing_or_implicit(
        work, msg, started_at=_earliest(msg.meter_values, msg.ended_at), now=now
    )
    if not claimed:
        return _accepted(row, duplicate=True)
    await _record_values(work, row, msg.meter_values, now)
    if row.status == ENDED:
        log.info("%s ended transaction %s again", row.station_id, row.id)
        accepted = _accepted(row, duplicate=True)
    else:
        row.status = ENDED
        row.ended_at = msg.ended_at
        row.stop_reason = msg.stop_reason
        if msg.meter_stop_wh is not None:
            row.meter_stop_wh = msg.meter_stop_wh
        if row.id_token is None and msg.id_token is not None:
            _set_token(row, msg.id_token)
        row.energy_wh = _energy(row)
        work.emit(records.ended_event(row), subject=row.station_id)
        accepted = _accepted(row, duplicate=False)
    await repository.save(work.connection, row)
    return accepted


async def record_meter_values(
    msg: contract.RecordMeterValues, *, writes: WriteBatch
) -> contract.MeterValuesRecorded:
    rows = records.sample_rows(
        msg.meter_values,
        station_id=msg.station_id,
        evse_id=msg.evse_id,
        connector_id=msg.connector_id,
        transaction_id=None,
    )
    stored = await writes.run_work(
        msg.station_id, lambda work: repository.insert_samples(work.connection, rows)
    )
    return contract.MeterValuesRecorded(stored=stored)


# -- queries ----------------------------------------------------------------------------------


async def list_transactions(
    msg: contract.ListTransactions, *, sessions: Sessions
) -> contract.TransactionPage:
    async with sessions() as session:
        rows, total = await repository.list_transactions(
            session,
            station_id=msg.station_id,
            id_token=msg.id_token,
            status=msg.status.value if msg.status else None,
            started_from=msg.started_from,
            started_to=msg.started_to,
            limit=msg.limit,
            offset=msg.offset,
        )
        items = [records.summary(row) for row in rows]
    return contract.TransactionPage(items=items, total=total, limit=msg.limit, offset=msg.offset)


async def get_transaction(
    msg: contract.TransactionRef, *, sessions: Sessions
) -> contract.TransactionDetail:
    async with sessions() as session:
        row = await repository.get(session, msg.transaction_id)
        if row is None:
            raise TransactionNotFoundError(msg.transaction_id)
        samples = await repository.samples_of(session, row.id)
        return records.detail(row, samples)


# -- shared steps -----------------------------------------------------------------------------


def _lock_order(
    msg: contract.StartTransaction | contract.UpdateTransaction | contract.EndTransaction,
) -> str:
    # Messages committed together run in this order, so batches lock transactions in one
    # order and queue behind each other rather than deadlock.
    return f"{msg.station_id}\x00{msg.station_transaction_id or ''}"


def _new_row(
    msg: contract.StartTransaction, *, station_transaction_id: str, now: datetime
) -> dict[str, Any]:
    return {
        "station_id": msg.station_id,
        "station_transaction_id": station_transaction_id,
        "evse_id": msg.evse_id,
        "connector_id": msg.connector_id,
        "status": RUNNING,
        "implicit": False,
        "id_token": msg.id_token.value if msg.id_token else None,
        "id_token_type": msg.id_token.type if msg.id_token else None,
        "id_token_info": msg.id_token_info.model_dump(mode="json") if msg.id_token_info else None,
        "started_at": msg.started_at,
        "meter_start_wh": msg.meter_start_wh,
        "energy_wh": 0,
        "charging_state": msg.charging_state,
        "reservation_id": msg.reservation_id,
        "updated_at": now,
    }


async def _existing_or_implicit(
    work: DriverUnitOfWork,
    msg: contract.UpdateTransaction | contract.EndTransaction,
    *,
    started_at: datetime,
    now: datetime,
) -> tuple[LockedTransaction, bool]:
    """The transaction a later message refers to, created if its start never arrived (a
    session's energy must not be lost because one message was), and whether the message's
    seqNo was new: False for a replayed event."""
    found = await _locked_claiming(work, msg.station_id, msg.station_transaction_id, msg.seq_no)
    if found is not None:
        return found
    created = await repository.insert_transaction(
        work.connection,
        {
            "station_id": msg.station_id,
            "station_transaction_id": msg.station_transaction_id,
            "evse_id": msg.evse_id or 1,
            "connector_id": msg.connector_id or 1,
            "status": RUNNING,
            "implicit": True,
            "id_token": msg.id_token.value if msg.id_token else None,
            "id_token_type": msg.id_token.type if msg.id_token else None,
            "started_at": started_at,
            "energy_wh": 0,
            "updated_at": now,
        },
        unique_on=("station_id", "station_transaction_id"),
    )
    row = await _locked(work, msg.station_id, msg.station_transaction_id)
    assert row is not None
    if created is not None:
        log.warning(
            "%s sent %s for unknown transaction %s; created it",
            msg.station_id,
            type(msg).__name__,
            msg.station_transaction_id,
        )
        work.emit(records.started_event(row), subject=row.station_id)
    return row, await _claim(work, row, msg.seq_no)


async def _locked_claiming(
    work: DriverUnitOfWork, station_id: str, station_transaction_id: str, seq_no: int | None
) -> tuple[LockedTransaction, bool] | None:
    """The locked row and whether ``seq_no`` was new, claimed in the same round trip."""
    if seq_no is None:
        row = await _locked(work, station_id, station_transaction_id)
        return None if row is None else (row, True)
    found = await repository.locked_and_claimed(
        work.connection, station_id, station_transaction_id, seq_no
    )
    if found is not None and not found[1]:
        _log_replay(found[0], seq_no)
    return found


async def _locked(
    work: DriverUnitOfWork, station_id: str, station_transaction_id: str
) -> LockedTransaction | None:
    return await repository.locked_by_station_transaction_id(
        work.connection, station_id, station_transaction_id
    )


async def _claim(work: DriverUnitOfWork, row: LockedTransaction, seq_no: int | None) -> bool:
    """False when this seqNo of the transaction was applied before (a replayed event)."""
    if seq_no is None:
        return True
    claimed = await repository.claim_seq_no(work.connection, row.id, seq_no)
    if not claimed:
        _log_replay(row, seq_no)
    return claimed


def _log_replay(row: LockedTransaction, seq_no: int) -> None:
    log.info("%s replayed seqNo %d of %s", row.station_id, seq_no, row.station_transaction_id)


async def _record_values(
    work: DriverUnitOfWork, row: LockedTransaction, values: list[MeterValue], now: datetime
) -> int:
    """Stores the samples not stored before and folds them into the row; returns how many."""
    stored = 0
    if values:
        stored = await repository.insert_samples(work.connection, _sample_rows(row, values))
    _fold(row, values, stored, now)
    return stored


def _sample_rows(row: LockedTransaction, values: list[MeterValue]) -> list[dict[str, Any]]:
    return records.sample_rows(
        values,
        station_id=row.station_id,
        evse_id=row.evse_id,
        connector_id=row.connector_id,
        transaction_id=row.id,
    )


def _fold(row: LockedTransaction, values: list[MeterValue], stored: int, now: datetime) -> None:
    """Folds readings into the row once some of their samples were new."""
    row.updated_at = now
    if stored:
        readings = records.readings_of(row).fold(values)
        for name, value in records.readings_values(readings).items():
            setattr(row, name, value)
        row.energy_wh = _energy(row)


def _energy(row: LockedTransaction) -> int:
    return domain.energy_wh(
        meter_start_wh=row.meter_start_wh,
        meter_stop_wh=row.meter_stop_wh,
        readings=records.readings_of(row),
    )


def _earliest(values: list[MeterValue], fallback: datetime) -> datetime:
    return min([v.timestamp for v in values] + [fallback])


def _set_token(row: LockedTransaction, token: IdToken) -> None:
    row.id_token, row.id_token_type = token.value, token.type


def _accepted(row: LockedTransaction, *, duplicate: bool) -> contract.TransactionAccepted:
    return contract.TransactionAccepted(
        transaction_id=row.id,
        station_transaction_id=row.station_transaction_id,
        duplicate=duplicate,
    )


async def summarize_transactions(
    msg: contract.SummarizeTransactions, *, sessions: Sessions
) -> contract.TransactionSummaryFigures:
    async with sessions() as session:
        count, energy_wh, running = await repository.summarize(
            session,
            started_from=msg.started_from,
            started_to=msg.started_to,
            station_id=msg.station_id,
        )
    return contract.TransactionSummaryFigures(sessions=count, energy_wh=energy_wh, running=running)


HANDLERS: dict[Any, Callable[..., Any]] = {
    contract.START_TRANSACTION: start_transaction,
    contract.UPDATE_TRANSACTION: update_transaction,
    contract.END_TRANSACTION: end_transaction,
    contract.RECORD_METER_VALUES: record_meter_values,
    contract.LIST_TRANSACTIONS: list_transactions,
    contract.GET_TRANSACTION: get_transaction,
    contract.SUMMARIZE_TRANSACTIONS: summarize_transactions,
}
