"""The queries the billing handlers need."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

import asyncpg
from sqlalchemy import DateTime, Table, bindparam, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from opencpms_billing.tables import CdrRecord, TariffVersion
from opencpms_db.array_statements import as_arrays, insert_from_arrays
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
# Pricing finished sessions runs on the driver (opencpms_db.driver); tariff changes and the
# queries keep the ORM. For each time of an array, the version in force then: one statement
# for the sessions a group commit prices, each with its own end time.
_times = (
    func.unnest(bindparam("times", type_=ARRAY(DateTime(timezone=True))))
    .table_valued("at", with_ordinality="place")
    .render_derived()
)
_version_then = (
    select(_tariffs)
    .where(_tariffs.c.tariff_id == bindparam("tariff_id"), _tariffs.c.valid_from <= _times.c.at)
    .order_by(_tariffs.c.valid_from.desc(), _tariffs.c.id.desc())
    .limit(1)
    .lateral("version_then")
)
_TARIFFS_IN_FORCE = DriverStatement(
    select(_times.c.place, *_version_then.c)
    .select_from(_times.outerjoin(_version_then, true()))
    .order_by(_times.c.place)
)


async def tariffs_in_force(
    connection: asyncpg.Connection, tariff_id: str, *, times: Sequence[datetime]
) -> list[TariffVersion | None]:
    """The version of ``tariff_id`` that applied at each of ``times``, in their order, detached
    from any session: one object for the times a version shares."""
    rows = await _TARIFFS_IN_FORCE.fetch(connection, tariff_id=tariff_id, times=list(times))
    versions: dict[int, TariffVersion] = {}
    found: list[TariffVersion | None] = []
    for row in rows:
        if row["id"] is None:
            found.append(None)
            continue
        version = versions.get(row["id"])
        if version is None:
            values = dict(row)
            del values["place"]
            version = versions[row["id"]] = TariffVersion(**values)
        found.append(version)
    return found


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
_CDR_COLUMNS = tuple(column.name for column in _cdrs.columns)
_INSERT_CDRS = DriverStatement(
    insert_from_arrays(_cdrs, _CDR_COLUMNS)
    .on_conflict_do_nothing(index_elements=["transaction_id"])
    .returning(_cdrs.c.cdr_id)
)


async def insert_cdrs(
    connection: asyncpg.Connection, rows: Sequence[dict[str, object]]
) -> set[str]:
    """Stores CDRs in one statement; the ids of those stored. A CDR whose transaction already
    has one is not (decided by the unique key, never by a prior SELECT, so racing replicas
    store one); of two CDRs of one transaction in ``rows``, the first is stored."""
    stored = await _INSERT_CDRS.fetch(connection, **as_arrays(rows, _CDR_COLUMNS))
    return {row["cdr_id"] for row in stored}


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
