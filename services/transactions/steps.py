"""What every station message does to its transaction: find it under its lock (creating it
when its start never arrived), claim the 2.0.1 seqNo, store and fold the readings, answer.

Shared by the use cases in :mod:`starts`, :mod:`updates` and :mod:`handlers`; each step runs
inside the unit of work the caller holds.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from opencpms_contracts import transactions as contract
from opencpms_contracts.common import IdToken, MeterValue
from opencpms_db.unit_of_work import DriverUnitOfWork
from opencpms_db.write_batch import ManyStep, WriteBatch
from opencpms_transactions import domain, records, repository
from opencpms_transactions.clock import Clock
from opencpms_transactions.tables import LockedTransaction

log = logging.getLogger(__name__)

RUNNING = contract.TransactionStatus.RUNNING.value
ENDED = contract.TransactionStatus.ENDED.value

Message = TypeVar(
    "Message", contract.StartTransaction, contract.UpdateTransaction, contract.EndTransaction
)
LaterMessage = TypeVar("LaterMessage", contract.UpdateTransaction, contract.EndTransaction)
Prepared = TypeVar("Prepared")
Key = TypeVar("Key")


def lock_order(
    msg: contract.StartTransaction | contract.UpdateTransaction | contract.EndTransaction,
) -> str:
    # Messages committed together run in this order (opencpms_db.write_batch), so groups lock
    # transactions in much the same order and mostly queue behind each other.
    return f"{msg.station_id}\x00{msg.station_transaction_id or ''}"


async def in_group(
    writes: WriteBatch,
    msg: contract.StartTransaction | contract.UpdateTransaction | contract.EndTransaction,
    clock: Clock,
    many: ManyStep,
) -> contract.TransactionAccepted:
    """The answer to ``msg`` once its group commit has committed; ``many`` applies the group's
    messages of its kind at once, each with the time it arrived."""
    accepted: contract.TransactionAccepted = await writes.run_together(
        lock_order(msg), (msg, clock()), many
    )
    return accepted


def new_row(
    msg: contract.StartTransaction, *, station_transaction_id: str | None, now: datetime
) -> dict[str, Any]:
    """The row a start inserts (``station_transaction_id`` None: the id drawn for it)."""
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


async def existing_or_implicit(
    work: DriverUnitOfWork,
    msg: contract.UpdateTransaction | contract.EndTransaction,
    *,
    started_at: datetime,
    now: datetime,
) -> tuple[LockedTransaction, bool]:
    """The transaction a later message refers to, created if its start never arrived (a
    session's energy must not be lost because one message was), and whether the message's
    seqNo was new: False for a replayed event."""
    found = await locked_claiming(work, msg.station_id, msg.station_transaction_id, msg.seq_no)
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
    if created is None:  # the start, or another message, created it meanwhile
        row = await locked(work, msg.station_id, msg.station_transaction_id)
        assert row is not None
        return row, await claim(work, row, msg.seq_no)
    log.warning(
        "%s sent %s for unknown transaction %s; created it",
        msg.station_id,
        type(msg).__name__,
        msg.station_transaction_id,
    )
    work.emit(records.started_event(created), subject=created.station_id)
    return created, await claim(work, created, msg.seq_no)


async def locked_claiming(
    work: DriverUnitOfWork, station_id: str, station_transaction_id: str, seq_no: int | None
) -> tuple[LockedTransaction, bool] | None:
    """The locked row and whether ``seq_no`` was new, claimed in the same round trip."""
    if seq_no is None:
        row = await locked(work, station_id, station_transaction_id)
        return None if row is None else (row, True)
    found = await repository.locked_and_claimed(
        work.connection, station_id, station_transaction_id, seq_no
    )
    if found is not None and not found[1]:
        log_replay(found[0], seq_no)
    return found


async def locked(
    work: DriverUnitOfWork, station_id: str, station_transaction_id: str
) -> LockedTransaction | None:
    return await repository.locked_by_station_transaction_id(
        work.connection, station_id, station_transaction_id
    )


async def claim(work: DriverUnitOfWork, row: LockedTransaction, seq_no: int | None) -> bool:
    """False when this seqNo of the transaction was applied before (a replayed event)."""
    if seq_no is None:
        return True
    claimed = await repository.claim_seq_no(work.connection, row.id, seq_no)
    if not claimed:
        log_replay(row, seq_no)
    return claimed


def log_replay(row: LockedTransaction, seq_no: int) -> None:
    log.info("%s replayed seqNo %d of %s", row.station_id, seq_no, row.station_transaction_id)


async def record_values(
    work: DriverUnitOfWork, row: LockedTransaction, values: list[MeterValue], now: datetime
) -> int:
    """Stores the samples not stored before and folds them into the row; returns how many."""
    stored = 0
    if values:
        stored = await repository.insert_samples(work.connection, sample_rows(row, values))
    fold(row, values, stored, now)
    return stored


def sample_rows(row: LockedTransaction, values: list[MeterValue]) -> list[dict[str, Any]]:
    return records.sample_rows(
        values,
        station_id=row.station_id,
        evse_id=row.evse_id,
        connector_id=row.connector_id,
        transaction_id=row.id,
    )


def fold(row: LockedTransaction, values: list[MeterValue], stored: int, now: datetime) -> None:
    """Folds readings into the row once some of their samples were new."""
    if row.updated_at != now:  # a row created by this message has nothing to write yet
        row.updated_at = now
    if stored:
        readings = records.readings_of(row).fold(values)
        for name, value in records.readings_values(readings).items():
            setattr(row, name, value)
        row.energy_wh = energy(row)


def energy(row: LockedTransaction) -> int:
    return domain.energy_wh(
        meter_start_wh=row.meter_start_wh,
        meter_stop_wh=row.meter_stop_wh,
        readings=records.readings_of(row),
    )


def earliest(values: list[MeterValue], fallback: datetime) -> datetime:
    return min([v.timestamp for v in values] + [fallback])


def set_token(row: LockedTransaction, token: IdToken) -> None:
    row.id_token, row.id_token_type = token.value, token.type


def accepted(row: LockedTransaction, *, duplicate: bool) -> contract.TransactionAccepted:
    return contract.TransactionAccepted(
        transaction_id=row.id,
        station_transaction_id=row.station_transaction_id,
        duplicate=duplicate,
    )


def first_of_each(keys: list[Key]) -> tuple[dict[Key, int], list[int]]:
    """The place of each key's first message, and the places of the messages after it: a bulk
    statement takes one message per transaction, the others run alone after it."""
    first: dict[Key, int] = {}
    later: list[int] = []
    for place, key in enumerate(keys):
        if key in first:
            later.append(place)
        else:
            first[key] = place
    return first, later


async def apply_in_bulk(
    work: DriverUnitOfWork,
    items: list[tuple[LaterMessage, datetime]],
    *,
    prepare: Callable[[LockedTransaction, LaterMessage], Prepared],
    finish: Callable[
        [DriverUnitOfWork, LockedTransaction, LaterMessage, int, Prepared],
        contract.TransactionAccepted,
    ],
    alone: Callable[
        [DriverUnitOfWork, LaterMessage, datetime], Awaitable[contract.TransactionAccepted]
    ],
) -> list[contract.TransactionAccepted]:
    """Later messages of many transactions (updates, or ends) in three statements rather than
    three or four each: rows locked and seqNos claimed, samples stored, rows written (the
    outbox with the commit). Each message's row gets ``prepare`` before its samples are
    stored, and ``finish`` (with how many were new) once they are folded in; ``finish``
    answers it. What the bulk path does not cover (a transaction never seen, a second message
    of the same transaction) then runs message by message through ``alone``, in order."""
    answers: list[contract.TransactionAccepted | None] = [None] * len(items)
    keys: list[tuple[str, str]] = []
    for msg, _now in items:
        keys.append((msg.station_id, msg.station_transaction_id))
    first, one_by_one = first_of_each(keys)
    wanted: list[tuple[str, str, int | None]] = []
    for (station_id, station_transaction_id), place in first.items():
        wanted.append((station_id, station_transaction_id, items[place][0].seq_no))
    found = await repository.locked_and_claimed_many(work.connection, wanted)
    applied: list[tuple[int, LockedTransaction, Prepared]] = []
    for key, place in first.items():
        msg, _now = items[place]
        if key not in found:
            one_by_one.append(place)
            continue
        row, claimed = found[key]
        if not claimed:
            assert msg.seq_no is not None  # only a seqNo can have been applied before
            log_replay(row, msg.seq_no)
            answers[place] = accepted(row, duplicate=True)
            continue
        applied.append((place, row, prepare(row, msg)))
    return await store_and_answer(work, items, answers, applied, one_by_one, finish, alone)


async def store_and_answer(
    work: DriverUnitOfWork,
    items: list[tuple[Message, datetime]],
    answers: list[contract.TransactionAccepted | None],
    applied: list[tuple[int, LockedTransaction, Prepared]],
    one_by_one: list[int],
    finish: Callable[
        [DriverUnitOfWork, LockedTransaction, Message, int, Prepared],
        contract.TransactionAccepted,
    ],
    alone: Callable[[DriverUnitOfWork, Message, datetime], Awaitable[contract.TransactionAccepted]],
) -> list[contract.TransactionAccepted]:
    """What every bulk step ends with. The samples of the ``applied`` messages (their place in
    ``items``, their row) stored in one statement and folded into the rows, each message
    answered by ``finish`` (with how many samples were new), the rows written in one statement;
    then the messages at ``one_by_one`` run alone, in order. The answers, one per item."""
    samples: list[dict[str, Any]] = []
    for place, row, _prepared in applied:
        samples += sample_rows(row, items[place][0].meter_values)
    stored = await repository.insert_samples_of_transactions(work.connection, samples)
    for place, row, prepared in applied:
        msg, now = items[place]
        fold(row, msg.meter_values, stored[row.id], now)
        answers[place] = finish(work, row, msg, stored[row.id], prepared)
    await repository.save_many(work.connection, [row for _place, row, _prepared in applied])
    for place in sorted(one_by_one):
        answers[place] = await alone(work, *items[place])
    done = [answer for answer in answers if answer is not None]
    assert len(done) == len(items), "every message is answered"
    return done
