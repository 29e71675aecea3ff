"""The queries the authorization handlers need."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Row, Table, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from opencpms_authorization.tables import IdToken, Station
from opencpms_contracts.authorization import BootStation
from opencpms_db.paging import fetch_page


async def get_station(
    session: AsyncSession, station_id: str, *, for_update: bool = False
) -> Station | None:
    query = select(Station).where(Station.station_id == station_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def record_boot(connection: AsyncConnection, boot: BootStation) -> str | None:
    """Stores what a station told about itself at boot; its registration status, or None if
    the station is not registered. One statement, which also takes the row lock."""
    identity = boot.identity
    # On the table, not the mapped class: the ORM's bookkeeping for an UPDATE of a row it has
    # not loaded costs more than the statement.
    stations = cast(Table, Station.__table__)
    result = await connection.execute(
        update(stations)
        .where(stations.c.station_id == boot.station_id)
        .values(
            ocpp_version=boot.ocpp_version,
            vendor=identity.vendor,
            model=identity.model,
            serial_number=identity.serial_number,
            firmware_version=identity.firmware_version,
            modem_iccid=identity.modem_iccid,
            modem_imsi=identity.modem_imsi,
            meter_type=identity.meter_type,
            meter_serial_number=identity.meter_serial_number,
            last_boot_at=boot.booted_at,
            last_boot_reason=boot.reason,
        )
        .returning(stations.c.registration_status)
    )
    status: str | None = result.scalar_one_or_none()
    return status


async def get_password_hash(connection: AsyncConnection, station_id: str) -> str | None:
    query = select(Station.password_hash).where(Station.station_id == station_id)
    stored: str | None = (await connection.execute(query)).scalar_one_or_none()
    return stored


async def replace_password_hash(
    session: AsyncSession, station_id: str, *, old: str, new: str
) -> None:
    """Upgrades a hash made with older parameters, unless the password changed meanwhile."""
    await session.execute(
        update(Station)
        .where(Station.station_id == station_id, Station.password_hash == old)
        .values(password_hash=new)
    )


async def insert_station(session: AsyncSession, values: dict[str, object]) -> bool:
    """Inserts a station; False if the id is taken (decided by the primary key)."""
    result = await session.execute(
        insert(Station).values(**values).on_conflict_do_nothing().returning(Station.station_id)
    )
    return result.scalar_one_or_none() is not None


async def list_stations(
    session: AsyncSession, *, prefix: str | None, status: str | None, limit: int, offset: int
) -> tuple[Sequence[Station], int]:
    query = select(Station)
    if prefix:
        query = query.where(Station.station_id.startswith(prefix, autoescape=True))
    if status:
        query = query.where(Station.registration_status == status)
    return await fetch_page(session, query.order_by(Station.station_id), limit=limit, offset=offset)


async def token_standing(
    connection: AsyncConnection, value: str
) -> Row[str, datetime | None, str | None] | None:
    """What deciding on ``value`` needs (``status``, ``expires_at``, ``group_id``), or None for
    an unknown token: columns, not an ORM object, for the lookup every charging session makes."""
    query = select(IdToken.status, IdToken.expires_at, IdToken.group_id).where(
        IdToken.value == value
    )
    return (await connection.execute(query)).one_or_none()


async def get_id_token(
    session: AsyncSession, value: str, *, for_update: bool = False
) -> IdToken | None:
    query = select(IdToken).where(IdToken.value == value)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def insert_id_token(session: AsyncSession, values: dict[str, object]) -> bool:
    result = await session.execute(
        insert(IdToken).values(**values).on_conflict_do_nothing().returning(IdToken.value)
    )
    return result.scalar_one_or_none() is not None


async def list_id_tokens(
    session: AsyncSession, *, prefix: str | None, status: str | None, limit: int, offset: int
) -> tuple[Sequence[IdToken], int]:
    query = select(IdToken)
    if prefix:
        query = query.where(IdToken.value.startswith(prefix, autoescape=True))
    if status:
        query = query.where(IdToken.status == status)
    return await fetch_page(session, query.order_by(IdToken.value), limit=limit, offset=offset)
