"""Tariffs and charge detail records (CDRs). Money is Decimal, serialised as a string."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from opencpms_contracts.base import Contract, Event, event, operation
from opencpms_contracts.common import IdToken, Page, PageRequest, StationId, UtcDatetime

Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
TaxRate = Annotated[Decimal, Field(ge=0, le=1, decimal_places=6, description="0.19 is 19 %")]


class Tariff(Contract):
    tariff_id: str = "default"
    currency: Currency
    price_per_kwh: Money
    price_per_minute: Money
    price_per_session: Money
    tax_rate: TaxRate
    updated_at: UtcDatetime | None = None


class SetTariff(Contract):
    tariff_id: str = "default"
    currency: Currency
    price_per_kwh: Money
    price_per_minute: Money = Decimal(0)
    price_per_session: Money = Decimal(0)
    tax_rate: TaxRate = Decimal(0)


class TariffRef(Contract):
    tariff_id: str = "default"


class Cdr(Contract):
    cdr_id: str
    transaction_id: int
    station_id: StationId
    station_transaction_id: str
    evse_id: int
    connector_id: int
    id_token: IdToken | None
    started_at: UtcDatetime
    ended_at: UtcDatetime
    energy_wh: int
    duration_s: int
    tariff: Tariff = Field(description="The tariff as it was applied")
    currency: Currency
    energy_cost: Money
    time_cost: Money
    session_cost: Money
    total_excl_tax: Money = Field(description="Rounded to the currency's minor unit")
    tax: Money
    total_incl_tax: Money
    created_at: UtcDatetime


class ListCdrs(PageRequest):
    station_id: str | None = None
    transaction_id: int | None = None
    ended_from: UtcDatetime | None = None
    ended_to: UtcDatetime | None = None


class CdrPage(Page[Cdr]):
    pass


class CdrRef(Contract):
    cdr_id: str


@event
class CdrCreated(Event):
    """A charging session was priced. The payload is the whole CDR, so a billing system needs
    nothing else to invoice it."""

    event_type = "cdr.created"

    cdr: Cdr


GET_TARIFF = operation("billing.get_tariff", TariffRef, Tariff, "The tariff in force.")
SET_TARIFF = operation(
    "billing.set_tariff", SetTariff, Tariff, "Replaces a tariff; applies to sessions ending later."
)
LIST_CDRS = operation("billing.list_cdrs", ListCdrs, CdrPage, "CDRs, newest first, paged.")
GET_CDR = operation("billing.get_cdr", CdrRef, Cdr, "One CDR.")
