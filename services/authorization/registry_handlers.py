"""Use cases that manage the station registry and id tokens (the operator's side)."""

from __future__ import annotations

import asyncio
from typing import Any

from opencpms_authorization import repository
from opencpms_authorization.clock import Clock
from opencpms_authorization.errors import (
    IdTokenAlreadyExistsError,
    IdTokenNotFoundError,
    StationAlreadyRegisteredError,
    StationNotFoundError,
)
from opencpms_authorization.passwords import StationPasswords
from opencpms_authorization.tables import IdToken, Station
from opencpms_contracts import authorization as contract
from opencpms_contracts.base import Empty
from opencpms_contracts.common import AuthorizationStatus, RegistrationStatus
from opencpms_contracts.stations import (
    StationDeleted,
    StationIdentity,
    StationRegistered,
    StationUpdated,
)
from opencpms_db.unit_of_work import UnitOfWorkFactory

# -- station registry -------------------------------------------------------------------------


async def register_station(
    msg: contract.RegisterStation,
    *,
    uow: UnitOfWorkFactory,
    passwords: StationPasswords,
    clock: Clock,
) -> contract.StationRecord:
    now = clock()
    password_hash = await asyncio.to_thread(passwords.hash, msg.password.get_secret_value())
    async with uow() as work:
        inserted = await repository.insert_station(
            work.session,
            {
                "station_id": msg.station_id,
                "password_hash": password_hash,
                "description": msg.description,
                "registration_status": msg.registration_status.value,
                "registered_at": now,
                "updated_at": now,
            },
        )
        if not inserted:
            raise StationAlreadyRegisteredError(msg.station_id)
        work.emit(
            StationRegistered(
                station_id=msg.station_id,
                registration_status=msg.registration_status,
                description=msg.description,
                registered_at=now,
            ),
            subject=msg.station_id,
        )
        await work.commit()
        station = await repository.get_station(work.session, msg.station_id)
        assert station is not None
        return station_record(station)


async def update_station(
    msg: contract.UpdateStation,
    *,
    uow: UnitOfWorkFactory,
    passwords: StationPasswords,
    clock: Clock,
) -> contract.StationRecord:
    password_hash = (
        await asyncio.to_thread(passwords.hash, msg.password.get_secret_value())
        if msg.password is not None
        else None
    )
    async with uow() as work:
        station = await repository.get_station(work.session, msg.station_id, for_update=True)
        if station is None:
            raise StationNotFoundError(msg.station_id)
        if password_hash is not None:
            station.password_hash = password_hash
        if msg.description is not None:
            station.description = msg.description
        if msg.registration_status is not None:
            station.registration_status = msg.registration_status.value
        station.updated_at = clock()
        work.emit(
            StationUpdated(
                station_id=station.station_id,
                registration_status=RegistrationStatus(station.registration_status),
                description=station.description,
                updated_at=station.updated_at,
            ),
            subject=station.station_id,
        )
        await work.commit()
        return station_record(station)


async def delete_station(
    msg: contract.StationRef, *, uow: UnitOfWorkFactory, clock: Clock
) -> Empty:
    async with uow() as work:
        station = await repository.get_station(work.session, msg.station_id, for_update=True)
        if station is None:
            raise StationNotFoundError(msg.station_id)
        await work.session.delete(station)
        work.emit(
            StationDeleted(station_id=msg.station_id, deleted_at=clock()), subject=msg.station_id
        )
        await work.commit()
    return Empty()


async def get_station(
    msg: contract.StationRef, *, uow: UnitOfWorkFactory
) -> contract.StationRecord:
    async with uow() as work:
        station = await repository.get_station(work.session, msg.station_id)
        if station is None:
            raise StationNotFoundError(msg.station_id)
        return station_record(station)


async def list_stations(
    msg: contract.ListStations, *, uow: UnitOfWorkFactory
) -> contract.StationPage:
    async with uow() as work:
        rows, total = await repository.list_stations(
            work.session,
            prefix=msg.station_id_prefix,
            status=msg.registration_status.value if msg.registration_status else None,
            limit=msg.limit,
            offset=msg.offset,
        )
        return contract.StationPage(
            items=[station_record(row) for row in rows],
            total=total,
            limit=msg.limit,
            offset=msg.offset,
        )


def station_record(station: Station) -> contract.StationRecord:
    identity = None
    if station.vendor is not None and station.model is not None:
        identity = StationIdentity(
            vendor=station.vendor,
            model=station.model,
            serial_number=station.serial_number,
            firmware_version=station.firmware_version,
            modem_iccid=station.modem_iccid,
            modem_imsi=station.modem_imsi,
            meter_type=station.meter_type,
            meter_serial_number=station.meter_serial_number,
        )
    return contract.StationRecord(
        station_id=station.station_id,
        description=station.description,
        registration_status=RegistrationStatus(station.registration_status),
        registered_at=station.registered_at,
        ocpp_version=station.ocpp_version,
        identity=identity,
        last_boot_at=station.last_boot_at,
    )


# -- id tokens --------------------------------------------------------------------------------


async def create_id_token(
    msg: contract.CreateIdToken, *, uow: UnitOfWorkFactory, clock: Clock
) -> contract.IdTokenRecord:
    now = clock()
    async with uow() as work:
        values: dict[str, Any] = msg.model_dump()
        values["status"] = msg.status.value
        inserted = await repository.insert_id_token(
            work.session, {**values, "created_at": now, "updated_at": now}
        )
        if not inserted:
            raise IdTokenAlreadyExistsError(msg.value)
        await work.commit()
        token = await repository.get_id_token(work.session, msg.value)
        assert token is not None
        return id_token_record(token)


async def update_id_token(
    msg: contract.UpdateIdToken, *, uow: UnitOfWorkFactory, clock: Clock
) -> contract.IdTokenRecord:
    async with uow() as work:
        token = await repository.get_id_token(work.session, msg.value, for_update=True)
        if token is None:
            raise IdTokenNotFoundError(msg.value)
        if msg.status is not None:
            token.status = msg.status.value
        if msg.clear_expiry:
            token.expires_at = None
        elif msg.expires_at is not None:
            token.expires_at = msg.expires_at
        if msg.group_id is not None:
            token.group_id = msg.group_id or None
        if msg.description is not None:
            token.description = msg.description
        token.updated_at = clock()
        await work.commit()
        return id_token_record(token)


async def get_id_token(
    msg: contract.IdTokenRef, *, uow: UnitOfWorkFactory
) -> contract.IdTokenRecord:
    async with uow() as work:
        token = await repository.get_id_token(work.session, msg.value)
        if token is None:
            raise IdTokenNotFoundError(msg.value)
        return id_token_record(token)


async def list_id_tokens(
    msg: contract.ListIdTokens, *, uow: UnitOfWorkFactory
) -> contract.IdTokenPage:
    async with uow() as work:
        rows, total = await repository.list_id_tokens(
            work.session,
            prefix=msg.value_prefix,
            status=msg.status.value if msg.status else None,
            limit=msg.limit,
            offset=msg.offset,
        )
        return contract.IdTokenPage(
            items=[id_token_record(row) for row in rows],
            total=total,
            limit=msg.limit,
            offset=msg.offset,
        )


def id_token_record(token: IdToken) -> contract.IdTokenRecord:
    return contract.IdTokenRecord(
        value=token.value,
        type=token.type,
        status=AuthorizationStatus(token.status),
        expires_at=token.expires_at,
        group_id=token.group_id,
        description=token.description,
        created_at=token.created_at,
        updated_at=token.updated_at,
    )
