"""The queries the authorization handlers need."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import asyncpg
from sqlalchemy import String, Table, any_, bindparam, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from opencpms_authorization.tables import IdToken, Station
from opencpms_contracts.authorization import BootStation
from opencpms_db.driver import DriverStatement
from opencpms_db.paging import fetch_page


async def get_station(
    session: AsyncSession, station_id: str, *, for_update: bool = False
) -> Station | None:
    query = select(Station).where(Station.station_id == station_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


_stations = cast(Table, Station.__table__)
_BOOT_COLUMNS = (
    "ocpp_version",
    "vendor",
    "model",
    "serial_number",
    "firmware_version",
    "modem_iccid",
    "modem_imsi",
    "meter_type",
    "meter_serial_number",
    "last_boot_at",
    "last_boot_reason",
)
# What stations send runs on the driver (opencpms_db.driver); the registry operations below
# keep the ORM. One statement records the boot and takes the row lock.
_RECORD_BOOT = DriverStatement(
    update(_stations)
    .where(_stations.c.station_id == bindparam("booting_station_id"))
    .values({name: bindparam(name) for name in _BOOT_COLUMNS})
    .returning(_stations.c.registration_status)
)


async def record_boot(connection: asyncpg.Connection, boot: BootStation) -> str | None:
    """Stores what a station told about itself at boot; its registration status, or None if
    the station is not registered."""
    identity = boot.identity
    status: str | None = await _RECORD_BOOT.fetchval(
        connection,
        booting_station_id=boot.station_id,
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
    return status


_PASSWORD_HASHES = DriverStatement(
    select(_stations.c.station_id, _stations.c.password_hash).where(
        _stations.c.station_id == any_(bindparam("station_ids", type_=ARRAY(String())))
    )
)


async def password_hashes(connection: asyncpg.Connection, station_ids: list[str]) -> dict[str, str]:
    """The stored password hash of each of the stations that exist."""
    rows = await _PASSWORD_HASHES.fetch(connection, station_ids=station_ids)
    return {row["station_id"]: row["password_hash"] for row in rows}


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


_tokens = cast(Table, IdToken.__table__)
_TOKEN_STANDING = DriverStatement(
    select(_tokens.c.status, _tokens.c.expires_at, _tokens.c.group_id).where(
        _tokens.c.value == bindparam("value")
    )
)


@dataclass(frozen=True)
class TokenStanding:
    """What deciding on a token needs: columns, not an ORM object, for the lookup every
    charging session makes."""

    status: str
    expires_at: datetime | None
    group_id: str | None


async def token_standing(connection: asyncpg.Connection, value: str) -> TokenStanding | None:
    """None for an unknown token."""
    row = await _TOKEN_STANDING.fetchrow(connection, value=value)
    return None if row is None else TokenStanding(**row)


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
