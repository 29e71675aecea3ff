"""Use cases of the admin service's own data: API keys, the audit log, and keeping the
station read model in step with what the API itself just changed.

Each takes keyword-only dependencies (``uow``, ``clock``, ``writes`` for the read model) bound by
the composition root.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from opencpms_admin import queries, read_model
from opencpms_admin.clock import Clock
from opencpms_admin.domain import Principal, Role, api_key_digest, new_api_key, same_secret
from opencpms_admin.errors import ApiKeyNameTakenError, ApiKeyNotFoundError
from opencpms_admin.tables import ApiKey, AuditEntry
from opencpms_contracts.authorization import StationRecord
from opencpms_db.unit_of_work import UnitOfWorkFactory
from opencpms_db.write_batch import WriteBatch

BOOTSTRAP_KEY_NAME = "environment"


# -- API keys ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    name: str
    role: Role
    created_at: datetime
    key: str  # shown once, never stored


async def create_api_key(
    name: str, role: Role, *, created_by: str, uow: UnitOfWorkFactory, clock: Clock
) -> IssuedKey:
    key = new_api_key()
    issued = IssuedKey(str(uuid.uuid4()), name, role, clock(), key)
    async with uow() as work:
        try:
            await work.session.execute(
                insert(ApiKey).values(
                    key_id=issued.key_id,
                    name=name,
                    role=role.value,
                    key_digest=api_key_digest(key),
                    created_at=issued.created_at,
                    created_by=created_by,
                )
            )
            await work.commit()
        except IntegrityError as exc:
            raise ApiKeyNameTakenError(name) from exc
    return issued


async def revoke_api_key(key_id: str, *, uow: UnitOfWorkFactory, clock: Clock) -> None:
    async with uow() as work:
        result = await work.session.execute(
            update(ApiKey)
            .where(ApiKey.key_id == key_id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=clock())
        )
        if getattr(result, "rowcount", 0) == 0:
            raise ApiKeyNotFoundError(key_id)
        await work.commit()


async def authenticate(
    presented: str, *, bootstrap_key: str | None, uow: UnitOfWorkFactory
) -> Principal | None:
    """The principal behind a presented API key, or None for a key that is unknown or
    revoked."""
    if bootstrap_key is not None and same_secret(presented, bootstrap_key):
        return Principal(BOOTSTRAP_KEY_NAME, Role.ADMIN)
    async with uow() as work:
        row = await queries.active_key_by_digest(work.session, api_key_digest(presented))
        return None if row is None else Principal(row.name, Role(row.role))


# -- audit log --------------------------------------------------------------------------------


async def record_audit(
    *,
    actor: str,
    action: str,
    station_id: str | None,
    request: dict[str, Any] | None,
    outcome: str,
    result: dict[str, Any] | None,
    started_at: datetime,
    uow: UnitOfWorkFactory,
    clock: Clock,
) -> None:
    finished = clock()
    async with uow() as work:
        await work.session.execute(
            insert(AuditEntry).values(
                at=started_at,
                actor=actor,
                action=action,
                station_id=station_id,
                request=request,
                outcome=outcome,
                result=result,
                duration_ms=max(0, int((finished - started_at).total_seconds() * 1000)),
            )
        )
        await work.commit()


# -- the read model, from what the API itself learned -----------------------------------------


async def remember_station(
    record: StationRecord, *, changed_at: datetime | None = None, writes: WriteBatch
) -> None:
    """Puts a station authorization just confirmed into the read model at once, so that a
    client that registers (``changed_at`` None) or changes a station and reads it back does
    not race the event. It is written as the events are, through ``writes``, and returns once
    committed."""

    async def write(connection: asyncpg.Connection) -> None:
        await read_model.apply_registry(
            connection,
            station_id=record.station_id,
            changed_at=changed_at or record.registered_at,
            registration_status=record.registration_status,
            description=record.description,
            registered_at=record.registered_at,
        )
        if record.identity is not None and record.last_boot_at is not None:
            identity = record.identity
            await read_model.apply_boot(
                connection,
                {
                    "station_id": record.station_id,
                    "ocpp_version": record.ocpp_version,
                    "vendor": identity.vendor,
                    "model": identity.model,
                    "serial_number": identity.serial_number,
                    "firmware_version": identity.firmware_version,
                    "identity": identity.model_dump(mode="json", exclude_none=True),
                    "booted_at": record.last_boot_at,
                },
            )

    await writes.run(record.station_id, write)


async def forget_station(station_id: str, *, at: datetime, writes: WriteBatch) -> None:
    await writes.run(
        station_id,
        lambda connection: read_model.apply_registry(
            connection, station_id=station_id, changed_at=at, deleted=True
        ),
    )
