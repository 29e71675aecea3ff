"""The queries the billing handlers need."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

import asyncpg
from sqlalchemy import Table, bindparam, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from opencpms_billing.tables import CdrRecord, TariffVersion
from opencpms_db.driver import DriverStatement
from opencpms_db.paging import fetch_page

# -- tariffs ----------------------------------------------------------------------------------


async def current_tariff(session: AsyncSession, tariff_id: str) -> TariffVersion | None:
    """The newest version of ``tariff_id``."""
    query = (
        select(TariffVersion)
        .where(TariffVersion.tariff_id == tariff_id)
        .order_by(TariffVersion.valid_from.desc(), TariffVersion.id.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


_tariffs = cast(Table, TariffVersion.__table__)
# Pricing a finished session runs on the driver (opencpms_db.driver); tariff changes and the
# queries keep the ORM.
_TARIFF_IN_FORCE = DriverStatement(
    select(_tariffs)
    .where(_tariffs.c.tariff_id == bindparam("tariff_id"), _tariffs.c.valid_from <= bindparam("at"))
    .order_by(_tariffs.c.valid_from.desc(), _tariffs.c.id.desc())
    .limit(1)
)


async def tariff_in_force(
    connection: asyncpg.Connection, tariff_id: str, *, at: datetime
) -> TariffVersion | None:
    """The version of ``tariff_id`` that applied at ``at``, detached from any session."""
    row = await _TARIFF_IN_FORCE.fetchrow(connection, tariff_id=tariff_id, at=at)
    return None if row is None else TariffVersion(**row)


async def seed_tariff(session: AsyncSession, values: dict[str, object]) -> bool:
    """Inserts the first version of a tariff; False when it exists. The unique key decides, so
    replicas starting together insert it once."""
    result = await session.execute(
        insert(TariffVersion)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["tariff_id", "valid_from"])
        .returning(TariffVersion.id)
    )
    return result.scalar_one_or_none() is not None


async def add_tariff_version(session: AsyncSession, values: dict[str, object]) -> TariffVersion:
    """Adds a version; two changes in the same microsecond: the later one wins."""
    changes = {k: v for k, v in values.items() if k not in ("tariff_id", "valid_from")}
    statement = (
        insert(TariffVersion)
        .values(**values)
        .on_conflict_do_update(index_elements=["tariff_id", "valid_from"], set_=changes)
        .returning(TariffVersion)
        .execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalar_one()


# -- CDRs -------------------------------------------------------------------------------------


_cdrs = cast(Table, CdrRecord.__table__)
_INSERT_CDR = DriverStatement(
    insert(_cdrs)
    .on_conflict_do_nothing(index_elements=["transaction_id"])
    .returning(_cdrs.c.cdr_id)
)


async def insert_cdr(connection: asyncpg.Connection, values: dict[str, object]) -> bool:
    """Stores a CDR; False when its transaction already has one (decided by the unique key,
    never by a prior SELECT, so racing replicas store one)."""
    return await _INSERT_CDR.fetchrow(connection, **values) is not None


async def get_cdr(session: AsyncSession, cdr_id: str) -> CdrRecord | None:
    return await session.get(CdrRecord, cdr_id)


async def list_cdrs(
    session: AsyncSession,
    *,
    station_id: str | None,
    transaction_id: int | None,
    ended_from: datetime | None,
    ended_to: datetime | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[CdrRecord], int]:
    """Newest first; ``ended_from`` inclusive, ``ended_to`` exclusive."""
    query = select(CdrRecord)
    if station_id is not None:
        query = query.where(CdrRecord.station_id == station_id)
    if transaction_id is not None:
        query = query.where(CdrRecord.transaction_id == transaction_id)
    if ended_from is not None:
        query = query.where(CdrRecord.ended_at >= ended_from)
    if ended_to is not None:
        query = query.where(CdrRecord.ended_at < ended_to)
    ordered = query.order_by(CdrRecord.ended_at.desc(), CdrRecord.transaction_id.desc())
    return await fetch_page(session, ordered, limit=limit, offset=offset)
