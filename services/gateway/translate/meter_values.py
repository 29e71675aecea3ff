"""Meter values of every OCPP version, normalised: energy registers in Wh, power in W (kWh and kW
scaled), reactive and apparent quantities likewise; everything else keeps its unit. Measurands
OpenCPMS does not know are kept as they came."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from opencpms_contracts.common import MeterSample, MeterValue
from opencpms_gateway.translate.errors import TranslationError
from opencpms_gateway.translate.timestamps import parse_timestamp

DEFAULT_MEASURAND = "Energy.Active.Import.Register"

_SCALED_UNITS = {
    "kWh": ("Wh", Decimal(1000)),
    "kW": ("W", Decimal(1000)),
    "kvarh": ("varh", Decimal(1000)),
    "kvar": ("var", Decimal(1000)),
    "kVA": ("VA", Decimal(1000)),
}

# OCPP says the unit defaults to Wh, which is only right for energy; a SoC sent without a unit
# is a percentage, not watt-hours.
_DEFAULT_UNITS = {
    "SoC": "Percent",
    "Current": "A",
    "Voltage": "V",
    "Power": "W",
    "Temperature": "Celsius",
    "Frequency": "Hz",
    "RPM": "RPM",
}


def default_unit(measurand: str) -> str:
    for prefix, unit in _DEFAULT_UNITS.items():
        if measurand.startswith(prefix):
            return unit
    return "Wh"


def normalise(value: Decimal, unit: str, multiplier: int = 0) -> tuple[Decimal, str]:
    """Scales ``value`` (times 10^multiplier) to OpenCPMS's base unit."""
    if multiplier:
        value = value.scaleb(multiplier)
    base = _SCALED_UNITS.get(unit)
    if base is not None:
        unit, factor = base
        value = value * factor
    # 12.345 kWh is 12345.000 Wh after scaling; keep it as 12345, not in exponent notation.
    return (value.to_integral_value() if value == value.to_integral_value() else value), unit


def _decimal(raw: Any) -> Decimal:
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise TranslationError(f"meter value {raw!r} is not a number") from None
    if not value.is_finite():
        raise TranslationError(f"meter value {raw!r} is not a finite number")
    return value


def from_v16(meter_values: list[dict[str, Any]]) -> list[MeterValue]:
    """OCPP 1.6 ``meterValue`` / ``transactionData`` entries. Values arrive as strings.

    ``format: SignedData`` values are signed blobs, not numbers; they are skipped here because
    no contract field carries them yet (see docs/ocpp.md).
    """
    result = []
    for entry in meter_values:
        samples = []
        for sampled in entry.get("sampledValue", []):
            if sampled.get("format") == "SignedData":
                continue
            measurand = sampled.get("measurand", DEFAULT_MEASURAND)
            value, unit = normalise(
                _decimal(sampled["value"]), sampled.get("unit") or default_unit(measurand)
            )
            samples.append(
                MeterSample(
                    measurand=measurand,
                    value=value,
                    unit=unit,
                    phase=sampled.get("phase"),
                    context=sampled.get("context"),
                    location=sampled.get("location"),
                )
            )
        if samples:
            result.append(
                MeterValue(timestamp=parse_timestamp(entry["timestamp"]), samples=samples)
            )
    return result


def from_v2(meter_values: list[dict[str, Any]]) -> list[MeterValue]:
    """OCPP 2.0.1 / 2.1 ``meterValue`` entries. Values are numbers; ``unitOfMeasure`` carries
    a unit and a power-of-ten multiplier."""
    result = []
    for entry in meter_values:
        samples = []
        for sampled in entry.get("sampledValue", []):
            measurand = sampled.get("measurand", DEFAULT_MEASURAND)
            unit_of_measure = sampled.get("unitOfMeasure") or {}
            value, unit = normalise(
                _decimal(sampled["value"]),
                unit_of_measure.get("unit") or default_unit(measurand),
                int(unit_of_measure.get("multiplier", 0)),
            )
            samples.append(
                MeterSample(
                    measurand=measurand,
                    value=value,
                    unit=unit,
                    phase=sampled.get("phase"),
                    context=sampled.get("context"),
                    location=sampled.get("location"),
                )
            )
        if samples:
            result.append(
                MeterValue(timestamp=parse_timestamp(entry["timestamp"]), samples=samples)
            )
    return result
