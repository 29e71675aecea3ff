"""The start of a transaction (OCPP 1.6 StartTransaction, 2.0.1 TransactionEvent Started): the
starts of a group commit are inserted in bulk, and what the bulk path does not cover (a
retried 1.6 start, a 2.0.1 start that a later event of its transaction overtook) runs alone."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from opencpms_contracts import transactions as contract
from opencpms_db.unit_of_work import DriverUnitOfWork
from opencpms_db.write_batch import WriteBatch
from opencpms_transactions import domain, records, repository, steps
from opencpms_transactions.clock import Clock
from opencpms_transactions.tables import LockedTransaction

log = logging.getLogger(__name__)


async def start_transaction(
    msg: contract.StartTransaction, *, writes: WriteBatch, clock: Clock
) -> contract.TransactionAccepted:
    return await steps.in_group(writes, msg, clock, _start_many)


async def _start_many(
    work: DriverUnitOfWork, items: list[tuple[contract.StartTransaction, datetime]]
) -> list[contract.TransactionAccepted]:
    """:func:`_start` for many messages at once, in three statements rather than two to four
    each: the new rows inserted with their seqNos claimed, their samples stored, the rows
    written (the outbox with the commit). A start whose transaction exists, or a second start
    of one business key, then runs alone, in order."""
    answers: list[contract.TransactionAccepted | None] = [None] * len(items)
    new_rows: list[dict[str, Any]] = []
    for msg, now in items:
        start_key = _start_key(msg) if msg.station_transaction_id is None else None
        new = steps.new_row(msg, station_transaction_id=msg.station_transaction_id, now=now)
        new_rows.append({**new, "start_key": start_key, "seq_no": msg.seq_no})
    first, one_by_one = steps.first_of_each([_business_key(new) for new in new_rows])
    created = await repository.insert_new_transactions(
        work.connection, [new_rows[place] for place in first.values()]
    )
    by_key = {_business_key(vars(row)): row for row in created}
    applied: list[tuple[int, LockedTransaction, None]] = []
    for key, place in first.items():
        if key in by_key:
            applied.append((place, by_key[key], None))
        else:
            one_by_one.append(place)
    return await steps.store_and_answer(work, items, answers, applied, one_by_one, _started, _start)


def _started(
    work: DriverUnitOfWork,
    row: LockedTransaction,
    _msg: contract.StartTransaction,
    _stored: int,
    _prepared: None,
) -> contract.TransactionAccepted:
    work.emit(records.started_event(row), subject=row.station_id)
    return steps.accepted(row, duplicate=False)


def _business_key(row: dict[str, Any]) -> tuple[str, str | None, str | None]:
    # What makes two starts the same transaction: a 1.6 row is known by its start key, since
    # its station transaction id is only the one it is given.
    if row["start_key"] is not None:
        return (row["station_id"], None, row["start_key"])
    return (row["station_id"], row["station_transaction_id"], None)


def _start_key(msg: contract.StartTransaction) -> str:
    return domain.start_key(
        evse_id=msg.evse_id,
        connector_id=msg.connector_id,
        started_at=msg.started_at,
        id_token=msg.id_token.value if msg.id_token else None,
    )


async def _start(
    work: DriverUnitOfWork, msg: contract.StartTransaction, now: datetime
) -> contract.TransactionAccepted:
    if msg.station_transaction_id is None:
        return await _start_16(work, msg, now)
    return await _start_2(work, msg, msg.station_transaction_id, now)


async def _start_16(
    work: DriverUnitOfWork, msg: contract.StartTransaction, now: datetime
) -> contract.TransactionAccepted:
    key = _start_key(msg)
    transaction_id = await repository.next_transaction_id(work.connection)
    values = steps.new_row(msg, station_transaction_id=str(transaction_id), now=now)
    created = await repository.insert_transaction(
        work.connection,
        {**values, "id": transaction_id, "start_key": key},
        unique_on=("station_id", "start_key"),
    )
    if created is None:
        existing = await repository.by_start_key(work.connection, msg.station_id, key)
        log.info("%s repeated StartTransaction %s", msg.station_id, existing.id)
        return steps.accepted(existing, duplicate=True)
    await steps.record_values(work, created, msg.meter_values, now)
    await repository.save(work.connection, created)
    work.emit(records.started_event(created), subject=created.station_id)
    return steps.accepted(created, duplicate=False)


async def _start_2(
    work: DriverUnitOfWork,
    msg: contract.StartTransaction,
    station_transaction_id: str,
    now: datetime,
) -> contract.TransactionAccepted:
    values = steps.new_row(msg, station_transaction_id=station_transaction_id, now=now)
    created = await repository.insert_transaction(
        work.connection, values, unique_on=("station_id", "station_transaction_id")
    )
    if created is not None:
        await steps.claim(work, created, msg.seq_no)
        await steps.record_values(work, created, msg.meter_values, now)
        await repository.save(work.connection, created)
        work.emit(records.started_event(created), subject=created.station_id)
        return steps.accepted(created, duplicate=False)
    row = await steps.locked(work, msg.station_id, station_transaction_id)
    assert row is not None  # inserted by the earlier message the insert collided with
    if not await steps.claim(work, row, msg.seq_no):
        return steps.accepted(row, duplicate=True)
    # The transaction was created from a later event whose Started had not arrived (an offline
    # queue delivered out of order): fill in what only the start knows.
    if row.implicit:
        row.implicit = False
        row.evse_id, row.connector_id = msg.evse_id, msg.connector_id
        row.started_at = min(row.started_at, msg.started_at)
    if row.id_token is None and msg.id_token is not None:
        steps.set_token(row, msg.id_token)
    if row.id_token_info is None and msg.id_token_info is not None:
        row.id_token_info = msg.id_token_info.model_dump(mode="json")
    if row.meter_start_wh is None:
        row.meter_start_wh = msg.meter_start_wh
    if row.reservation_id is None:
        row.reservation_id = msg.reservation_id
    await steps.record_values(work, row, msg.meter_values, now)
    row.energy_wh = steps.energy(row)
    await repository.save(work.connection, row)
    return steps.accepted(row, duplicate=False)
