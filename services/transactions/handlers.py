"""Use cases of the transactions service: the station's transaction messages (the start in
:mod:`starts`, the update, the one stations send most, in :mod:`updates`; what they share in
:mod:`steps`) and the queries.

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
from opencpms_db.unit_of_work import DriverUnitOfWork
from opencpms_db.write_batch import WriteBatch
from opencpms_transactions import records, repository, steps
from opencpms_transactions.clock import Clock
from opencpms_transactions.errors import TransactionNotFoundError
from opencpms_transactions.starts import start_transaction
from opencpms_transactions.tables import LockedTransaction
from opencpms_transactions.updates import update_transaction

log = logging.getLogger(__name__)

# Station messages run on the driver (DriverUnitOfWork); the queries load ORM rows.
Sessions = async_sessionmaker[AsyncSession]


# -- station messages -------------------------------------------------------------------------


async def end_transaction(
    msg: contract.EndTransaction, *, writes: WriteBatch, clock: Clock
) -> contract.TransactionAccepted:
    return await steps.in_group(writes, msg, clock, _end_many)


async def _end(
    work: DriverUnitOfWork, msg: contract.EndTransaction, now: datetime
) -> contract.TransactionAccepted:
    row, claimed = await steps.existing_or_implicit(
        work, msg, started_at=steps.earliest(msg.meter_values, msg.ended_at), now=now
    )
    if not claimed:
        return steps.accepted(row, duplicate=True)
    await steps.record_values(work, row, msg.meter_values, now)
    accepted = _close(work, row, msg)
    await repository.save(work.connection, row)
    return accepted


async def _end_many(
    work: DriverUnitOfWork, items: list[tuple[contract.EndTransaction, datetime]]
) -> list[contract.TransactionAccepted]:
    """:func:`_end` for many messages at once (:func:`steps.apply_in_bulk`), as the updates
    are applied."""
    return await steps.apply_in_bulk(
        work,
        items,
        prepare=lambda _row, _msg: None,
        finish=lambda work, row, msg, _stored, _prepared: _close(work, row, msg),
        alone=_end,
    )


def _close(
    work: DriverUnitOfWork, row: LockedTransaction, msg: contract.EndTransaction
) -> contract.TransactionAccepted:
    """Ends the transaction and emits ``transaction.ended``, unless it had ended before."""
    if row.status == steps.ENDED:
        log.info("%s ended transaction %s again", row.station_id, row.id)
        return steps.accepted(row, duplicate=True)
    row.status = steps.ENDED
    row.ended_at = msg.ended_at
    row.stop_reason = msg.stop_reason
    if msg.meter_stop_wh is not None:
        row.meter_stop_wh = msg.meter_stop_wh
    if row.id_token is None and msg.id_token is not None:
        steps.set_token(row, msg.id_token)
    row.energy_wh = steps.energy(row)
    work.emit(records.ended_event(row), subject=row.station_id)
    return steps.accepted(row, duplicate=False)


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
