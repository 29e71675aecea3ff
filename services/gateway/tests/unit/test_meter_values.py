from decimal import Decimal

import pytest

from opencpms_gateway.translate.meter_values import default_unit, from_v2, from_v16, normalise


@pytest.mark.parametrize(
    ("value", "unit", "multiplier", "expected"),
    [
        ("12.345", "kWh", 0, (Decimal("12345"), "Wh")),
        ("12.3456", "kWh", 0, (Decimal("12345.6"), "Wh")),
        ("7", "kW", 0, (Decimal("7000"), "W")),
        ("1500", "Wh", 0, (Decimal("1500"), "Wh")),
        ("15", "Wh", 2, (Decimal("1500"), "Wh")),
        ("2", "kvarh", 0, (Decimal("2000"), "varh")),
        ("230.1", "V", 0, (Decimal("230.1"), "V")),
    ],
)
def test_normalise(value, unit, multiplier, expected):
    assert normalise(Decimal(value), unit, multiplier) == expected


@pytest.mark.parametrize(
    ("measurand", "unit"),
    [
        ("SoC", "Percent"),
        ("Power.Active.Import", "W"),
        ("Current.Import", "A"),
        ("Voltage", "V"),
        ("Energy.Active.Import.Register", "Wh"),
        ("Temperature", "Celsius"),
    ],
)
def test_default_units(measurand, unit):
    assert default_unit(measurand) == unit


def test_signed_16_values_are_skipped_and_empty_entries_dropped():
    values = from_v16(
        [
            {
                "timestamp": "2026-01-01T00:00:00Z",
                "sampledValue": [{"value": "AB12", "format": "SignedData"}],
            }
        ]
    )
    assert values == []


def test_v2_unit_of_measure_with_multiplier():
    values = from_v2(
        [
            {
                "timestamp": "2026-01-01T00:00:00Z",
                "sampledValue": [
                    {
                        "value": 1.5,
                        "measurand": "Energy.Active.Import.Register",
                        "unitOfMeasure": {"unit": "kWh", "multiplier": 1},
                    },
                    {"value": 80, "measurand": "SoC", "context": "Sample.Periodic"},
                ],
            }
        ]
    )
    energy, soc = values[0].samples
    assert (energy.value, energy.unit) == (Decimal("15000"), "Wh")
    assert (soc.value, soc.unit, soc.context) == (Decimal("80"), "Percent", "Sample.Periodic")
