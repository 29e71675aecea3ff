"""The queries the billing handlers need."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from opencpms_billing.tables import CdrRecord, TariffVersion
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


async def tariff_in_force(
    session: AsyncSession, tariff_id: str, *, at: datetime
) -> TariffVersion | None:
    """The version of ``tariff_id`` that applied at ``at``."""
    query = (
        select(TariffVersion)
        .where(TariffVersion.tariff_id == tariff_id, TariffVersion.valid_from <= at)
        .order_by(TariffVersion.valid_from.desc(), TariffVersion.id.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


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
# The values travel as parameters, not in the statement: built into it, they were walked for
# the statement's cache key on every CDR, and the ORM's bulk-insert layer ran for one row.
_INSERT_CDR = (
    insert(_cdrs)
    .on_conflict_do_nothing(index_elements=["transaction_id"])
    .returning(_cdrs.c.cdr_id)
)


async def insert_cdr(session: AsyncSession, values: dict[str, object]) -> bool:
    """Stores a CDR; False when its transaction already has one (decided by the unique key,
    never by a prior SELECT, so racing replicas store one)."""
    result = await session.execute(_INSERT_CDR, values)
    return result.scalar_one_or_none() is not None


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
