"""Use cases of the authorization service, one function per RPC operation.

Each takes the request and keyword-only dependencies (``uow`` a unit-of-work factory,
``station_writes`` the group commit on the driver for what stations send, ``password_hashes``
the stations' hashes, looked up together for the handshakes that arrive together, ``reads``
driver connections outside a transaction for single lookups, ``passwords``, ``policy``,
``clock``) bound by the composition root; ``HANDLERS`` routes every operation of the service,
including the registry ones of ``registry_handlers``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opencpms_authorization import domain, repository
from opencpms_authorization import registry_handlers as registry
from opencpms_authorization.clock import Clock
from opencpms_authorization.passwords import StationPasswords
from opencpms_contracts import authorization as contract
from opencpms_contracts.common import AuthorizationStatus, IdTokenInfo, RegistrationStatus
from opencpms_contracts.stations import StationBooted
from opencpms_db.driver import DriverReads
from opencpms_db.lookup_batch import LookupBatch
from opencpms_db.unit_of_work import DriverUnitOfWork, UnitOfWorkFactory
from opencpms_db.write_batch import WriteBatch


@dataclass(frozen=True)
class BootPolicy:
    heartbeat_interval_s: int
    retry_s: int


# -- stations' credentials and boot -----------------------------------------------------------


async def authenticate_station(
    msg: contract.AuthenticateStation,
    *,
    password_hashes: LookupBatch[str, str],
    uow: UnitOfWorkFactory,
    passwords: StationPasswords,
) -> contract.StationAuthentication:
    # Looked up every time, though a verified password is remembered: the hash is what tells
    # that the password was changed since.
    stored_hash = await password_hashes.get(msg.station_id)
    if stored_hash is None:
        return contract.StationAuthentication(accepted=False, reason="unknown station")
    password = msg.password.get_secret_value()
    if passwords.verified_before(stored_hash, password):
        return contract.StationAuthentication(accepted=True)
    # Inline, not in a thread: at the default cost a verify takes 0.4 ms, less than handing it
    # to a thread and back while thousands of handshakes contend for the GIL.
    if not passwords.verify(stored_hash, password):
        return contract.StationAuthentication(accepted=False, reason="wrong password")
    passwords.remember(stored_hash, password)
    if passwords.needs_rehash(stored_hash):
        upgraded = await asyncio.to_thread(passwords.hash, password)
        async with uow() as work:
            await repository.replace_password_hash(
                work.session, msg.station_id, old=stored_hash, new=upgraded
            )
            await work.commit()
    return contract.StationAuthentication(accepted=True)


async def boot_station(
    msg: contract.BootStation, *, station_writes: WriteBatch, policy: BootPolicy
) -> contract.BootDecision:
    # After an outage every station boots at once: the boots that arrive together share one
    # commit (a group commit), keyed by station so concurrent groups lock rows in one order.
    async def step(work: DriverUnitOfWork) -> contract.BootDecision:
        stored = await repository.record_boot(work.connection, msg)
        registration = RegistrationStatus(stored) if stored is not None else None
        status, interval = domain.boot_decision(
            registration, heartbeat_interval_s=policy.heartbeat_interval_s, retry_s=policy.retry_s
        )
        if registration is not None:
            work.emit(
                StationBooted(
                    station_id=msg.station_id,
                    ocpp_version=msg.ocpp_version,
                    identity=msg.identity,
                    reason=msg.reason,
                    status=status,
                    interval_s=interval,
                    booted_at=msg.booted_at,
                ),
                subject=msg.station_id,
            )
        return contract.BootDecision(status=status, interval_s=interval)

    return await station_writes.run_work(msg.station_id, step)


# -- id tokens -----------------------------------------------------------------------------


async def authorize(
    msg: contract.AuthorizeIdToken, *, reads: DriverReads, clock: Clock
) -> IdTokenInfo:
    async with reads() as connection:
        token = await repository.token_standing(connection, msg.id_token.value)
    if token is None:
        return domain.token_info(None, expires_at=None, group_id=None, now=clock())
    return domain.token_info(
        AuthorizationStatus(token.status),
        expires_at=token.expires_at,
        group_id=token.group_id,
        now=clock(),
    )


HANDLERS: dict[Any, Callable[..., Any]] = {
    contract.AUTHENTICATE_STATION: authenticate_station,
    contract.BOOT_STATION: boot_station,
    contract.AUTHORIZE: authorize,
    contract.REGISTER_STATION: registry.register_station,
    contract.UPDATE_STATION: registry.update_station,
    contract.DELETE_STATION: registry.delete_station,
    contract.GET_STATION: registry.get_station,
    contract.LIST_STATIONS: registry.list_stations,
    contract.CREATE_ID_TOKEN: registry.create_id_token,
    contract.UPDATE_ID_TOKEN: registry.update_id_token,
    contract.GET_ID_TOKEN: registry.get_id_token,
    contract.LIST_ID_TOKENS: registry.list_id_tokens,
}
