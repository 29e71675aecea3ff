"""The update of a running transaction (OCPP 1.6 MeterValues, 2.0.1 TransactionEvent Updated):
the message stations send most, so the updates of a group commit are applied in bulk."""

from __future__ import annotations

from datetime import datetime

from opencpms_contracts import transactions as contract
from opencpms_db.unit_of_work import DriverUnitOfWork
from opencpms_db.write_batch import WriteBatch
from opencpms_transactions import records, repository, steps
from opencpms_transactions.clock import Clock
from opencpms_transactions.tables import LockedTransaction


async def update_transaction(
    msg: contract.UpdateTransaction, *, writes: WriteBatch, clock: Clock
) -> contract.TransactionAccepted:
    return await steps.in_group(writes, msg, clock, _update_many)


async def _update(
    work: DriverUnitOfWork, msg: contract.UpdateTransaction, now: datetime
) -> contract.TransactionAccepted:
    row, claimed = await steps.existing_or_implicit(
        work, msg, started_at=steps.earliest(msg.meter_values, msg.timestamp), now=now
    )
    if not claimed:
        return steps.accepted(row, duplicate=True)
    changed_state = _take_token_and_state(row, msg)
    stored = await steps.record_values(work, row, msg.meter_values, now)
    accepted = _updated(work, row, msg, stored=stored, changed_state=changed_state)
    await repository.save(work.connection, row)
    return accepted


async def _update_many(
    work: DriverUnitOfWork, items: list[tuple[contract.UpdateTransaction, datetime]]
) -> list[contract.TransactionAccepted]:
    """:func:`_update` for many messages at once (:func:`steps.apply_in_bulk`)."""
    return await steps.apply_in_bulk(
        work, items, prepare=_take_token_and_state, finish=_updated, alone=_update
    )


def _take_token_and_state(row: LockedTransaction, msg: contract.UpdateTransaction) -> bool:
    """Applies the message's token and charging state; whether the state changed."""
    if msg.id_token is not None and row.id_token is None:
        steps.set_token(row, msg.id_token)
    changed_state = msg.charging_state is not None and msg.charging_state != row.charging_state
    if msg.charging_state is not None:
        row.charging_state = msg.charging_state
    return changed_state


def _updated(
    work: DriverUnitOfWork,
    row: LockedTransaction,
    msg: contract.UpdateTransaction,
    stored: int,
    changed_state: bool,
) -> contract.TransactionAccepted:
    """Emits what an applied update changed; the answer to it."""
    if (stored or changed_state) and row.status == steps.RUNNING:
        work.emit(
            records.updated_event(row, timestamp=msg.timestamp, values=msg.meter_values),
            subject=row.station_id,
        )
    return steps.accepted(row, duplicate=not (stored or changed_state))
