import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest
from argon2 import PasswordHasher

from opencpms_contracts import authorization as auth
from opencpms_contracts.common import RegistrationStatus
from opencpms_contracts.stations import StationBooted, StationIdentity, StationRegistered
from opencpms_messaging.rpc_errors import ConflictError, InvalidRequestError, NotFoundError

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("authorization_service")]
PASSWORD = "correct-horse-battery-staple"


def new_station_id() -> str:
    return f"CP-{uuid.uuid4().hex[:10]}"


async def register(rpc, station_id: str, **overrides) -> auth.StationRecord:
    request = auth.RegisterStation(station_id=station_id, password=PASSWORD, **overrides)
    return await rpc.call(auth.REGISTER_STATION, request, timeout=10)


async def boot(rpc, station_id: str, *, ocpp_version: str = "1.6") -> auth.BootDecision:
    request = auth.BootStation(
        station_id=station_id,
        ocpp_version=ocpp_version,
        identity=StationIdentity(vendor="ACME", model="Fast-22"),
        booted_at=datetime.now(UTC),
    )
    return await rpc.call(auth.BOOT_STATION, request, timeout=10)


async def test_registered_station_authenticates_with_its_password_only(rpc):
    station_id = new_station_id()
    await register(rpc, station_id)

    ok = await rpc.call(
        auth.AUTHENTICATE_STATION,
        auth.AuthenticateStation(station_id=station_id, password=PASSWORD),
        timeout=10,
    )
    wrong = await rpc.call(
        auth.AUTHENTICATE_STATION,
        auth.AuthenticateStation(station_id=station_id, password=PASSWORD + "x"),
        timeout=10,
    )
    unknown = await rpc.call(
        auth.AUTHENTICATE_STATION,
        auth.AuthenticateStation(station_id=new_station_id(), password=PASSWORD),
        timeout=10,
    )

    assert ok.accepted
    assert (wrong.accepted, wrong.reason) == (False, "wrong password")
    assert (unknown.accepted, unknown.reason) == (False, "unknown station")


async def test_registering_twice_is_a_conflict(rpc):
    station_id = new_station_id()
    await register(rpc, station_id)
    with pytest.raises(ConflictError):
        await register(rpc, station_id)


async def test_short_password_is_refused_before_reaching_the_service():
    with pytest.raises(ValueError, match="at least 16"):
        auth.RegisterStation(station_id="CP1", password="short")


async def test_invalid_request_is_reported_as_invalid(rpc, broker):
    # A hand-made request that bypasses the model's validation on the sending side.
    class Loose(auth.StationRef):
        model_config = {"frozen": True, "extra": "allow"}

    sneaky = Loose.model_construct(station_id="has spaces")
    with pytest.raises(InvalidRequestError):
        await rpc.call(auth.GET_STATION, sneaky, timeout=10)


async def test_boot_of_registered_station_is_accepted_and_recorded(rpc, broker):
    station_id = new_station_id()
    await register(rpc, station_id, description="car park level 2")
    booted = asyncio.Queue()
    consumer = await broker.event_consumer(
        f"test.booted.{uuid.uuid4().hex[:6]}", queue_type="classic"
    )

    async def on_booted(event, envelope):
        if event.station_id == station_id:
            await booted.put((event, envelope))

    consumer.on(StationBooted, on_booted)
    await consumer.start()

    decision = await rpc.call(
        auth.BOOT_STATION,
        auth.BootStation(
            station_id=station_id,
            ocpp_version="1.6",
            identity=StationIdentity(
                vendor="ACME", model="Fast-22", serial_number="S1", firmware_version="1.2.3"
            ),
            booted_at=datetime.now(UTC),
        ),
        timeout=10,
    )
    record = await rpc.call(auth.GET_STATION, auth.StationRef(station_id=station_id), timeout=10)
    event, envelope = await asyncio.wait_for(booted.get(), 10)

    assert (decision.status, decision.interval_s) == (RegistrationStatus.ACCEPTED, 300)
    assert record.identity.vendor == "ACME"
    assert record.identity.firmware_version == "1.2.3"
    assert record.ocpp_version == "1.6"
    assert event.status is RegistrationStatus.ACCEPTED
    assert envelope.subject == station_id
    assert envelope.source == "/opencpms/authorization"


async def test_boot_of_pending_station_is_pending(rpc):
    station_id = new_station_id()
    await register(rpc, station_id, registration_status=RegistrationStatus.PENDING)
    decision = await boot(rpc, station_id, ocpp_version="2.0.1")
    assert (decision.status, decision.interval_s) == (RegistrationStatus.PENDING, 60)


async def test_registration_publishes_event(rpc, broker):
    station_id = new_station_id()
    seen = asyncio.Queue()
    consumer = await broker.event_consumer(
        f"test.registered.{uuid.uuid4().hex[:6]}", queue_type="classic"
    )

    async def on_registered(event, _envelope):
        if event.station_id == station_id:
            await seen.put(event)

    consumer.on(StationRegistered, on_registered)
    await consumer.start()
    await register(rpc, station_id)
    event = await asyncio.wait_for(seen.get(), 10)
    assert event.registration_status is RegistrationStatus.ACCEPTED


async def test_update_and_delete_station(rpc):
    station_id = new_station_id()
    await register(rpc, station_id)
    updated = await rpc.call(
        auth.UPDATE_STATION,
        auth.UpdateStation(
            station_id=station_id,
            password="another-long-password-1",
            registration_status=RegistrationStatus.REJECTED,
        ),
        timeout=10,
    )
    authenticated = await rpc.call(
        auth.AUTHENTICATE_STATION,
        auth.AuthenticateStation(station_id=station_id, password="another-long-password-1"),
        timeout=10,
    )
    await rpc.call(auth.DELETE_STATION, auth.StationRef(station_id=station_id), timeout=10)

    assert updated.registration_status is RegistrationStatus.REJECTED
    assert authenticated.accepted
    with pytest.raises(NotFoundError):
        await rpc.call(auth.GET_STATION, auth.StationRef(station_id=station_id), timeout=10)


async def test_list_stations_filters_by_prefix_and_pages(rpc):
    prefix = f"LS-{uuid.uuid4().hex[:6]}-"
    for n in range(3):
        await register(rpc, f"{prefix}{n}")
    first = await rpc.call(
        auth.LIST_STATIONS, auth.ListStations(station_id_prefix=prefix, limit=2), timeout=10
    )
    second = await rpc.call(
        auth.LIST_STATIONS,
        auth.ListStations(station_id_prefix=prefix, limit=2, offset=2),
        timeout=10,
    )
    assert first.total == 3
    assert [s.station_id for s in first.items] == [f"{prefix}0", f"{prefix}1"]
    assert [s.station_id for s in second.items] == [f"{prefix}2"]


async def test_a_hash_made_with_older_parameters_is_upgraded_at_login(rpc, database_url):
    station_id = new_station_id()
    await register(rpc, station_id)
    older = PasswordHasher(time_cost=2, memory_cost=8192, parallelism=1).hash(PASSWORD)
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        query = 'UPDATE "authorization".stations SET password_hash = $1 WHERE station_id = $2'
        await conn.execute(query, older, station_id)

        ok = await rpc.call(
            auth.AUTHENTICATE_STATION,
            auth.AuthenticateStation(station_id=station_id, password=PASSWORD),
            timeout=10,
        )
        stored = await conn.fetchval(
            'SELECT password_hash FROM "authorization".stations WHERE station_id = $1', station_id
        )
    finally:
        await conn.close()

    assert ok.accepted
    assert stored != older
    assert "m=1024,t=1" in stored


async def test_boots_arriving_together_share_commits(rpc, database_url):
    """After an outage every station boots at once; boots that arrive together are committed
    together (rows written in one transaction share ``xmin``), each answered for itself."""
    stations = [new_station_id() for _ in range(20)]
    for station_id in stations:
        await register(rpc, station_id)
    pending = new_station_id()
    await register(rpc, pending, registration_status=RegistrationStatus.PENDING)
    decisions = await asyncio.gather(*(boot(rpc, s) for s in [*stations, pending]))
    assert [d.status for d in decisions] == [RegistrationStatus.ACCEPTED] * 20 + [
        RegistrationStatus.PENDING
    ]
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        commits = await conn.fetchval(
            'SELECT count(DISTINCT xmin::text) FROM "authorization".stations'
            " WHERE station_id = ANY($1::text[])",
            stations,
        )
    finally:
        await conn.close()
    assert 1 <= commits < 20
