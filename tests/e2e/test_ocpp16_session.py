"""Issue: a real OCPP 1.6J charge point, end to end through gateway, RabbitMQ and the services."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import websockets
from ocpp.v16 import call
from ocpp.v16.datatypes import MeterValue, SampledValue

from opencpms_contracts.billing import CdrCreated
from tests.e2e.conftest import eventually
from tests.e2e.stations import (
    basic_auth,
    charge_point,
    create_token,
    new_password,
    new_station_id,
    raw_socket,
    register_station,
)

pytestmark = pytest.mark.e2e


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def energy_sample(moment: datetime, wh: int, power_w: float) -> MeterValue:
    return MeterValue(
        timestamp=iso(moment),
        sampled_value=[
            SampledValue(
                value=str(wh),
                measurand="Energy.Active.Import.Register",
                unit="Wh",
                context="Sample.Periodic",
            ),
            SampledValue(
                value=str(power_w / 1000),
                measurand="Power.Active.Import",
                unit="kW",
                context="Sample.Periodic",
            ),
        ],
    )


async def test_full_charging_session_is_stored_visible_and_billed(
    running_system, admin, events_broker
):
    station_id, password, tag = new_station_id(), new_password(), f"TAG{uuid.uuid4().hex[:8]}"
    await register_station(admin, station_id, password)
    await create_token(admin, tag)
    tariff = {
        "currency": "EUR",
        "price_per_kwh": "0.35",
        "price_per_minute": "0.02",
        "price_per_session": "0.50",
        "tax_rate": "0.19",
    }
    assert (await admin.put("/tariffs/default", json=tariff)).status_code == 200

    cdrs: asyncio.Queue = asyncio.Queue()
    subscriber = await events_broker.event_consumer(
        f"e2e.billing.{uuid.uuid4().hex[:8]}", queue_type="classic"
    )

    async def on_cdr(event: CdrCreated, envelope) -> None:
        if event.cdr.station_id == station_id:
            await cdrs.put((event, envelope))

    subscriber.on(CdrCreated, on_cdr)
    await subscriber.start()

    # Billing prices a session with the tariff in force when it ended; this one ends after the
    # tariff set above took effect.
    started = datetime.now(UTC).replace(microsecond=0)
    async with charge_point(running_system.gateway_url, station_id, password) as cp:
        boot = await cp.call(
            call.BootNotification(
                charge_point_vendor="ACME",
                charge_point_model="Wallbox-22",
                firmware_version="4.2.0",
            )
        )
        assert boot.status == "Accepted"
        await cp.call(
            call.StatusNotification(connector_id=1, error_code="NoError", status="Preparing")
        )
        authorized = await cp.call(call.Authorize(id_tag=tag))
        assert authorized.id_tag_info["status"] == "Accepted"
        start = await cp.call(
            call.StartTransaction(
                connector_id=1, id_tag=tag, meter_start=1000, timestamp=iso(started)
            )
        )
        assert start.id_tag_info["status"] == "Accepted"
        transaction_id = start.transaction_id
        for minute, wh in ((10, 4000), (20, 8000), (30, 11000)):
            await cp.call(
                call.MeterValues(
                    connector_id=1,
                    transaction_id=transaction_id,
                    meter_value=[energy_sample(started + timedelta(minutes=minute), wh, 11000.0)],
                )
            )
        ended = started + timedelta(minutes=47, seconds=30)
        await cp.call(
            call.StopTransaction(
                meter_stop=15321,
                timestamp=iso(ended),
                transaction_id=transaction_id,
                reason="EVDisconnected",
                id_tag=tag,
            )
        )
        await cp.call(
            call.StatusNotification(connector_id=1, error_code="NoError", status="Available")
        )

    async def stored_transaction():
        response = await admin.get(f"/transactions/{transaction_id}")
        return response.json() if response.status_code == 200 else None

    transaction = await eventually(stored_transaction)
    assert transaction["station_id"] == station_id
    assert transaction["status"] == "Ended"
    assert transaction["energy_wh"] == 14321
    assert transaction["meter_start_wh"] == 1000
    assert transaction["meter_stop_wh"] == 15321
    assert transaction["stop_reason"] == "EVDisconnected"
    assert len(transaction["meter_values"]) >= 3

    event, envelope = await asyncio.wait_for(cdrs.get(), 30)
    cdr = event.cdr
    # 14.321 kWh x 0.35 + 47.5 min x 0.02 + 0.50 = 6.46235 -> 6.46; tax 19 % = 1.23
    assert cdr.transaction_id == transaction_id
    assert cdr.energy_wh == 14321
    assert cdr.duration_s == 47 * 60 + 30
    assert cdr.currency == "EUR"
    assert cdr.total_excl_tax == Decimal("6.46")
    assert cdr.tax == Decimal("1.23")
    assert cdr.total_incl_tax == Decimal("7.69")
    assert envelope.type == "opencpms.cdr.created.v1"
    assert envelope.subject == station_id

    listed = (await admin.get("/cdrs", params={"transaction_id": transaction_id})).json()
    assert listed["total"] == 1
    assert listed["items"][0]["total_incl_tax"] == "7.69"
    with pytest.raises(TimeoutError):  # exactly one CloudEvent: no second one follows
        await asyncio.wait_for(cdrs.get(), 3)


async def test_station_is_visible_to_the_operator_after_boot(running_system, admin):
    station_id, password = new_station_id(), new_password()
    await register_station(admin, station_id, password)
    async with charge_point(running_system.gateway_url, station_id, password) as cp:
        await cp.call(
            call.BootNotification(
                charge_point_vendor="ACME", charge_point_model="M1", firmware_version="9.9"
            )
        )
        await cp.call(
            call.StatusNotification(connector_id=2, error_code="NoError", status="Charging")
        )

        async def online():
            body = (await admin.get(f"/stations/{station_id}")).json()
            connectors = {c["evse_id"]: c for c in body.get("connectors", [])}
            if body.get("connected") and body.get("vendor") == "ACME" and 2 in connectors:
                return body, connectors
            return None

        body, connectors = await eventually(online)
    assert body["ocpp_version"] == "1.6"
    assert body["firmware_version"] == "9.9"
    assert connectors[2]["ocpp_status"] == "Charging"

    async def offline():
        return not (await admin.get(f"/stations/{station_id}")).json()["connected"]

    await eventually(offline)


async def refused_with(
    gateway_url: str, station_id: str, headers: dict[str, str], subprotocol: str = "ocpp1.6"
) -> int:
    """The HTTP status the gateway refuses this handshake with."""
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(
            f"{gateway_url}/{station_id}", subprotocols=[subprotocol], additional_headers=headers
        ):
            pass
    return refused.value.response.status_code


@pytest.mark.parametrize("case", ["wrong password", "unknown station", "no credentials"])
async def test_bad_credentials_are_refused_at_the_handshake(running_system, admin, case):
    station_id, password = new_station_id(), new_password()
    await register_station(admin, station_id, password)
    headers = {
        "wrong password": basic_auth(station_id, password + "x"),
        "unknown station": basic_auth("NOBODY-" + station_id, password),
        "no credentials": {},
    }[case]
    target = "NOBODY-" + station_id if case == "unknown station" else station_id
    assert await refused_with(running_system.gateway_url, target, headers) == 401


async def test_a_deleted_station_leaves_the_station_list_and_is_refused(running_system, admin):
    station_id, password = new_station_id(), new_password()
    await register_station(admin, station_id, password)
    async with charge_point(running_system.gateway_url, station_id, password) as cp:
        boot = await cp.call(
            call.BootNotification(charge_point_vendor="ACME", charge_point_model="M1")
        )
        assert boot.status == "Accepted"

    async def booted():
        return (await admin.get(f"/stations/{station_id}")).json()["booted_at"]

    await eventually(booted)
    assert (await admin.delete(f"/stations/{station_id}")).status_code == 204
    assert (await admin.get(f"/stations/{station_id}")).status_code == 404
    # The read model keeps a tombstone, which no listing shows.
    listed = (await admin.get("/stations", params={"q": station_id})).json()
    assert listed["total"] == 0
    headers = basic_auth(station_id, password)
    assert await refused_with(running_system.gateway_url, station_id, headers) == 401


async def test_handshake_without_a_supported_subprotocol_is_refused(running_system, admin):
    station_id, password = new_station_id(), new_password()
    await register_station(admin, station_id, password)
    headers = basic_auth(station_id, password)
    status = await refused_with(running_system.gateway_url, station_id, headers, "ocpp1.2")
    assert status == 400


async def test_blocked_tag_is_blocked(running_system, admin):
    station_id, password, tag = new_station_id(), new_password(), f"BLK{uuid.uuid4().hex[:8]}"
    await register_station(admin, station_id, password)
    await create_token(admin, tag, status="Blocked")
    async with charge_point(running_system.gateway_url, station_id, password) as cp:
        await cp.call(call.BootNotification(charge_point_vendor="V", charge_point_model="M"))
        result = await cp.call(call.Authorize(id_tag=tag))
    assert result.id_tag_info["status"] == "Blocked"


async def test_unblocking_through_the_admin_api_takes_effect(running_system, admin):
    station_id, password, tag = new_station_id(), new_password(), f"UNB{uuid.uuid4().hex[:8]}"
    await register_station(admin, station_id, password)
    await create_token(admin, tag, status="Blocked")
    assert (await admin.patch(f"/id-tokens/{tag}", json={"status": "Accepted"})).status_code == 200
    async with charge_point(running_system.gateway_url, station_id, password) as cp:
        result = await cp.call(call.Authorize(id_tag=tag))
    assert result.id_tag_info["status"] == "Accepted"


async def test_a_start_right_after_its_authorize_gets_the_authorize_s_answer_once(
    running_system, admin
):
    # The gateway answers the start with what the Authorize was told moments before, without
    # asking again (opencpms_gateway.authorizations); a later start with the token asks.
    station_id, password, tag = new_station_id(), new_password(), f"AUS{uuid.uuid4().hex[:8]}"
    await register_station(admin, station_id, password)
    await create_token(admin, tag)
    async with charge_point(running_system.gateway_url, station_id, password) as cp:
        authorized = await cp.call(call.Authorize(id_tag=tag))
        blocked = await admin.patch(f"/id-tokens/{tag}", json={"status": "Blocked"})
        assert blocked.status_code == 200, blocked.text
        first = await cp.call(
            call.StartTransaction(
                connector_id=1, id_tag=tag, meter_start=0, timestamp=iso(datetime.now(UTC))
            )
        )
        second = await cp.call(
            call.StartTransaction(
                connector_id=2, id_tag=tag, meter_start=0, timestamp=iso(datetime.now(UTC))
            )
        )
    assert authorized.id_tag_info["status"] == "Accepted"
    assert first.id_tag_info["status"] == "Accepted"
    assert second.id_tag_info["status"] == "Blocked"


async def test_retried_start_transaction_yields_the_same_id(running_system, admin):
    station_id, password, tag = new_station_id(), new_password(), f"RTY{uuid.uuid4().hex[:8]}"
    await register_station(admin, station_id, password)
    await create_token(admin, tag)
    started = iso(datetime.now(UTC).replace(microsecond=0))
    async with charge_point(running_system.gateway_url, station_id, password) as cp:
        first = await cp.call(
            call.StartTransaction(connector_id=1, id_tag=tag, meter_start=0, timestamp=started)
        )
    # The station lost the answer, reconnected and replays the same message.
    async with charge_point(running_system.gateway_url, station_id, password) as cp:
        second = await cp.call(
            call.StartTransaction(connector_id=1, id_tag=tag, meter_start=0, timestamp=started)
        )
    assert first.transaction_id == second.transaction_id
    listed = (await admin.get("/transactions", params={"station_id": station_id})).json()
    assert listed["total"] == 1


async def test_invalid_frames_get_callerrors_and_the_connection_stays_up(running_system, admin):
    station_id, password = new_station_id(), new_password()
    await register_station(admin, station_id, password)
    async with raw_socket(running_system.gateway_url, station_id, password) as ws:
        await ws.send("this is not JSON")
        assert json.loads(await ws.recv())[:3] == [4, "-1", "FormationViolation"]
        await ws.send('[2, "m1", "Heartbeat", {"unexpected": true}]')
        assert json.loads(await ws.recv())[:3] == [4, "m1", "FormationViolation"]
        await ws.send(
            '[2, "m2", "BootNotification", {"chargePointVendor": 5, "chargePointModel": "M"}]'
        )
        assert json.loads(await ws.recv())[:3] == [4, "m2", "TypeConstraintViolation"]
        await ws.send('[2, "m3", "Authorize", {}]')
        assert json.loads(await ws.recv())[:3] == [4, "m3", "OccurenceConstraintViolation"]
        await ws.send('[2, "m4", "NoSuchAction", {}]')
        assert json.loads(await ws.recv())[:3] == [4, "m4", "NotImplemented"]
        await ws.send('[2, "m5", "Heartbeat", {}]')
        answer = json.loads(await ws.recv())
    assert answer[:2] == [3, "m5"]
    assert "currentTime" in answer[2]


async def test_unknown_data_transfer_vendor(running_system, admin):
    station_id, password = new_station_id(), new_password()
    await register_station(admin, station_id, password)
    async with charge_point(running_system.gateway_url, station_id, password) as cp:
        result = await cp.call(call.DataTransfer(vendor_id="com.example.nobody", data="x"))
    assert result.status == "UnknownVendorId"


async def test_frames_are_kept_as_the_operators_message_log(running_system, admin):
    station_id, password = new_station_id(), new_password()
    await register_station(admin, station_id, password)
    async with charge_point(running_system.gateway_url, station_id, password) as cp:
        await cp.call(call.Heartbeat())

    async def logged():
        response = await admin.get(f"/stations/{station_id}/frames")
        body = response.json()
        assert response.status_code == 200, response.text
        actions = [(f["direction"], f["action"]) for f in body["items"]]
        return actions if ("in", "Heartbeat") in actions and len(actions) >= 2 else None

    actions = await eventually(logged)
    assert ("out", "Heartbeat") in actions or any(d == "out" for d, _ in actions)
