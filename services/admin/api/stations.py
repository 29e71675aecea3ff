"""Stations: the registry (through authorization) and the live read model (the admin
service's own), with each station's message log and device model."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from opencpms_admin import handlers, queries
from opencpms_admin.api.audit import audited
from opencpms_admin.api.auth import Admin, Viewer
from opencpms_admin.api.context import AdminContext, Context
from opencpms_admin.api.params import Limit, Offset, StationIdPath
from opencpms_admin.api.schemas import (
    DeviceModelPage,
    DeviceVariableOut,
    FrameOut,
    FramePage,
    StationChange,
    StationCreate,
    StationCreated,
    StationOut,
    StationPage,
)
from opencpms_admin.domain import new_station_password
from opencpms_admin.errors import StationNotFoundError
from opencpms_contracts import authorization as auth
from opencpms_contracts.common import RegistrationStatus
from opencpms_contracts.stations import OcppVersion
from opencpms_messaging.rpc_errors import NotFoundError

router = APIRouter(prefix="/stations", tags=["stations"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def register_station(
    body: StationCreate, principal: Admin, context: Context
) -> StationCreated:
    """Registers a station with its Basic auth password. The password is returned only in this
    answer; when none is given one is generated."""
    password = (
        body.password.get_secret_value() if body.password is not None else new_station_password()
    )
    async with audited(
        context,
        principal,
        "station.register",
        station_id=body.station_id,
        request=body.model_dump(mode="json", exclude={"password"}),
    ):
        record = await context.call(
            auth.REGISTER_STATION,
            auth.RegisterStation.model_validate(
                body.model_dump(exclude={"password"}) | {"password": password}
            ),
        )
    await handlers.remember_station(record, writes=context.writes)
    station = await read_station(context, body.station_id)
    return StationCreated.model_validate(station.model_dump() | {"password": password})


@router.get("")
async def list_stations(
    principal: Viewer,
    context: Context,
    q: Annotated[str | None, Query(description="Station id prefix")] = None,
    connected: bool | None = None,
    ocpp_version: OcppVersion | None = None,
    vendor: str | None = None,
    registration_status: RegistrationStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> StationPage:
    async with context.uow() as work:
        rows, total = await queries.list_stations(
            work.session,
            station_id_prefix=q,
            connected=connected,
            ocpp_version=ocpp_version,
            vendor=vendor,
            registration_status=registration_status,
            limit=limit,
            offset=offset,
        )
        connectors = await queries.connectors_of(work.session, [r.station_id for r in rows])
        # Read while the session is open: closing it expires the rows.
        items = [StationOut.of(row, connectors[row.station_id]) for row in rows]
    return StationPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/{station_id}")
async def get_station(station_id: StationIdPath, principal: Viewer, context: Context) -> StationOut:
    return await read_station(context, station_id)


@router.patch("/{station_id}")
async def change_station(
    station_id: StationIdPath, body: StationChange, principal: Admin, context: Context
) -> StationOut:
    async with audited(
        context,
        principal,
        "station.update",
        station_id=station_id,
        request=body.model_dump(mode="json", exclude={"password"}, exclude_unset=True)
        | {"password_changed": body.password is not None},
    ):
        await context.call(
            auth.UPDATE_STATION,
            auth.UpdateStation.model_validate(
                body.model_dump(exclude_unset=True) | {"station_id": station_id}
            ),
        )
    record = await context.call(auth.GET_STATION, auth.StationRef(station_id=station_id))
    await handlers.remember_station(record, changed_at=context.clock(), writes=context.writes)
    return await read_station(context, station_id)


@router.delete("/{station_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_station(station_id: StationIdPath, principal: Admin, context: Context) -> Response:
    """Removes the station and its credentials: it can no longer connect."""
    async with audited(context, principal, "station.delete", station_id=station_id):
        await context.call(auth.DELETE_STATION, auth.StationRef(station_id=station_id))
    await handlers.forget_station(station_id, at=context.clock(), writes=context.writes)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{station_id}/frames")
async def station_frames(
    station_id: StationIdPath,
    principal: Viewer,
    context: Context,
    limit: Limit = 50,
    offset: Offset = 0,
) -> FramePage:
    """The station's OCPP message log, newest first: the frames both ways, as sent."""
    await read_station(context, station_id)
    async with context.uow() as work:
        rows, total = await queries.frames_of(work.session, station_id, limit=limit, offset=offset)
        items = [FrameOut.of(r) for r in rows]
    return FramePage(items=items, total=total, limit=limit, offset=offset)


@router.get("/{station_id}/device-model")
async def station_device_model(
    station_id: StationIdPath,
    principal: Viewer,
    context: Context,
    component: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> DeviceModelPage:
    """What an OCPP 2.x station reported of its components and variables (NotifyReport);
    empty until it has sent a report (ask for one with the ``get_base_report`` command)."""
    await read_station(context, station_id)
    async with context.uow() as work:
        rows, total = await queries.device_model_of(
            work.session, station_id, component=component, limit=limit, offset=offset
        )
        items = [DeviceVariableOut.of(r) for r in rows]
    return DeviceModelPage(items=items, total=total, limit=limit, offset=offset)


async def read_station(context: AdminContext, station_id: str) -> StationOut:
    """The station from the read model. One the read model has not seen registered yet (its
    registration event is still queued, or the admin database was restored from an older
    backup) is fetched from authorization once."""
    for attempt in range(2):
        async with context.uow() as work:
            row = await queries.get_station(work.session, station_id)
            if row is not None and row.deleted_at is not None:
                break
            if row is not None and row.registration_status is not None:
                connectors = await queries.connectors_of(work.session, [station_id])
                return StationOut.of(row, connectors[station_id])
        if attempt == 0:
            try:
                record = await context.call(
                    auth.GET_STATION, auth.StationRef(station_id=station_id)
                )
            except NotFoundError:
                break
            await handlers.remember_station(record, writes=context.writes)
    raise StationNotFoundError(station_id)
