"""Writes of the station read model. Each applies one event and is idempotent and
order-tolerant: the WHERE clause of every upsert compares the event's own timestamp with the
one stored, so a redelivered or late event changes nothing (ARCHITECTURE §3).

They run on the asyncpg connection (``WriteBatch``, a ``DriverUnitOfWork``): an event is one
small statement, and building it per event with its values baked in, then running it through an
ORM session, cost the service more than PostgreSQL spent on it. Each statement is built once
here with every value a bind parameter (:class:`opencpms_db.driver.DriverStatement`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import asyncpg
from sqlalchemy import ColumnElement, DateTime, Table, bindparam, func, or_, update
from sqlalchemy.dialects.postgresql import Insert, insert

from opencpms_admin.tables import ConnectorView, DeviceVariable, StationView
from opencpms_db.array_statements import as_arrays, insert_from_arrays
from opencpms_db.driver import DriverStatement

_stations = cast(Table, StationView.__table__)
_connectors = cast(Table, ConnectorView.__table__)
_variables = cast(Table, DeviceVariable.__table__)
# ``INSERT ... ON CONFLICT`` names the proposed row ``excluded``; it carries the event's own
# values, so the WHERE clauses compare with it rather than take a parameter more. SQLAlchemy
# builds that alias anew for each statement unless asked once per table.
_stations_excluded = insert(_stations).excluded
_connectors_excluded = insert(_connectors).excluded
_variables_excluded = insert(_variables).excluded


def stations_table() -> Table:
    return _stations


def _station_upsert(newer: ColumnElement[bool]) -> DriverStatement:
    """An upsert of the columns given, applied to a stored row only where ``newer`` holds;
    ``last_seen`` only ever moves forward."""

    def build(names: tuple[str, ...]) -> Insert:
        changes: dict[str, Any] = {k: _stations_excluded[k] for k in names if k != "station_id"}
        if "last_seen" in changes:
            changes["last_seen"] = func.greatest(
                _stations.c.last_seen, _stations_excluded.last_seen
            )
        return insert(_stations).on_conflict_do_update(
            index_elements=["station_id"], set_=changes, where=newer
        )

    return DriverStatement(build)


def _not_older(column: str) -> ColumnElement[bool]:
    stored = _stations.c[column]
    return or_(stored.is_(None), stored <= _stations_excluded[column])


_REGISTRY = _station_upsert(_not_older("registry_changed_at"))
_BOOT = _station_upsert(_not_older("booted_at"))
# A connection newer than the one recorded becomes the station's connection.
_CONNECTED = _station_upsert(
    or_(
        _stations.c.connected_at.is_(None),
        _stations.c.connected_at < _stations_excluded.connected_at,
    )
)
# A disconnect ends the recorded connection if it is this one, or records this connection as
# ended if it is newer than the recorded one (its station.connected is late or lost).
_DISCONNECTED = _station_upsert(
    or_(
        _stations.c.connected_at.is_(None),
        _stations.c.connected_at < _stations_excluded.connected_at,
        _stations.c.connection_id == _stations_excluded.connection_id,
    )
)
_PROGRESS = {
    prefix: _station_upsert(_not_older(f"{status}_at"))
    for prefix, status in (("firmware", "firmware_status"), ("log", "log_upload_status"))
}
# Parameters named apart from the columns: an UPDATE would take a parameter named like a
# column as a value to SET.
_TOUCH = DriverStatement(
    update(_stations)
    .where(_stations.c.station_id == bindparam("station"))
    .values(
        last_seen=func.greatest(
            _stations.c.last_seen, bindparam("heard_at", type_=DateTime(timezone=True))
        )
    )
)
_CONNECTOR_KEY = ("station_id", "evse_id", "connector_id")
_CONNECTOR_COLUMNS = (
    *_CONNECTOR_KEY,
    "status",
    "ocpp_status",
    "error_code",
    "info",
    "vendor_error_code",
    "changed_at",
)
# The statuses of a batch in one statement, whatever their number (opencpms_db.array_statements).
_CONNECTOR_STATUSES = DriverStatement(
    insert_from_arrays(_connectors, _CONNECTOR_COLUMNS).on_conflict_do_update(
        index_elements=list(_CONNECTOR_KEY),
        set_={k: _connectors_excluded[k] for k in _CONNECTOR_COLUMNS if k not in _CONNECTOR_KEY},
        where=_connectors.c.changed_at <= _connectors_excluded.changed_at,
    )
)
# ``inline``: without it the INSERT would return each new row's id, which nobody reads.
_REPORTED_VARIABLE = DriverStatement(
    insert(_variables)
    .inline()
    .on_conflict_do_update(
        constraint="uq_device_variables_address",
        set_={
            "attributes": _variables_excluded.attributes,
            "characteristics": _variables_excluded.characteristics,
            "reported_at": _variables_excluded.reported_at,
        },
        where=_variables.c.reported_at <= _variables_excluded.reported_at,
    )
)


async def apply_registry(
    connection: asyncpg.Connection,
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
    await _REGISTRY.execute(connection, **values)


async def apply_boot(connection: asyncpg.Connection, values: dict[str, Any]) -> None:
    await _BOOT.execute(connection, **values)


async def apply_connected(connection: asyncpg.Connection, values: dict[str, Any]) -> None:
    await _CONNECTED.execute(
        connection,
        **values,
        connected=True,
        disconnected_at=None,
        last_seen=values["connected_at"],
    )


async def apply_disconnected(connection: asyncpg.Connection, values: dict[str, Any]) -> None:
    await _DISCONNECTED.execute(
        connection, **values, connected=False, last_seen=values["disconnected_at"]
    )


async def touch(connection: asyncpg.Connection, station_id: str, at: datetime) -> None:
    """The station was heard from at ``at``."""
    await _TOUCH.execute(connection, station=station_id, heard_at=at)


async def apply_connector_statuses(
    connection: asyncpg.Connection, rows: list[dict[str, Any]]
) -> None:
    """Each connector's newest status of ``rows``, unless the table holds a newer one. One
    statement may not touch a row twice, so a connector's older statuses in ``rows`` are
    dropped first, as the statement would have let the newest win; rows go in key order, the
    order in which every writer of the table locks them."""
    newest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[name] for name in _CONNECTOR_KEY)
        kept = newest.get(key)
        if kept is None or kept["changed_at"] <= row["changed_at"]:
            newest[key] = row
    ordered = [newest[key] for key in sorted(newest)]
    await _CONNECTOR_STATUSES.execute(connection, **as_arrays(ordered, _CONNECTOR_COLUMNS))


async def apply_progress(
    connection: asyncpg.Connection,
    station_id: str,
    *,
    prefix: str,
    status: str,
    request_id: int | None,
    at: datetime,
) -> None:
    """Firmware (``prefix="firmware"``) or log upload (``"log"``) status of a station."""
    status_column = "firmware_status" if prefix == "firmware" else "log_upload_status"
    values = {
        "station_id": station_id,
        status_column: status,
        f"{prefix}_request_id": request_id,
        f"{status_column}_at": at,
    }
    await _PROGRESS[prefix].execute(connection, **values)


async def apply_reported_variables(
    connection: asyncpg.Connection, rows: list[dict[str, Any]]
) -> None:
    """One upsert per variable, pipelined: a report's variables share their keys, so they share
    one prepared statement whatever their number (a multi-row VALUES list would be a new
    statement for every count)."""
    await _REPORTED_VARIABLE.executemany(connection, rows)
