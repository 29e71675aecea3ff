"""The transactions service over the real broker and database: station messages as the gateway
sends them, retries and replays, and the events billing systems consume."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from opencpms_contracts import transactions as tx
from opencpms_contracts.common import (
    AuthorizationStatus,
    IdToken,
    IdTokenInfo,
    MeterSample,
    MeterValue,
)
from opencpms_db.provision import plain_url
from opencpms_messaging.rpc_errors import NotFoundError

pytestmark = pytest.mark.integration

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
TOKEN = IdToken(value="04AABBCC")
ACCEPTED = IdTokenInfo(status=AuthorizationStatus.ACCEPTED)


def energy(minutes: float, wh: int, context: str = "Sample.Periodic") -> MeterValue:
    return MeterValue(
        timestamp=T0 + timedelta(minutes=minutes),
        samples=[
            MeterSample(value=Decimal(wh), context=context),
            MeterSample(measurand="Power.Active.Import", value=Decimal(7200), unit="W"),
        ],
    )


async def call(rpc, op, request):
    return await rpc.call(op, request, timeout=10)


def start_16(station_id: str, **overrides) -> tx.StartTransaction:
    values = {
        "station_id": station_id,
        "evse_id": 1,
        "id_token": TOKEN,
        "id_token_info": ACCEPTED,
        "meter_start_wh": 1000,
        "started_at": T0,
        **overrides,
    }
    return tx.StartTransaction.model_validate(values)


async def detail_of(rpc, accepted: tx.TransactionAccepted) -> tx.TransactionDetail:
    """The transaction a station message was answered with, as ``transactions.get`` returns it."""
    return await call(
        rpc, tx.GET_TRANSACTION, tx.TransactionRef(transaction_id=accepted.transaction_id)
    )


async def start_2(rpc, station_id: str, *, meter_start_wh: int) -> str:
    """Starts a 2.0.1 transaction (seqNo 0); its station transaction id."""
    tx_id = str(uuid.uuid4())
    start = start_16(
        station_id, station_transaction_id=tx_id, seq_no=0, meter_start_wh=meter_start_wh
    )
    await call(rpc, tx.START_TRANSACTION, start)
    return tx_id


async def commits_of(database_url: str, stations: list[str]) -> int:
    """How many database transactions wrote the stations' transaction rows: rows written in
    one share its ``xmin``."""
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        commits: int = await connection.fetchval(
            "SELECT count(DISTINCT xmin::text) FROM transactions.transactions"
            " WHERE station_id = ANY($1::text[])",
            stations,
        )
    finally:
        await connection.close()
    return commits


async def barrier(rpc, events) -> None:
    """Every event emitted before this call has been delivered once it returns: the relay
    publishes in commit order and the subscriber's queue keeps it."""
    marker = f"CP-BARRIER-{uuid.uuid4().hex[:6]}"
    await call(rpc, tx.START_TRANSACTION, start_16(marker))
    await events.wait_for(marker, "transaction.started")


async def test_16_session_from_start_to_end(rpc, events, station_id):
    started = await call(rpc, tx.START_TRANSACTION, start_16(station_id))
    assert not started.duplicate
    assert started.station_transaction_id == str(started.transaction_id)
    for minutes, wh in ((10, 4000), (20, 8000)):
        update = tx.UpdateTransaction(
            station_id=station_id,
            station_transaction_id=started.station_transaction_id,
            timestamp=T0 + timedelta(minutes=minutes),
            meter_values=[energy(minutes, wh)],
        )
        assert not (await call(rpc, tx.UPDATE_TRANSACTION, update)).duplicate
    end = tx.EndTransaction(
        station_id=station_id,
        station_transaction_id=started.station_transaction_id,
        ended_at=T0 + timedelta(minutes=30),
        meter_stop_wh=9500,
        stop_reason="EVDisconnected",
    )
    await call(rpc, tx.END_TRANSACTION, end)
    detail = await detail_of(rpc, started)
    assert detail.status == tx.TransactionStatus.ENDED
    assert detail.energy_wh == 8500
    assert detail.meter_stop_wh == 9500
    assert detail.stop_reason == "EVDisconnected"
    assert detail.last_power_w == 7200
    assert detail.id_token == TOKEN
    assert [mv.timestamp for mv in detail.meter_values] == [
        T0 + timedelta(minutes=10),
        T0 + timedelta(minutes=20),
    ]
    assert detail.meter_values[0].samples[0].value == Decimal(4000)
    ended = await events.wait_for(station_id, "transaction.ended")
    assert ended.energy_wh == 8500
    assert events.of(station_id) == [
        "transaction.started",
        "transaction.updated",
        "transaction.updated",
        "transaction.ended",
    ]


@contextlib.asynccontextmanager
async def row_updates_counted(database_url: str, station_id: str) -> AsyncIterator[Any]:
    """Each statement is a round trip: a row trigger counts the UPDATEs of the station's
    transaction rows in the database, whatever way the service reaches it. Yields a function
    that returns the count so far."""
    # Names and the station id are the test's own (DDL takes no parameters).
    counter = f"count_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        await connection.execute(
            f"""
            CREATE TABLE transactions.{counter} (updates int NOT NULL);
            INSERT INTO transactions.{counter} VALUES (0);
            CREATE FUNCTION transactions.{counter}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.station_id = '{station_id}' THEN
                    UPDATE transactions.{counter} SET updates = updates + 1;
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER {counter} AFTER UPDATE ON transactions.transactions
                FOR EACH ROW EXECUTE FUNCTION transactions.{counter}();
            """  # noqa: S608
        )

        async def counted() -> int:
            return int(await connection.fetchval(f"SELECT updates FROM transactions.{counter}"))  # noqa: S608

        yield counted
    finally:
        await connection.execute(
            f"""
            DROP TRIGGER IF EXISTS {counter} ON transactions.transactions;
            DROP FUNCTION IF EXISTS transactions.{counter}();
            DROP TABLE IF EXISTS transactions.{counter};
            """
        )
        await connection.close()


async def test_a_meter_value_writes_the_transaction_row_once(rpc, database_url, station_id):
    """MeterValues are most of what stations send, so the row's changes go out in one UPDATE,
    not one per step of the handler."""
    started = await call(rpc, tx.START_TRANSACTION, start_16(station_id))
    async with row_updates_counted(database_url, station_id) as updates:
        update = tx.UpdateTransaction(
            station_id=station_id,
            station_transaction_id=started.station_transaction_id,
            timestamp=T0 + timedelta(minutes=10),
            meter_values=[energy(10, 4000)],
        )
        assert not (await call(rpc, tx.UPDATE_TRANSACTION, update)).duplicate
        assert await updates() == 1
    detail = await detail_of(rpc, started)
    assert detail.energy_wh == 3000


async def test_a_start_without_meter_values_only_inserts_its_row(rpc, database_url, station_id):
    """The row a start inserts is complete: no UPDATE follows its INSERT."""
    async with row_updates_counted(database_url, station_id) as updates:
        started = await call(rpc, tx.START_TRANSACTION, start_16(station_id))
        await start_2(rpc, station_id, meter_start_wh=500)
        assert await updates() == 0
    detail = await detail_of(rpc, started)
    assert (detail.status, detail.meter_start_wh) == (tx.TransactionStatus.RUNNING, 1000)


async def test_retried_16_start_returns_the_same_id_and_one_row(rpc, events, station_id):
    request = start_16(station_id)
    first, second = await asyncio.gather(
        call(rpc, tx.START_TRANSACTION, request), call(rpc, tx.START_TRANSACTION, request)
    )
    third = await call(rpc, tx.START_TRANSACTION, request)
    assert first.transaction_id == second.transaction_id == third.transaction_id
    assert sorted([first.duplicate, second.duplicate, third.duplicate]) == [False, True, True]
    page = await call(rpc, tx.LIST_TRANSACTIONS, tx.ListTransactions(station_id=station_id))
    assert page.total == 1
    await barrier(rpc, events)
    assert events.of(station_id) == ["transaction.started"]


async def test_another_start_on_the_same_connector_is_another_transaction(rpc, station_id):
    first = await call(rpc, tx.START_TRANSACTION, start_16(station_id))
    later = await call(
        rpc, tx.START_TRANSACTION, start_16(station_id, started_at=T0 + timedelta(hours=2))
    )
    assert later.transaction_id != first.transaction_id


async def test_replayed_seq_no_changes_nothing(rpc, events, station_id):
    tx_id = await start_2(rpc, station_id, meter_start_wh=500)
    update = {
        "station_id": station_id,
        "station_transaction_id": tx_id,
        "seq_no": 1,
        "timestamp": T0 + timedelta(minutes=5),
    }
    first = await call(
        rpc, tx.UPDATE_TRANSACTION, tx.UpdateTransaction(**update, meter_values=[energy(5, 2500)])
    )
    replay = await call(
        rpc, tx.UPDATE_TRANSACTION, tx.UpdateTransaction(**update, meter_values=[energy(9, 9999)])
    )
    assert not first.duplicate
    assert replay.duplicate
    detail = await detail_of(rpc, first)
    assert detail.energy_wh == 2000
    assert len(detail.meter_values) == 1
    await barrier(rpc, events)
    assert events.of(station_id) == ["transaction.started", "transaction.updated"]


async def test_a_seq_no_sent_twice_at_once_applies_once(rpc, events, station_id):
    """Copies of one event racing each other: one applies, the others are duplicates."""
    tx_id = await start_2(rpc, station_id, meter_start_wh=500)
    update = tx.UpdateTransaction(
        station_id=station_id,
        station_transaction_id=tx_id,
        seq_no=1,
        timestamp=T0 + timedelta(minutes=5),
        meter_values=[energy(5, 2500)],
    )
    answers = await asyncio.gather(*(call(rpc, tx.UPDATE_TRANSACTION, update) for _ in range(8)))
    assert sorted(answer.duplicate for answer in answers) == [False] + [True] * 7
    await barrier(rpc, events)
    assert events.of(station_id) == ["transaction.started", "transaction.updated"]


async def test_events_of_one_transaction_at_once_lose_no_update(rpc, events, station_id):
    """Different seqNos of one transaction arriving together: each waits for the row's lock
    (taken with its claim, in one statement) and folds its reading into what the one before
    wrote, so none is lost."""
    tx_id = await start_2(rpc, station_id, meter_start_wh=1000)
    updates = [
        tx.UpdateTransaction(
            station_id=station_id,
            station_transaction_id=tx_id,
            seq_no=n,
            timestamp=T0 + timedelta(minutes=n),
            meter_values=[energy(n, 1000 + 500 * n)],
        )
        for n in range(1, 9)
    ]
    answers = await asyncio.gather(*(call(rpc, tx.UPDATE_TRANSACTION, u) for u in updates))
    assert not any(answer.duplicate for answer in answers)
    detail = await detail_of(rpc, answers[0])
    assert detail.energy_wh == 4000
    assert len(detail.meter_values) == 8
    await barrier(rpc, events)
    assert events.of(station_id) == ["transaction.started"] + ["transaction.updated"] * 8


async def test_ended_is_published_once_however_often_the_end_arrives(rpc, events, station_id):
    tx_id = await start_2(rpc, station_id, meter_start_wh=1000)
    for seq_no in (1, 2):  # an End resent under a new seqNo (a station that lost the answer)
        await call(
            rpc,
            tx.END_TRANSACTION,
            tx.EndTransaction(
                station_id=station_id,
                station_transaction_id=tx_id,
                seq_no=seq_no,
                ended_at=T0 + timedelta(minutes=40),
                meter_stop_wh=6000,
            ),
        )
    await barrier(rpc, events)
    assert events.of(station_id) == ["transaction.started", "transaction.ended"]


async def test_offline_events_out_of_order_still_make_one_consistent_session(
    rpc, events, station_id
):
    tx_id = str(uuid.uuid4())
    ended = tx.EndTransaction(
        station_id=station_id,
        station_transaction_id=tx_id,
        seq_no=3,
        offline=True,
        ended_at=T0 + timedelta(minutes=45),
        meter_stop_wh=12000,
        stop_reason="EVDisconnected",
        meter_values=[energy(45, 12000, "Transaction.End")],
    )
    update = tx.UpdateTransaction(
        station_id=station_id,
        station_transaction_id=tx_id,
        seq_no=1,
        offline=True,
        timestamp=T0 + timedelta(minutes=15),
        meter_values=[energy(15, 5000)],
    )
    start = start_16(
        station_id,
        station_transaction_id=tx_id,
        seq_no=0,
        evse_id=2,
        offline=True,
        meter_values=[energy(0, 1000, "Transaction.Begin")],
    )
    # The End arrives first, then the update, then the start: the session must still add up.
    accepted = await call(rpc, tx.END_TRANSACTION, ended)
    await call(rpc, tx.UPDATE_TRANSACTION, update)
    await call(rpc, tx.START_TRANSACTION, start)
    detail = await detail_of(rpc, accepted)
    assert detail.status == tx.TransactionStatus.ENDED
    assert detail.started_at == T0
    assert detail.ended_at == T0 + timedelta(minutes=45)
    assert detail.meter_start_wh == 1000
    assert detail.energy_wh == 11000
    assert detail.evse_id == 2
    assert detail.id_token == TOKEN
    assert [mv.timestamp for mv in detail.meter_values] == sorted(
        mv.timestamp for mv in detail.meter_values
    )
    await barrier(rpc, events)
    assert events.of(station_id) == ["transaction.started", "transaction.ended"]


async def test_meter_values_outside_transactions_are_stored_once(rpc, station_id):
    request = tx.RecordMeterValues(
        station_id=station_id, evse_id=0, meter_values=[energy(0, 123456, "Sample.Clock")]
    )
    assert (await call(rpc, tx.RECORD_METER_VALUES, request)).stored == 2
    assert (await call(rpc, tx.RECORD_METER_VALUES, request)).stored == 0


async def test_list_filters_and_pages(rpc, station_id):
    ids = []
    for hour in range(3):
        accepted = await call(
            rpc, tx.START_TRANSACTION, start_16(station_id, started_at=T0 + timedelta(hours=hour))
        )
        ids.append(accepted.transaction_id)
    page = await call(
        rpc, tx.LIST_TRANSACTIONS, tx.ListTransactions(station_id=station_id, limit=2)
    )
    assert page.total == 3
    assert [t.transaction_id for t in page.items] == [ids[2], ids[1]]
    window = await call(
        rpc,
        tx.LIST_TRANSACTIONS,
        tx.ListTransactions(
            station_id=station_id,
            started_from=T0 + timedelta(hours=1),
            started_to=T0 + timedelta(hours=2),
        ),
    )
    assert [t.transaction_id for t in window.items] == [ids[1]]
    running = await call(
        rpc,
        tx.LIST_TRANSACTIONS,
        tx.ListTransactions(
            id_token=TOKEN.value, status=tx.TransactionStatus.ENDED, station_id=station_id
        ),
    )
    assert running.total == 0


async def test_unknown_transaction_is_not_found(rpc, transactions_service):
    with pytest.raises(NotFoundError):
        await call(rpc, tx.GET_TRANSACTION, tx.TransactionRef(transaction_id=987654321987))


async def test_summary_counts_sessions_energy_and_running(rpc, station_id):
    first = await call(rpc, tx.START_TRANSACTION, start_16(station_id))
    await call(
        rpc,
        tx.END_TRANSACTION,
        tx.EndTransaction(
            station_id=station_id,
            station_transaction_id=first.station_transaction_id,
            ended_at=T0 + timedelta(minutes=30),
            meter_stop_wh=4000,
            stop_reason="Local",
        ),
    )
    await call(rpc, tx.START_TRANSACTION, start_16(station_id, evse_id=2, started_at=T0))
    # Started the day before: outside the period, but running now.
    await call(
        rpc,
        tx.START_TRANSACTION,
        start_16(station_id, evse_id=3, started_at=T0 - timedelta(days=1)),
    )
    figures = await call(
        rpc,
        tx.SUMMARIZE_TRANSACTIONS,
        tx.SummarizeTransactions(
            started_from=T0, started_to=T0 + timedelta(days=1), station_id=station_id
        ),
    )
    assert (figures.sessions, figures.energy_wh, figures.running) == (2, 3000, 2)


async def test_messages_of_many_stations_arriving_together_share_commits(
    rpc, database_url, events, station_id
):
    """A busy service commits the stations' messages in groups: one BEGIN, COMMIT and disk
    flush for many. Rows written in one transaction carry the same ``xmin``; each station still
    gets its own answer and its own events."""
    stations = [f"{station_id}-G{n:02}" for n in range(30)]
    answers = await asyncio.gather(
        *(call(rpc, tx.START_TRANSACTION, start_16(station)) for station in stations)
    )
    assert len({answer.transaction_id for answer in answers}) == 30
    assert not any(answer.duplicate for answer in answers)
    commits = await commits_of(database_url, stations)
    assert 1 <= commits < 30
    for station in stations:
        await events.wait_for(station, "transaction.started")


async def test_starts_arriving_together_are_inserted_in_bulk_each_as_if_alone(
    rpc, database_url, events, station_id
):
    """Starts of 1.6 and 2.0.1 stations arriving together are inserted in a few statements for
    all of them; a 1.6 start sent again, a start sent twice at once and a 2.0.1 start that a
    later event of its transaction overtook still come out as they would alone."""
    stations = [f"{station_id}-S{n:02}" for n in range(12)]
    retried = await call(rpc, tx.START_TRANSACTION, start_16(stations[0]))
    overtaken = str(uuid.uuid4())
    implicit = await call(rpc, tx.UPDATE_TRANSACTION, update_2(stations[1], overtaken, 1, 5, 2500))
    tx_ids = {n: str(uuid.uuid4()) for n in range(3, 12, 2)}

    def new_start(n: int) -> tx.StartTransaction:
        tx_id = {"station_transaction_id": tx_ids[n], "seq_no": 0} if n in tx_ids else {}
        return start_16(stations[n], meter_values=[energy(0, 1000 + 100 * n)], **tx_id)

    together = [new_start(n) for n in range(2, 12)]
    together += [
        start_16(stations[0]),  # sent again later: the transaction it started
        new_start(2),  # 1.6, sent twice at once
        new_start(3),  # 2.0.1, seqNo 0 twice at once
        start_16(stations[1], station_transaction_id=overtaken, seq_no=0, meter_start_wh=1000),
    ]
    answers = await asyncio.gather(*(call(rpc, tx.START_TRANSACTION, m) for m in together))

    assert [answer.duplicate for answer in answers] == [False] * 10 + [True, True, True, False]
    assert answers[10].transaction_id == retried.transaction_id
    assert answers[11].transaction_id == answers[0].transaction_id
    assert answers[12].transaction_id == answers[1].transaction_id
    assert answers[13].transaction_id == implicit.transaction_id
    for n, answer in enumerate(answers[:10], start=2):
        if n in tx_ids:
            assert answer.station_transaction_id == tx_ids[n]
        else:
            assert answer.station_transaction_id == str(answer.transaction_id)
        detail = await detail_of(rpc, answer)
        assert (detail.station_id, detail.status, detail.energy_wh) == (
            stations[n],
            tx.TransactionStatus.RUNNING,
            100 * n,
        )
        assert len(detail.meter_values) == 1
    filled = await detail_of(rpc, implicit)
    assert (filled.meter_start_wh, filled.energy_wh) == (1000, 1500)
    replay = update_2(stations[3], tx_ids[3], 0, 9, 9999)  # seqNo 0 was claimed with the row
    assert (await call(rpc, tx.UPDATE_TRANSACTION, replay)).duplicate
    await barrier(rpc, events)
    for station in stations:
        assert events.of(station).count("transaction.started") == 1
    started = await events.wait_for(stations[3], "transaction.started")
    assert started.id_token_info == ACCEPTED
    commits = await commits_of(database_url, stations[2:])
    assert commits < 10


def update_2(station_id: str, tx_id: str, seq_no: int, minutes: float, wh: int):
    return tx.UpdateTransaction(
        station_id=station_id,
        station_transaction_id=tx_id,
        seq_no=seq_no,
        timestamp=T0 + timedelta(minutes=minutes),
        meter_values=[energy(minutes, wh)],
    )


async def test_updates_arriving_together_are_applied_in_bulk_each_as_if_alone(
    rpc, database_url, events, station_id
):
    """Meter values arriving together are written in a few statements for all of them; a
    replay, a second message of one transaction and a transaction never seen still come out
    as they would alone."""
    stations = [f"{station_id}-U{n:02}" for n in range(12)]
    tx_ids = [await start_2(rpc, station, meter_start_wh=1000) for station in stations]
    await call(rpc, tx.UPDATE_TRANSACTION, update_2(stations[0], tx_ids[0], 1, 5, 2000))
    unknown_station, unknown_tx = f"{station_id}-U99", str(uuid.uuid4())
    together = [
        update_2(station, tx_id, 1, 5, 1000 + 500 * n)
        for n, (station, tx_id) in enumerate(zip(stations, tx_ids, strict=True))
        if n > 0
    ]
    together += [
        update_2(stations[0], tx_ids[0], 1, 9, 9999),  # seqNo 1 again: a replay
        update_2(stations[0], tx_ids[0], 2, 10, 3000),  # the same transaction's next event
        update_2(unknown_station, unknown_tx, 3, 7, 4200),  # its start never arrived
    ]
    answers = await asyncio.gather(*(call(rpc, tx.UPDATE_TRANSACTION, m) for m in together))

    assert [answer.duplicate for answer in answers] == [False] * 11 + [True, False, False]
    for n, answer in enumerate(answers[:11], start=1):
        detail = await detail_of(rpc, answer)
        assert (detail.station_id, detail.energy_wh) == (stations[n], 500 * n)
        await events.wait_for(stations[n], "transaction.updated")
    first = await detail_of(rpc, answers[12])
    assert first.energy_wh == 2000  # 3000 - 1000; the replay's 9999 was not applied
    assert len(first.meter_values) == 2
    await events.wait_for(unknown_station, "transaction.started")
    commits = await commits_of(database_url, stations[1:])
    assert commits < 11


def end_2(station_id: str, tx_id: str, seq_no: int, minutes: float, wh: int):
    return tx.EndTransaction(
        station_id=station_id,
        station_transaction_id=tx_id,
        seq_no=seq_no,
        ended_at=T0 + timedelta(minutes=minutes),
        meter_stop_wh=wh,
        meter_values=[energy(minutes, wh, context="Transaction.End")],
    )


async def test_ends_arriving_together_are_applied_in_bulk_each_as_if_alone(
    rpc, database_url, events, station_id
):
    """Ends arriving together are written in a few statements for all of them; a replay, an
    end sent twice under new seqNos, an update and the end of one transaction, and a
    transaction never seen still come out as they would alone."""
    stations = [f"{station_id}-E{n:02}" for n in range(12)]
    tx_ids = [await start_2(rpc, station, meter_start_wh=1000) for station in stations]
    await call(rpc, tx.END_TRANSACTION, end_2(stations[0], tx_ids[0], 1, 30, 4000))
    unknown_station, unknown_tx = f"{station_id}-E99", str(uuid.uuid4())
    together = [
        end_2(station, tx_id, 2, 40 + n, 1000 + 500 * n)
        for n, (station, tx_id) in enumerate(zip(stations, tx_ids, strict=True))
        if n > 1
    ]
    together += [
        end_2(stations[0], tx_ids[0], 1, 31, 9999),  # seqNo 1 again: a replay
        end_2(stations[0], tx_ids[0], 2, 32, 8888),  # ended already, under a new seqNo
        update_2(stations[1], tx_ids[1], 1, 20, 2500),  # one transaction's update, then end
        end_2(stations[1], tx_ids[1], 2, 45, 3500),
        end_2(unknown_station, unknown_tx, 5, 50, 4200),  # its start never arrived
    ]
    answers = await asyncio.gather(
        *(
            call(
                rpc,
                tx.UPDATE_TRANSACTION
                if isinstance(m, tx.UpdateTransaction)
                else tx.END_TRANSACTION,
                m,
            )
            for m in together
        )
    )

    assert [answer.duplicate for answer in answers] == [False] * 10 + [True, True] + [False] * 3
    for n, answer in enumerate(answers[:10], start=2):
        detail = await detail_of(rpc, answer)
        assert (detail.station_id, detail.status, detail.energy_wh) == (
            stations[n],
            tx.TransactionStatus.ENDED,
            500 * n,
        )
    first = await detail_of(rpc, answers[10])
    assert first.energy_wh == 3000  # ended at 4000 Wh; neither 9999 nor 8888 applied
    second = await detail_of(rpc, answers[13])
    assert (second.status, second.energy_wh, len(second.meter_values)) == (
        tx.TransactionStatus.ENDED,
        2500,
        2,
    )
    unknown = await detail_of(rpc, answers[14])
    assert (unknown.station_id, unknown.status) == (unknown_station, tx.TransactionStatus.ENDED)
    await barrier(rpc, events)
    for station in stations:
        assert events.of(station).count("transaction.ended") == 1
    commits = await commits_of(database_url, stations[2:])
    assert commits < 10
