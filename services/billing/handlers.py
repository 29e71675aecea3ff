"""Use cases of the billing service: pricing finished sessions and the RPC operations.

Each takes the message and keyword-only dependencies (``uow`` a unit-of-work factory,
``pricing_writes`` the group commit on the driver that prices every finished session,
``clock``) bound by the composition root; ``HANDLERS`` routes every RPC operation of the service.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from opencpms_billing import domain, repository
from opencpms_billing.clock import Clock
from opencpms_billing.errors import (
    CdrNotFoundError,
    TariffMissingError,
    TariffNotFoundError,
    UnsupportedTariffError,
)
from opencpms_billing.records import cdr_from_row, cdr_values, tariff_from_row
from opencpms_contracts import billing as contract
from opencpms_contracts.transactions import TransactionEnded
from opencpms_db.unit_of_work import DriverUnitOfWork, UnitOfWorkFactory
from opencpms_db.write_batch import WriteBatch

log = logging.getLogger(__name__)

DEFAULT_TARIFF_ID = "default"
# The seeded version applies to every session, however far back its station's clock was.
SEED_VALID_FROM = datetime(1970, 1, 1, tzinfo=UTC)


# -- pricing ----------------------------------------------------------------------------------


async def price_transaction(
    msg: TransactionEnded,
    source_event_id: str | None = None,
    *,
    pricing_writes: WriteBatch,
    clock: Clock,
) -> contract.Cdr | None:
    """Prices a finished session, stores its CDR and emits ``cdr.created`` in one transaction,
    shared with the other sessions that end at the same time (a group commit).

    Returns None when the transaction already has a CDR (a redelivery, or the same session
    published again under another event id): nothing is stored or emitted twice. Raises
    :class:`domain.UnpriceableSessionError` for data that can never be priced; database errors
    propagate, so the message is redelivered.
    """
    cdr: contract.Cdr | None = await pricing_writes.run_together(
        str(msg.transaction_id), _Pricing(msg, source_event_id, created_at=clock()), _price_many
    )
    return cdr


@dataclass(frozen=True)
class _Pricing:
    msg: TransactionEnded
    source_event_id: str | None
    created_at: datetime


async def _price_many(work: DriverUnitOfWork, items: list[_Pricing]) -> list[contract.Cdr | None]:
    """The sessions of a group commit in two statements, whatever their number: the tariff in
    force at each one's end, and their CDRs. A session that cannot be priced fails the group,
    which is then retried session by session, so it fails alone."""
    versions = await repository.tariffs_in_force(
        work.connection, DEFAULT_TARIFF_ID, times=[item.msg.ended_at for item in items]
    )
    tariffs: dict[int, contract.Tariff] = {}
    cdrs: list[contract.Cdr] = []
    for item, version in zip(items, versions, strict=True):
        if version is None:
            raise TariffMissingError(DEFAULT_TARIFF_ID, item.msg.ended_at)
        tariff = tariffs.get(version.id)
        if tariff is None:
            tariff = tariffs[version.id] = tariff_from_row(version)
        cdrs.append(_build_cdr(item.msg, tariff=tariff, created_at=item.created_at))
    stored = await repository.insert_cdrs(
        work.connection,
        [
            cdr_values(cdr, source_event_id=item.source_event_id)
            for cdr, item in zip(cdrs, items, strict=True)
        ],
    )
    priced: list[contract.Cdr | None] = []
    for cdr, item in zip(cdrs, items, strict=True):
        if cdr.cdr_id in stored:
            work.emit(contract.CdrCreated(cdr=cdr), subject=item.msg.station_id)
            priced.append(cdr)
        else:
            log.info("transaction %s already has a CDR", item.msg.transaction_id)
            priced.append(None)
    return priced


def _build_cdr(
    msg: TransactionEnded, *, tariff: contract.Tariff, created_at: datetime
) -> contract.Cdr:
    price = domain.price_session(
        energy_wh=msg.energy_wh, started_at=msg.started_at, ended_at=msg.ended_at, tariff=tariff
    )
    try:
        return contract.Cdr(
            cdr_id=str(uuid.uuid4()),
            transaction_id=msg.transaction_id,
            station_id=msg.station_id,
            station_transaction_id=msg.station_transaction_id,
            evse_id=msg.evse_id,
            connector_id=msg.connector_id,
            id_token=msg.id_token,
            # Stored and served in UTC; the event's own offset is kept nowhere, so the CDR
            # published now and the one read back later are the same text.
            started_at=msg.started_at.astimezone(UTC),
            ended_at=msg.ended_at.astimezone(UTC),
            energy_wh=msg.energy_wh,
            duration_s=price.duration_s,
            tariff=tariff,
            currency=price.currency,
            energy_cost=price.energy_cost,
            time_cost=price.time_cost,
            session_cost=price.session_cost,
            total_excl_tax=price.total_excl_tax,
            tax=price.tax,
            total_incl_tax=price.total_incl_tax,
            created_at=created_at,
        )
    except ValidationError as exc:  # the same event would fail the same way every time
        raise domain.UnpriceableSessionError(f"invalid CDR: {exc}") from exc


# -- tariffs ----------------------------------------------------------------------------------


async def seed_default_tariff(
    tariff: contract.SetTariff, *, uow: UnitOfWorkFactory, clock: Clock
) -> bool:
    """Stores ``tariff`` (from the settings) as the default tariff unless one exists; True when
    it was inserted. Run at start by every replica; the unique key lets only one win."""
    async with uow() as work:
        inserted = await repository.seed_tariff(
            work.session,
            _tariff_values(tariff, valid_from=SEED_VALID_FROM, created_at=clock()),
        )
        await work.commit()
    return inserted


async def get_tariff(msg: contract.TariffRef, *, uow: UnitOfWorkFactory) -> contract.Tariff:
    async with uow() as work:
        row = await repository.current_tariff(work.session, msg.tariff_id)
        if row is None:
            raise TariffNotFoundError(msg.tariff_id)
        return tariff_from_row(row)


async def set_tariff(
    msg: contract.SetTariff, *, uow: UnitOfWorkFactory, clock: Clock
) -> contract.Tariff:
    """Adds a version of the default tariff, in force for sessions ending from now on."""
    if msg.tariff_id != DEFAULT_TARIFF_ID:
        raise UnsupportedTariffError(msg.tariff_id)
    now = clock()
    async with uow() as work:
        row = await repository.add_tariff_version(
            work.session, _tariff_values(msg, valid_from=now, created_at=now)
        )
        tariff = tariff_from_row(row)
        await work.commit()
    log.info("tariff %s changed: %s", msg.tariff_id, tariff.model_dump(mode="json"))
    return tariff


def _tariff_values(
    tariff: contract.SetTariff, *, valid_from: datetime, created_at: datetime
) -> dict[str, object]:
    return {
        "tariff_id": tariff.tariff_id,
        "valid_from": valid_from,
        "currency": tariff.currency,
        "price_per_kwh": tariff.price_per_kwh,
        "price_per_minute": tariff.price_per_minute,
        "price_per_session": tariff.price_per_session,
        "tax_rate": tariff.tax_rate,
        "created_at": created_at,
    }


# -- CDRs -------------------------------------------------------------------------------------


async def list_cdrs(msg: contract.ListCdrs, *, uow: UnitOfWorkFactory) -> contract.CdrPage:
    async with uow() as work:
        rows, total = await repository.list_cdrs(
            work.session,
            station_id=msg.station_id,
            transaction_id=msg.transaction_id,
            ended_from=msg.ended_from,
            ended_to=msg.ended_to,
            limit=msg.limit,
            offset=msg.offset,
        )
        items = [cdr_from_row(row) for row in rows]
    return contract.CdrPage(items=items, total=total, limit=msg.limit, offset=msg.offset)


async def get_cdr(msg: contract.CdrRef, *, uow: UnitOfWorkFactory) -> contract.Cdr:
    async with uow() as work:
        row = await repository.get_cdr(work.session, msg.cdr_id)
        if row is None:
            raise CdrNotFoundError(msg.cdr_id)
        return cdr_from_row(row)


HANDLERS: dict[Any, Callable[..., Any]] = {
    contract.GET_TARIFF: get_tariff,
    contract.SET_TARIFF: set_tariff,
    contract.LIST_CDRS: list_cdrs,
    contract.GET_CDR: get_cdr,
}
