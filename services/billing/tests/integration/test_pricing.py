import asyncio
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from opencpms_billing.handlers import price_transaction
from opencpms_billing.tables import outbox
from opencpms_contracts import billing
from opencpms_db.engine import create_engine
from opencpms_db.unit_of_work import DriverUnitOfWork
from opencpms_db.write_batch import WriteBatch

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("billing_service")]

REFERENCE_TARIFF = billing.SetTariff(
    currency="EUR",
    price_per_kwh=Decimal("0.35"),
    price_per_minute=Decimal("0.02"),
    price_per_session=Decimal("0.50"),
    tax_rate=Decimal("0.19"),
)
REFERENCE_DURATION = timedelta(minutes=47, seconds=30)
NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


async def test_a_session_is_priced_once_though_published_three_times(
    rpc, broker, cdr_events, transaction_ended
):
    await rpc.call(billing.SET_TARIFF, REFERENCE_TARIFF, timeout=10)
    event = transaction_ended(energy_wh=14321, duration=REFERENCE_DURATION, station_id="CP-PRICE-1")
    # Redelivered with the same id, and published again by the producer under a new id.
    event_id = str(uuid.uuid4())
    await broker.publisher.publish(event, subject=event.station_id, event_id=event_id)
    await broker.publisher.publish(event, subject=event.station_id, event_id=event_id)
    await broker.publisher.publish(event, subject=event.station_id)
    later = transaction_ended(station_id="CP-PRICE-1")
    await broker.publisher.publish(later, subject=later.station_id)

    envelope, created = await cdr_events.wait_for(event.transaction_id)
    # The service handles one message at a time (see conftest): by the time the later
    # session's CDR is out, the duplicates were handled, and a second CDR would have come first.
    await cdr_events.wait_for(later.transaction_id)

    assert cdr_events.count(event.transaction_id) == 1
    cdr = created.cdr
    assert (cdr.total_excl_tax, cdr.tax, cdr.total_incl_tax) == (
        Decimal("6.46"),
        Decimal("1.23"),
        Decimal("7.69"),
    )
    assert (cdr.energy_cost, cdr.time_cost, cdr.session_cost) == (
        Decimal("5.01235"),
        Decimal("0.95"),
        Decimal("0.5"),
    )
    assert cdr.duration_s == 2850
    assert cdr.energy_wh == 14321
    assert cdr.currency == "EUR"
    assert cdr.tariff.price_per_kwh == Decimal("0.35")
    assert cdr.tariff.tax_rate == Decimal("0.19")
    assert cdr.id_token == event.id_token
    assert (cdr.station_transaction_id, cdr.evse_id, cdr.connector_id) == (
        event.station_transaction_id,
        1,
        1,
    )
    assert envelope.type == "opencpms.cdr.created.v1"
    assert envelope.source == "/opencpms/billing"
    assert envelope.subject == "CP-PRICE-1"
    page = await rpc.call(
        billing.LIST_CDRS, billing.ListCdrs(transaction_id=event.transaction_id), timeout=10
    )
    assert page.total == 1
    assert page.items[0] == cdr


async def test_a_billing_system_reads_a_structured_cloudevent(rpc, broker, transaction_ended):
    """What an external system bound to cdr.created receives, read without OpenCPMS code."""
    channel = await broker.connection.channel()
    try:
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind("opencpms.events", routing_key="cdr.created")
        await rpc.call(billing.SET_TARIFF, REFERENCE_TARIFF, timeout=10)
        event = transaction_ended(energy_wh=14321, duration=REFERENCE_DURATION)
        await broker.publisher.publish(event, subject=event.station_id)

        async with asyncio.timeout(10), queue.iterator() as messages:
            async for message in messages:
                await message.ack()
                body = json.loads(message.body)
                if body["data"]["cdr"]["transaction_id"] == event.transaction_id:
                    break
    finally:
        await channel.close()

    assert message.content_type.startswith("application/cloudevents+json")
    assert body["specversion"] == "1.0"
    assert body["type"] == "opencpms.cdr.created.v1"
    assert body["subject"] == event.station_id
    assert uuid.UUID(body["id"])
    cdr = body["data"]["cdr"]
    # Money travels as strings, to the cent for totals.
    assert (cdr["total_excl_tax"], cdr["tax"], cdr["total_incl_tax"]) == ("6.46", "1.23", "7.69")
    assert cdr["currency"] == "EUR"
    assert cdr["energy_wh"] == 14321


async def test_an_end_before_the_start_is_priced_as_zero_length(
    rpc, broker, cdr_events, transaction_ended
):
    await rpc.call(billing.SET_TARIFF, REFERENCE_TARIFF, timeout=10)
    event = transaction_ended(energy_wh=10_000, duration=timedelta(minutes=-5))
    await broker.publisher.publish(event, subject=event.station_id)

    _, created = await cdr_events.wait_for(event.transaction_id)

    assert created.cdr.duration_s == 0
    assert created.cdr.time_cost == 0
    assert created.cdr.total_excl_tax == Decimal("4.00")  # 3.50 energy + 0.50 session


async def test_a_session_that_cannot_be_priced_is_dead_lettered(
    rpc, broker, cdr_events, transaction_ended
):
    channel = await broker.connection.channel()
    try:
        dead = await channel.declare_queue("billing.transaction-ended.dead", passive=True)
        poison = transaction_ended(energy_wh=-5)
        await broker.publisher.publish(poison, subject=poison.station_id)
        async with asyncio.timeout(10), dead.iterator() as messages:
            async for message in messages:
                await message.ack()
                data = json.loads(message.body)["data"]
                if data["transaction_id"] == poison.transaction_id:
                    break
    finally:
        await channel.close()

    # A session after it is priced: the queue is not stuck behind the poison message.
    later = transaction_ended()
    await broker.publisher.publish(later, subject=later.station_id)
    await cdr_events.wait_for(later.transaction_id)
    assert cdr_events.count(poison.transaction_id) == 0
    page = await rpc.call(
        billing.LIST_CDRS, billing.ListCdrs(transaction_id=poison.transaction_id), timeout=10
    )
    assert page.total == 0


class LogWatch(logging.Handler):
    """Sets ``seen`` when a record containing ``text`` is logged."""

    def __init__(self, text: str) -> None:
        super().__init__(logging.ERROR)
        self.text = text
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.seen.set()


async def test_a_database_failure_is_retried_until_it_clears(
    database_url, broker, cdr_events, transaction_ended
):
    event = transaction_ended(station_id="CP-TRANSIENT")
    event_id = str(uuid.uuid4())
    engine = create_engine(database_url, pool_size=1)
    consumer_log = logging.getLogger("opencpms_messaging.consumer")
    retried = LogWatch(f"will retry opencpms.transaction.ended.v1 {event_id}")
    # A constraint that refuses only this station's CDRs: the insert fails as a database error
    # would, while the rest of the service keeps working.
    refuse = (
        "ALTER TABLE billing.cdrs ADD CONSTRAINT test_refuse CHECK (station_id <> 'CP-TRANSIENT')"
    )
    consumer_log.addHandler(retried)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(refuse))
        await broker.publisher.publish(event, subject=event.station_id, event_id=event_id)
        await asyncio.wait_for(retried.seen.wait(), 10)
    finally:
        consumer_log.removeHandler(retried)
        async with engine.begin() as connection:
            await connection.execute(
                text("ALTER TABLE billing.cdrs DROP CONSTRAINT IF EXISTS test_refuse")
            )
        await engine.dispose()

    _, created = await cdr_events.wait_for(event.transaction_id)
    assert created.cdr.station_id == "CP-TRANSIENT"


async def test_sessions_priced_together_each_get_their_own_tariff_and_one_cdr(
    database_url, rpc, transaction_ended, caplog
):
    # The service under test prices one session at a time (see conftest), so this drives the
    # group commit itself: three sessions in one batch, two of them the same transaction.
    await rpc.call(
        billing.SET_TARIFF,
        billing.SetTariff(currency="EUR", price_per_kwh=Decimal("0.30")),
        timeout=10,
    )
    ended_before_change = datetime.now(UTC)
    await rpc.call(
        billing.SET_TARIFF,
        billing.SetTariff(currency="EUR", price_per_kwh=Decimal("0.60")),
        timeout=10,
    )
    backlog = transaction_ended(energy_wh=10_000, ended_at=ended_before_change)
    recent = transaction_ended(energy_wh=10_000)
    engine = create_engine(database_url, pool_size=1)
    committed: list[dict[str, object]] = []
    writes = WriteBatch(
        lambda: DriverUnitOfWork(engine, outbox, on_commit=committed.extend),
        max_batch=3,
        max_wait_s=10,
    )
    try:
        with caplog.at_level(logging.WARNING, logger="opencpms_db.write_batch"):
            priced = await asyncio.gather(
                *(
                    price_transaction(
                        event, str(uuid.uuid4()), pricing_writes=writes, clock=lambda: NOW
                    )
                    for event in (backlog, recent, recent)
                )
            )
    finally:
        await engine.dispose()

    # Priced in the batch's own statements, not by the one-by-one retry of a failed batch.
    assert not caplog.records
    first, second, repeated = priced
    assert first is not None
    assert second is not None
    assert repeated is None
    assert (first.transaction_id, first.tariff.price_per_kwh) == (
        backlog.transaction_id,
        Decimal("0.30"),
    )
    assert first.total_excl_tax == Decimal("3.00")
    assert (second.transaction_id, second.tariff.price_per_kwh) == (
        recent.transaction_id,
        Decimal("0.60"),
    )
    assert second.total_excl_tax == Decimal("6.00")
    assert [json.loads(row["data"])["cdr"]["cdr_id"] for row in committed] == [
        first.cdr_id,
        second.cdr_id,
    ]
