"""Writes of the station read model. Each applies one event and is idempotent and
order-tolerant: the WHERE clause of every upsert compares the event's own timestamp with the
one stored, so a redelivered or late event changes nothing (ARCHITECTURE §3)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, or_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from opencpms_admin.tables import ConnectorView, DeviceVariable, StationView

_stations = cast(Table, StationView.__table__)
_connectors = cast(Table, ConnectorView.__table__)
_variables = cast(Table, DeviceVariable.__table__)
# ``INSERT ... ON CONFLICT`` names the proposed row ``excluded``. SQLAlchemy builds that alias,
# with a proxy of every column, anew for each statement: a tenth of the service's CPU in a boot
# storm. It is the same alias every time, so it is built once per table.
_stations_excluded = insert(_stations).excluded
_connectors_excluded = insert(_connectors).excluded


def stations_table() -> Table:
    return _stations


def _upsert_station(
    values: dict[str, Any], *, newer_than: Any | None = None
) -> Any:  # an INSERT ... ON CONFLICT statement
    statement = insert(_stations).values(values)
    changes = {k: _stations_excluded[k] for k in values if k != "station_id"}
    return statement.on_conflict_do_update(
        index_elements=["station_id"], set_=changes, where=newer_than
    )


async def apply_registry(
    session: AsyncSession,
    *,
    station_id: str,
    changed_at: datetime,
    registration_status: str | None = None,
    description: str | None = None,
    registered_at: datetime | None = None,
    deleted: bool = False,
) -> None:
    """station.registered / updated / deleted. A registration after a deletion revives the
    row; a deletion keeps it as a tombstone so a late older event cannot revive it."""
    values: dict[str, Any] = {"station_id": station_id, "registry_changed_at": changed_at}
    if deleted:
        values["deleted_at"] = changed_at
    else:
        values |= {"registration_status": registration_status, "deleted_at": None}
        values["description"] = description
        if registered_at is not None:
            values["registered_at"] = registered_at
    statement = _upsert_station(
        values,
        newer_than=or_(
            _stations.c.registry_changed_at.is_(None),
            _stations.c.registry_changed_at <= changed_at,
        ),
    )
    await session.execute(statement)


async def apply_boot(session: AsyncSession, values: dict[str, Any]) -> None:
    booted_at = values["booted_at"]
    statement = _upsert_station(
        values,
        newer_than=or_(_stations.c.booted_at.is_(None), _stations.c.booted_at <= booted_at),
    )
    await session.execute(statement)


async def apply_connected(session: AsyncSession, values: dict[str, Any]) -> None:
    """A connection newer than the one recorded becomes the station's connection."""
    connected_at = values["connected_at"]
    await _upsert_connection(
        session,
        values | {"connected": True, "disconnected_at": None, "last_seen": connected_at},
        where=or_(_stations.c.connected_at.is_(None), _stations.c.connected_at < connected_at),
    )


async def apply_disconnected(session: AsyncSession, values: dict[str, Any]) -> None:
    """Ends the recorded connection if it is this one, or records this connection as ended if
    it is newer than the recorded one (its station.connected is late or lost)."""
    connected_at = values["connected_at"]
    await _upsert_connection(
        session,
        values | {"connected": False, "last_seen": values["disconnected_at"]},
        where=or_(
            _stations.c.connected_at.is_(None),
            _stations.c.connected_at < connected_at,
            _stations.c.connection_id == values["connection_id"],
        ),
    )


async def _upsert_connection(session: AsyncSession, values: dict[str, Any], *, where: Any) -> None:
    """The station's connection columns from ``values`` where ``where`` holds; ``last_seen``
    only ever moves forward."""
    changes: dict[str, Any] = {
        k: _stations_excluded[k] for k in values if k not in ("station_id", "last_seen")
    }
    changes["last_seen"] = func.greatest(_stations.c.last_seen, _stations_excluded.last_seen)
    await session.execute(
        insert(_stations)
        .values(values)
        .on_conflict_do_update(index_elements=["station_id"], set_=changes, where=where)
    )


async def touch(session: AsyncSession, station_id: str, at: datetime) -> None:
    """The station was heard from at ``at``."""
    await session.execute(
        update(_stations)
        .where(_stations.c.station_id == station_id)
        .values(last_seen=func.greatest(_stations.c.last_seen, at))
    )


async def apply_connector_status(session: AsyncSession, values: dict[str, Any]) -> None:
    statement = insert(_connectors).values(values)
    keys = ("station_id", "evse_id", "connector_id")
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=list(keys),
            set_={k: _connectors_excluded[k] for k in values if k not in keys},
            where=_connectors.c.changed_at <= _connectors_excluded.changed_at,
        )
    )


async def apply_progress(
    session: AsyncSession,
    station_id: str,
    *,
    prefix: str,
    status: str,
    request_id: int | None,
    at: datetime,
) -> None:
    """Firmware (``prefix="firmware"``) or log upload (``"log"``) status of a station."""
    status_column = "firmware_status" if prefix == "firmware" else "log_upload_status"
    at_column = f"{status_column}_at"
    values = {
        "station_id": station_id,
        status_column: status,
        f"{prefix}_request_id": request_id,
        at_column: at,
    }
    stored_at = _stations.c[at_column]
    await session.execute(
        _upsert_station(values, newer_than=or_(stored_at.is_(None), stored_at <= at))
    )


async def apply_reported_variables(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    variables = _variables
    statement = insert(variables).values(rows)
    await session.execute(
        statement.on_conflict_do_update(
            constraint="uq_device_variables_address",
            set_={
                "attributes": statement.excluded.attributes,
                "characteristics": statement.excluded.characteristics,
                "reported_at": statement.excluded.reported_at,
            },
            where=variables.c.reported_at <= statement.excluded.reported_at,
        )
    )
