from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from opencpms_billing.records import cdr_from_row, cdr_values, tariff_from_row
from opencpms_billing.tables import CdrRecord, TariffVersion
from opencpms_contracts.billing import Cdr, Tariff
from opencpms_contracts.common import IdToken

ENDED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SIX = Decimal("0.000001")


def a_cdr(**overrides: object) -> Cdr:
    values: dict[str, object] = {
        "cdr_id": "5b0a6f0e-2d1c-4f35-9b4e-1f7c3a2b9d10",
        "transaction_id": 42,
        "station_id": "CP1",
        "station_transaction_id": "tx-42",
        "evse_id": 1,
        "connector_id": 2,
        "id_token": IdToken(value="04A1B2", type="eMAID"),
        "started_at": ENDED - timedelta(minutes=47, seconds=30),
        "ended_at": ENDED,
        "energy_wh": 14321,
        "duration_s": 2850,
        "tariff": Tariff(
            currency="EUR",
            price_per_kwh=Decimal("0.35"),
            price_per_minute=Decimal("0.02"),
            price_per_session=Decimal("0.50"),
            tax_rate=Decimal("0.19"),
        ),
        "currency": "EUR",
        "energy_cost": Decimal("5.012350"),
        "time_cost": Decimal("0.950000"),
        "session_cost": Decimal("0.500000"),
        "total_excl_tax": Decimal("6.46"),
        "tax": Decimal("1.23"),
        "total_incl_tax": Decimal("7.69"),
        "created_at": ENDED + timedelta(seconds=1),
    }
    return Cdr.model_validate(values | overrides)


def stored(cdr: Cdr) -> CdrRecord:
    """The row as PostgreSQL gives it back: every NUMERIC(18, 6) with six decimals."""
    values = cdr_values(cdr, source_event_id="e-1")
    for column in ("energy_cost", "time_cost", "session_cost", "total_excl_tax", "tax"):
        values[column] = Decimal(values[column]).quantize(SIX)  # type: ignore[arg-type]
    values["total_incl_tax"] = cdr.total_incl_tax.quantize(SIX)
    return CdrRecord(**values)


@pytest.mark.parametrize(
    "cdr",
    [
        a_cdr(),
        a_cdr(id_token=None),
        a_cdr(
            currency="JPY",
            total_excl_tax=Decimal("438"),
            tax=Decimal("44"),
            total_incl_tax=Decimal("482"),
        ),
    ],
)
def test_a_stored_cdr_reads_back_exactly_as_published(cdr):
    assert cdr_from_row(stored(cdr)).model_dump_json() == cdr.model_dump_json()


def test_the_row_keeps_the_token_type_and_the_tariff_snapshot():
    values = cdr_values(a_cdr(), source_event_id="e-1")
    assert (values["id_token"], values["id_token_type"]) == ("04A1B2", "eMAID")
    assert values["source_event_id"] == "e-1"
    assert values["tariff"]["price_per_kwh"] == "0.35"  # a string in JSONB, never a float


def test_a_tariff_version_is_served_with_when_it_was_set():
    set_at = datetime(2026, 1, 2, tzinfo=UTC)
    row = TariffVersion(
        tariff_id="default",
        valid_from=set_at,
        currency="EUR",
        price_per_kwh=Decimal("0.300000"),
        price_per_minute=Decimal("0.000000"),
        price_per_session=Decimal("0.000000"),
        tax_rate=Decimal("0.190000"),
        created_at=set_at,
    )
    tariff = tariff_from_row(row)
    assert tariff.price_per_kwh == Decimal("0.30")
    assert tariff.updated_at == set_at
