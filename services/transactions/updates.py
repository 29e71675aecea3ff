"""The update of a running transaction (OCPP 1.6 MeterValues, 2.0.1 TransactionEvent Updated):
the message stations send most, so the updates of a group commit are applied in bulk."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from opencpms_contracts import transactions as contract
from opencpms_db.unit_of_work import DriverUnitOfWork
from opencpms_db.write_batch import WriteBatch
from opencpms_transactions import records, repository, steps
from opencpms_transactions.clock import Clock
from opencpms_transactions.tables import LockedTransaction


async def update_transaction(
    msg: contract.UpdateTransaction, *, writes: WriteBatch, clock: Clock
) -> contract.TransactionAccepted:
    accepted: contract.TransactionAccepted = await writes.run_together(
        steps.lock_order(msg), (msg, clock()), _update_many
    )
    return accepted


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
            steps.log_replay(row, msg.seq_no)
            answers[place] = steps.accepted(row, duplicate=True)
            continue
        applied.append((place, row, _take_token_and_state(row, msg)))
        samples += steps.sample_rows(row, msg.meter_values)
    stored = await repository.insert_samples_of_transactions(work.connection, samples)
    for place, row, changed_state in applied:
        msg, now = items[place]
        steps.fold(row, msg.meter_values, stored[row.id], now)
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
        steps.set_token(row, msg.id_token)
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
    if (stored or changed_state) and row.status == steps.RUNNING:
        work.emit(
            records.updated_event(row, timestamp=msg.timestamp, values=msg.meter_values),
            subject=row.station_id,
        )
    return steps.accepted(row, duplicate=not (stored or changed_state))
