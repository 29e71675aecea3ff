"""Pricing rules: what a finished charging session costs under a tariff.

Pure and Decimal-only: no float ever touches an amount. The components (energy, time, session)
are kept at :data:`COMPONENT_PLACES` decimals, the precision the ``Money`` contract type allows,
so a sub-cent price per kWh is not lost before the total. The total excluding tax is the sum of
those components as shown on the CDR (anyone can re-add them), rounded half-up to the
currency's minor unit; the tax is that rounded total times the tax rate, rounded the same way;
the total including tax is their sum, so the three totals always add up on an invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext

from opencpms_contracts.billing import Tariff

COMPONENT_PLACES = 6
_COMPONENT_QUANTUM = Decimal(1).scaleb(-COMPONENT_PLACES)

# The Money contract allows 18 digits of which 6 are decimals: anything larger cannot be
# represented, so such a session cannot be priced.
MAX_AMOUNT = Decimal(10) ** 12 - _COMPONENT_QUANTUM

# ISO 4217 minor-unit exponents that differ from the usual 2 (currencies not listed use 2).
_MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(
        (
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
            "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}  # fmt: skip
_DEFAULT_MINOR_UNIT = 2

# A fixed context, so that no caller's decimal.getcontext() changes a price. 28 significant
# digits exceed anything the Money type can hold; only the final quantize rounds.
_CONTEXT = Context(prec=28, rounding=ROUND_HALF_UP)

_WH_PER_KWH = Decimal(1000)
_SECONDS_PER_MINUTE = Decimal(60)


class UnpriceableSessionError(Exception):
    """The session's data can never produce a valid CDR (for example a meter that ran
    backwards). Redelivering it would not help."""


@dataclass(frozen=True)
class Price:
    currency: str
    duration_s: int
    energy_cost: Decimal
    time_cost: Decimal
    session_cost: Decimal
    total_excl_tax: Decimal
    tax: Decimal
    total_incl_tax: Decimal


def minor_unit(currency: str) -> int:
    """Decimal places of ``currency`` (ISO 4217 exponent): 2 for EUR, 0 for JPY, 3 for KWD."""
    return _MINOR_UNITS.get(currency, _DEFAULT_MINOR_UNIT)


def round_to_minor_unit(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half-up to the currency's smallest unit (6.46235 EUR → 6.46)."""
    return amount.quantize(Decimal(1).scaleb(-minor_unit(currency)), ROUND_HALF_UP, _CONTEXT)


def round_component(amount: Decimal) -> Decimal:
    """A cost component at :data:`COMPONENT_PLACES` decimals, rounded half-up."""
    return amount.quantize(_COMPONENT_QUANTUM, ROUND_HALF_UP, _CONTEXT)


def duration_seconds(started_at: datetime, ended_at: datetime) -> int:
    """Whole seconds between start and end, truncated, never negative.

    A station whose clock jumped (or that reports an end before its start) gets a zero-length
    session: its energy is still real and billable, so the session is priced rather than
    refused.
    """
    return max(0, (ended_at - started_at) // timedelta(seconds=1))


def price_session(
    *, energy_wh: int, started_at: datetime, ended_at: datetime, tariff: Tariff
) -> Price:
    """What a session costs under ``tariff``; raises :class:`UnpriceableSessionError` when the
    energy is negative or an amount exceeds what a CDR can hold."""
    if energy_wh < 0:
        raise UnpriceableSessionError(f"negative energy {energy_wh} Wh")
    duration_s = duration_seconds(started_at, ended_at)
    try:
        return _price(energy_wh, duration_s, tariff)
    except InvalidOperation as exc:  # an amount too long for 28 digits: absurd input
        raise UnpriceableSessionError(f"{energy_wh} Wh over {duration_s} s") from exc


def _price(energy_wh: int, duration_s: int, tariff: Tariff) -> Price:
    with localcontext(_CONTEXT):
        energy_cost = round_component(Decimal(energy_wh) * tariff.price_per_kwh / _WH_PER_KWH)
        time_cost = round_component(
            Decimal(duration_s) * tariff.price_per_minute / _SECONDS_PER_MINUTE
        )
        session_cost = round_component(tariff.price_per_session)
        total_excl_tax = round_to_minor_unit(
            energy_cost + time_cost + session_cost, tariff.currency
        )
        tax = round_to_minor_unit(total_excl_tax * tariff.tax_rate, tariff.currency)
        total_incl_tax = total_excl_tax + tax
    if total_incl_tax > MAX_AMOUNT:
        raise UnpriceableSessionError(
            f"total {total_incl_tax} {tariff.currency} exceeds what a CDR can hold"
        )
    return Price(
        currency=tariff.currency,
        duration_s=duration_s,
        energy_cost=energy_cost,
        time_cost=time_cost,
        session_cost=session_cost,
        total_excl_tax=total_excl_tax,
        tax=tax,
        total_incl_tax=total_incl_tax,
    )
