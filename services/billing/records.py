"""Translation between the billing tables and the contracts they are served as."""

from __future__ import annotations

from opencpms_billing import domain
from opencpms_billing.tables import CdrRecord, TariffVersion
from opencpms_contracts.billing import Cdr, Tariff
from opencpms_contracts.common import IdToken


def tariff_from_row(row: TariffVersion) -> Tariff:
    return Tariff(
        tariff_id=row.tariff_id,
        currency=row.currency,
        price_per_kwh=row.price_per_kwh,
        price_per_minute=row.price_per_minute,
        price_per_session=row.price_per_session,
        tax_rate=row.tax_rate,
        updated_at=row.created_at,
    )


def cdr_values(cdr: Cdr, *, source_event_id: str | None) -> dict[str, object]:
    """The ``cdrs`` row of ``cdr``."""
    return {
        "cdr_id": cdr.cdr_id,
        "transaction_id": cdr.transaction_id,
        "source_event_id": source_event_id,
        "station_id": cdr.station_id,
        "station_transaction_id": cdr.station_transaction_id,
        "evse_id": cdr.evse_id,
        "connector_id": cdr.connector_id,
        "id_token": cdr.id_token.value if cdr.id_token else None,
        "id_token_type": cdr.id_token.type if cdr.id_token else None,
        "started_at": cdr.started_at,
        "ended_at": cdr.ended_at,
        "energy_wh": cdr.energy_wh,
        "duration_s": cdr.duration_s,
        "tariff": cdr.tariff.model_dump(mode="json"),
        "currency": cdr.currency,
        "energy_cost": cdr.energy_cost,
        "time_cost": cdr.time_cost,
        "session_cost": cdr.session_cost,
        "total_excl_tax": cdr.total_excl_tax,
        "tax": cdr.tax,
        "total_incl_tax": cdr.total_incl_tax,
        "created_at": cdr.created_at,
    }


def cdr_from_row(row: CdrRecord) -> Cdr:
    """The CDR as it was published: the columns hold 6 decimals, so the totals are brought
    back to the currency's minor unit ("6.46", not "6.460000") and read the same everywhere."""

    return Cdr(
        cdr_id=row.cdr_id,
        transaction_id=row.transaction_id,
        station_id=row.station_id,
        station_transaction_id=row.station_transaction_id,
        evse_id=row.evse_id,
        connector_id=row.connector_id,
        id_token=(
            IdToken(value=row.id_token, type=row.id_token_type or "ISO14443")
            if row.id_token is not None
            else None
        ),
        started_at=row.started_at,
        ended_at=row.ended_at,
        energy_wh=row.energy_wh,
        duration_s=row.duration_s,
        tariff=Tariff.model_validate(row.tariff),
        currency=row.currency,
        energy_cost=domain.round_component(row.energy_cost),
        time_cost=domain.round_component(row.time_cost),
        session_cost=domain.round_component(row.session_cost),
        total_excl_tax=domain.round_to_minor_unit(row.total_excl_tax, row.currency),
        tax=domain.round_to_minor_unit(row.tax, row.currency),
        total_incl_tax=domain.round_to_minor_unit(row.total_incl_tax, row.currency),
        created_at=row.created_at,
    )
