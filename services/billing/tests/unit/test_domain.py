from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from opencpms_billing.domain import (
    MAX_AMOUNT,
    UnpriceableSessionError,
    duration_seconds,
    minor_unit,
    price_session,
    round_component,
    round_to_minor_unit,
)
from opencpms_contracts.billing import Tariff

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def a_tariff(**overrides: object) -> Tariff:
    values: dict[str, object] = {
        "currency": "EUR",
        "price_per_kwh": Decimal("0.35"),
        "price_per_minute": Decimal("0.02"),
        "price_per_session": Decimal("0.50"),
        "tax_rate": Decimal("0.19"),
    }
    return Tariff.model_validate(values | overrides)


def price(energy_wh: int, duration: timedelta, **tariff: object):
    return price_session(
        energy_wh=energy_wh, started_at=START, ended_at=START + duration, tariff=a_tariff(**tariff)
    )


def test_the_reference_session():
    """14321 Wh over 47 min 30 s at 0.35/kWh, 0.02/min, 0.50/session and 19 % VAT."""
    p = price(14321, timedelta(minutes=47, seconds=30))
    assert p.duration_s == 2850
    assert p.energy_cost == Decimal("5.012350")
    assert p.time_cost == Decimal("0.950000")
    assert p.session_cost == Decimal("0.500000")
    assert str(p.total_excl_tax) == "6.46"
    assert str(p.tax) == "1.23"
    assert str(p.total_incl_tax) == "7.69"
    assert p.currency == "EUR"


def test_every_amount_is_a_decimal():
    p = price(14321, timedelta(minutes=47, seconds=30))
    amounts = (
        p.energy_cost,
        p.time_cost,
        p.session_cost,
        p.total_excl_tax,
        p.tax,
        p.total_incl_tax,
    )
    assert all(type(a) is Decimal for a in amounts)


@pytest.mark.parametrize(
    ("energy_wh", "price_per_kwh", "expected"),
    [
        (0, "0.30", "0.000000"),
        (1, "0.30", "0.000300"),
        (1000, "0.30", "0.300000"),
        (14321, "0.35", "5.012350"),
        (7, "0.000001", "0.000000"),  # 0.000000007 rounds to nothing at 6 decimals
        (500, "0.000001", "0.000001"),  # 0.0000005 rounds half up
        (123456789, "0.123456", "15241.481343"),  # 15241.481342784
    ],
)
def test_energy_cost_keeps_six_decimals(energy_wh, price_per_kwh, expected):
    p = price(
        energy_wh, timedelta(0), price_per_kwh=Decimal(price_per_kwh), price_per_minute=Decimal(0)
    )
    assert p.energy_cost == Decimal(expected)
    assert p.energy_cost.as_tuple().exponent == -6


@pytest.mark.parametrize(
    ("duration", "price_per_minute", "expected"),
    [
        (timedelta(0), "0.02", "0"),
        (timedelta(seconds=1), "0.02", "0.000333"),  # 0.000333.. not a float's 0.00033333334
        (timedelta(seconds=2), "0.02", "0.000667"),
        (timedelta(minutes=47, seconds=30), "0.02", "0.95"),
        (timedelta(hours=10), "0.10", "60"),
        (timedelta(minutes=1, microseconds=999_999), "1", "1"),  # whole seconds only
    ],
)
def test_time_cost_is_per_started_second(duration, price_per_minute, expected):
    p = price(0, duration, price_per_minute=Decimal(price_per_minute))
    assert p.time_cost == Decimal(expected)


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(0), 0),
        (timedelta(microseconds=999_999), 0),
        (timedelta(seconds=1), 1),
        (timedelta(minutes=47, seconds=30, microseconds=500_000), 2850),
        (timedelta(days=3, seconds=5), 259205),
        (timedelta(seconds=-1), 0),
        (timedelta(microseconds=-1), 0),
        (timedelta(days=-400), 0),
    ],
)
def test_duration_is_whole_seconds_and_never_negative(delta, expected):
    assert duration_seconds(START, START + delta) == expected


def test_duration_across_time_zones():
    plus_two = datetime(2026, 3, 1, 10, 30, tzinfo=UTC).astimezone(
        datetime.fromisoformat("2026-03-01T00:00:00+02:00").tzinfo
    )
    assert duration_seconds(START, plus_two) == 9000


def test_an_end_before_the_start_is_a_zero_length_session():
    p = price(10_000, timedelta(minutes=-5))
    assert p.duration_s == 0
    assert p.time_cost == 0
    assert p.total_excl_tax == Decimal("4.00")  # 3.50 energy + 0.50 session


@pytest.mark.parametrize(
    ("currency", "places"),
    [
        ("EUR", 2),
        ("USD", 2),
        ("CHF", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("ISK", 0),
        ("BHD", 3),
        ("KWD", 3),
        ("TND", 3),
        ("CLF", 4),
        ("ZZZ", 2),  # unknown codes default to 2
    ],
)
def test_minor_units(currency, places):
    assert minor_unit(currency) == places


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("6.46235", "EUR", "6.46"),
        ("6.465", "EUR", "6.47"),  # half up, not half even
        ("6.475", "EUR", "6.48"),
        ("6.464999", "EUR", "6.46"),
        ("0.005", "EUR", "0.01"),
        ("0.004999", "EUR", "0.00"),
        ("1234.5", "JPY", "1235"),
        ("1233.5", "JPY", "1234"),
        ("1.2345", "KWD", "1.235"),
        ("7", "EUR", "7.00"),
    ],
)
def test_round_to_minor_unit_is_half_up(amount, currency, expected):
    assert str(round_to_minor_unit(Decimal(amount), currency)) == expected


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("0.0000005", "0.000001"), ("0.00000049", "0.000000"), ("5.01235", "5.012350")],
)
def test_round_component(amount, expected):
    assert str(round_component(Decimal(amount))) == expected


@pytest.mark.parametrize(
    ("energy_wh", "duration", "tariff", "excl", "tax", "incl"),
    [
        # energy only, the settings' default tariff
        (
            20_000,
            timedelta(hours=1),
            {"price_per_kwh": Decimal("0.30"), "price_per_minute": 0, "price_per_session": 0},
            "6.00",
            "1.14",
            "7.14",
        ),
        # tax rounds half up on its own: 0.50 * 0.19 = 0.095 -> 0.10
        (0, timedelta(0), {"price_per_session": Decimal("0.50")}, "0.50", "0.10", "0.60"),
        # no tax
        (14321, timedelta(minutes=47, seconds=30), {"tax_rate": 0}, "6.46", "0.00", "6.46"),
        # a free tariff
        (
            99_999,
            timedelta(hours=5),
            {"price_per_kwh": 0, "price_per_minute": 0, "price_per_session": 0},
            "0.00",
            "0.00",
            "0.00",
        ),
        # JPY has no minor unit: 12.5 kWh * 35 = 437.5 -> 438; tax 10 % = 43.8 -> 44
        (
            12_500,
            timedelta(minutes=30),
            {
                "currency": "JPY",
                "price_per_kwh": 35,
                "price_per_minute": 0,
                "price_per_session": 0,
                "tax_rate": Decimal("0.10"),
            },
            "438",
            "44",
            "482",
        ),
        # KWD has three: 10 kWh * 0.0155 = 0.155; 0.155 * 0.05 = 0.00775 -> 0.008
        (
            10_000,
            timedelta(0),
            {
                "currency": "KWD",
                "price_per_kwh": Decimal("0.0155"),
                "price_per_session": 0,
                "tax_rate": Decimal("0.05"),
            },
            "0.155",
            "0.008",
            "0.163",
        ),
        # the total is the sum of the components as shown on the CDR: 50 Wh * 0.09999 is
        # 0.0049995, shown as 0.005000, so the total is 0.01 (the unrounded sum gives 0.00)
        (
            50,
            timedelta(0),
            {
                "price_per_kwh": Decimal("0.09999"),
                "price_per_minute": 0,
                "price_per_session": 0,
                "tax_rate": 0,
            },
            "0.01",
            "0.00",
            "0.01",
        ),
    ],
)
def test_totals(energy_wh, duration, tariff, excl, tax, incl):
    p = price(energy_wh, duration, **tariff)
    assert (str(p.total_excl_tax), str(p.tax), str(p.total_incl_tax)) == (excl, tax, incl)
    assert p.total_incl_tax == p.total_excl_tax + p.tax


def test_negative_energy_cannot_be_priced():
    with pytest.raises(UnpriceableSessionError, match="negative energy"):
        price(-1, timedelta(minutes=1))


@pytest.mark.parametrize("energy_wh", [10**16, 10**40])
def test_amounts_beyond_a_cdr_cannot_be_priced(energy_wh):
    with pytest.raises(UnpriceableSessionError):
        price(energy_wh, timedelta(minutes=1))


def test_largest_amount_is_what_money_allows():
    assert str(MAX_AMOUNT) == "999999999999.999999"


def test_the_callers_decimal_context_does_not_change_a_price():
    import decimal

    with decimal.localcontext(prec=3, rounding=decimal.ROUND_FLOOR):
        p = price(14321, timedelta(minutes=47, seconds=30))
    assert str(p.total_incl_tax) == "7.69"
    assert p.energy_cost == Decimal("5.012350")
