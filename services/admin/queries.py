"""Reads of the admin service's own tables for the API."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from opencpms_admin.tables import (
    ApiKey,
    AuditEntry,
    ConnectorView,
    DeviceVariable,
    StationFrameRecord,
    StationView,
)
from opencpms_db.paging import fetch_page


def _live() -> tuple[ColumnElement[bool], ...]:
    """Registered and not deleted; rows made only by events of unregistered stations are not
    shown."""
    return (StationView.registration_status.is_not(None), StationView.deleted_at.is_(None))


async def list_stations(
    session: AsyncSession,
    *,
    station_id_prefix: str | None,
    connected: bool | None,
    ocpp_version: str | None,
    vendor: str | None,
    registration_status: str | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[StationView], int]:
    query = select(StationView).where(*_live())
    if station_id_prefix:
        escaped = station_id_prefix.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        query = query.where(StationView.station_id.like(escaped + "%", escape="\\"))
    if connected is not None:
        query = query.where(StationView.connected.is_(connected))
    if ocpp_version:
        query = query.where(StationView.ocpp_version == ocpp_version)
    if vendor:
        query = query.where(StationView.vendor == vendor)
    if registration_status:
        query = query.where(StationView.registration_status == registration_status)
    return await fetch_page(
        session, query.order_by(StationView.station_id), limit=limit, offset=offset
    )


async def get_station(session: AsyncSession, station_id: str) -> StationView | None:
    """The station's row, also when it is a tombstone or not yet registered (check
    ``deleted_at`` and ``registration_status``)."""
    query = select(StationView).where(StationView.station_id == station_id)
    row: StationView | None = (await session.execute(query)).scalar_one_or_none()
    return row


async def connectors_of(
    session: AsyncSession, station_ids: Sequence[str]
) -> dict[str, list[ConnectorView]]:
    found: dict[str, list[ConnectorView]] = {station_id: [] for station_id in station_ids}
    if not station_ids:
        return found
    query = (
        select(ConnectorView)
        .where(ConnectorView.station_id.in_(station_ids))
        .order_by(ConnectorView.station_id, ConnectorView.evse_id, ConnectorView.connector_id)
    )
    for connector in (await session.execute(query)).scalars():
        found[connector.station_id].append(connector)
    return found


async def frames_of(
    session: AsyncSession, station_id: str, *, limit: int, offset: int
) -> tuple[Sequence[StationFrameRecord], int]:
    query = (
        select(StationFrameRecord)
        .where(StationFrameRecord.station_id == station_id)
        .order_by(StationFrameRecord.at.desc(), StationFrameRecord.id.desc())
    )
    return await fetch_page(session, query, limit=limit, offset=offset)


async def device_model_of(
    session: AsyncSession, station_id: str, *, component: str | None, limit: int, offset: int
) -> tuple[Sequence[DeviceVariable], int]:
    query = select(DeviceVariable).where(DeviceVariable.station_id == station_id)
    if component:
        query = query.where(DeviceVariable.component == component)
    query = query.order_by(
        DeviceVariable.component,
        DeviceVariable.evse_id.nulls_first(),
        DeviceVariable.connector_id.nulls_first(),
        DeviceVariable.variable,
        DeviceVariable.id,
    )
    return await fetch_page(session, query, limit=limit, offset=offset)


async def audit_entries(
    session: AsyncSession,
    *,
    station_id: str | None,
    actor: str | None,
    at_from: datetime | None,
    at_to: datetime | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[AuditEntry], int]:
    query = select(AuditEntry)
    if station_id:
        query = query.where(AuditEntry.station_id == station_id)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if at_from:
        query = query.where(AuditEntry.at >= at_from)
    if at_to:
        query = query.where(AuditEntry.at < at_to)
    return await fetch_page(
        session,
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()),
        limit=limit,
        offset=offset,
    )


async def active_key_by_digest(session: AsyncSession, digest: str) -> ApiKey | None:
    query = select(ApiKey).where(ApiKey.key_digest == digest, ApiKey.revoked_at.is_(None))
    return (await session.execute(query)).scalar_one_or_none()


async def api_keys(
    session: AsyncSession, *, limit: int, offset: int
) -> tuple[Sequence[ApiKey], int]:
    return await fetch_page(
        session,
        select(ApiKey).order_by(ApiKey.created_at, ApiKey.name),
        limit=limit,
        offset=offset,
    )


async def station_counts(session: AsyncSession) -> dict[str, int]:
    """Registered stations online and offline, and those with a faulted connector or EVSE."""
    live = select(StationView.station_id, StationView.connected).where(*_live()).subquery()
    online_offline = select(
        func.count().filter(live.c.connected.is_(True)),
        func.count().filter(live.c.connected.is_(False)),
    )
    online, offline = (await session.execute(online_offline)).one()
    faulted = select(func.count(func.distinct(ConnectorView.station_id))).where(
        ConnectorView.status == "Faulted",
        ConnectorView.station_id.in_(select(live.c.station_id)),
    )
    return {
        "online": int(online),
        "offline": int(offline),
        "faulted": int((await session.execute(faulted)).scalar_one()),
    }


async def connector_counts(session: AsyncSession) -> dict[str, int]:
    """Connectors (not whole-station rows, EVSE 0) by version-neutral status."""
    live_ids = select(StationView.station_id).where(*_live())
    query = (
        select(ConnectorView.status, func.count())
        .where(ConnectorView.evse_id > 0, ConnectorView.station_id.in_(live_ids))
        .group_by(ConnectorView.status)
    )
    counts = {status: int(n) for status, n in (await session.execute(query)).all()}
    return {
        "available": counts.get("Available", 0),
        "occupied": counts.get("Occupied", 0),
        "faulted": counts.get("Faulted", 0),
        "unavailable": counts.get("Unavailable", 0) + counts.get("Reserved", 0),
    }
