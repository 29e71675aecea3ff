import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from opencpms_billing.bootstrap import build
from opencpms_billing.handlers import SEED_VALID_FROM
from opencpms_contracts import billing
from opencpms_db.engine import create_engine
from opencpms_messaging.rpc_errors import InvalidRequestError, NotFoundError

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("billing_service")]

LONG_AGO = datetime(1999, 6, 1, 12, 0, tzinfo=UTC)


async def test_set_and_get_the_default_tariff(rpc):
    request = billing.SetTariff(
        currency="CHF",
        price_per_kwh=Decimal("0.455"),
        price_per_minute=Decimal("0.05"),
        price_per_session=Decimal("1.00"),
        tax_rate=Decimal("0.081"),
    )
    before = datetime.now(UTC)

    stored = await rpc.call(billing.SET_TARIFF, request, timeout=10)
    fetched = await rpc.call(billing.GET_TARIFF, billing.TariffRef(), timeout=10)

    assert fetched == stored
    assert stored.tariff_id == "default"
    assert stored.currency == "CHF"
    assert stored.price_per_kwh == Decimal("0.455")
    assert stored.price_per_minute == Decimal("0.05")
    assert stored.price_per_session == Decimal("1.00")
    assert stored.tax_rate == Decimal("0.081")
    assert stored.updated_at is not None
    assert stored.updated_at >= before - timedelta(seconds=1)


async def test_only_the_default_tariff_exists(rpc):
    with pytest.raises(NotFoundError):
        await rpc.call(billing.GET_TARIFF, billing.TariffRef(tariff_id="night"), timeout=10)
    with pytest.raises(InvalidRequestError):
        await rpc.call(
            billing.SET_TARIFF,
            billing.SetTariff(tariff_id="night", currency="EUR", price_per_kwh=Decimal("0.2")),
            timeout=10,
        )


async def test_a_change_applies_to_sessions_ending_later(
    rpc, broker, cdr_events, transaction_ended
):
    first = billing.SetTariff(currency="EUR", price_per_kwh=Decimal("0.30"))
    second = billing.SetTariff(currency="EUR", price_per_kwh=Decimal("0.60"))
    await rpc.call(billing.SET_TARIFF, first, timeout=10)
    ended_before_change = datetime.now(UTC)
    await rpc.call(billing.SET_TARIFF, second, timeout=10)
    # Processed after the change, but the session ended under the first tariff.
    backlog = transaction_ended(energy_wh=10_000, ended_at=ended_before_change)
    recent = transaction_ended(energy_wh=10_000)
    await broker.publisher.publish(backlog, subject=backlog.station_id)
    await broker.publisher.publish(recent, subject=recent.station_id)

    _, old = await cdr_events.wait_for(backlog.transaction_id)
    _, new = await cdr_events.wait_for(recent.transaction_id)

    assert old.cdr.tariff.price_per_kwh == Decimal("0.30")
    assert old.cdr.total_excl_tax == Decimal("3.00")
    assert new.cdr.tariff.price_per_kwh == Decimal("0.60")
    assert new.cdr.total_excl_tax == Decimal("6.00")


async def test_the_default_tariff_is_seeded_from_the_settings_once(
    settings_for_replica, broker, cdr_events, transaction_ended
):
    # A replica starting later with other settings must not replace the seeded tariff.
    replica = await build(
        settings_for_replica(default_currency="USD", default_price_per_kwh=Decimal("9")),
        node_name="billing-test-replica",
    )
    await replica.close()
    # The seeded version applies to sessions that ended before any change through the API.
    event = transaction_ended(energy_wh=10_000, duration=timedelta(minutes=30), ended_at=LONG_AGO)
    await broker.publisher.publish(event, subject=event.station_id)

    _, created = await cdr_events.wait_for(event.transaction_id)

    tariff = created.cdr.tariff
    assert tariff.currency == "EUR"
    assert tariff.price_per_kwh == Decimal("0.42")
    assert tariff.price_per_minute == Decimal("0.01")
    assert tariff.price_per_session == Decimal("0.25")
    assert tariff.tax_rate == Decimal("0.20")
    # 4.20 energy + 0.30 time + 0.25 session = 4.75; 20 % tax = 0.95
    assert (created.cdr.total_excl_tax, created.cdr.tax, created.cdr.total_incl_tax) == (
        Decimal("4.75"),
        Decimal("0.95"),
        Decimal("5.70"),
    )


async def test_replicas_starting_together_seed_once(database_url, settings_for_replica):
    replicas = await asyncio.gather(
        *(build(settings_for_replica(), node_name=f"billing-test-race-{n}") for n in range(3))
    )
    for replica in replicas:
        await replica.close()

    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            seeded = await connection.scalar(
                text("SELECT count(*) FROM billing.tariffs WHERE valid_from = :t"),
                {"t": SEED_VALID_FROM},
            )
    finally:
        await engine.dispose()
    assert seeded == 1
