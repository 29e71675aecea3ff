"""The station read model, fed by real events through the real broker: late and repeated
events never undo newer state."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from opencpms_admin import read_model
from opencpms_contracts import stations as ev
from opencpms_contracts.common import RegistrationStatus
from opencpms_db.unit_of_work import DriverUnitOfWork

pytestmark = pytest.mark.integration

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
async def station(broker, admin_service, api, eventually) -> str:
    """A registered station, as authorization would announce it."""
    return await registered_station(broker, api, eventually)


async def registered_station(broker, api, eventually) -> str:
    station_id = f"RM-{uuid.uuid4().hex[:8]}"
    await broker.publisher.publish(
        ev.StationRegistered(
            station_id=station_id,
            registration_status=RegistrationStatus.ACCEPTED,
            registered_at=at(0),
        ),
        subject=station_id,
    )

    async def listed():
        return (await api.get(f"/stations/{station_id}")).status_code == 200

    await eventually(listed)
    return station_id


def heartbeat_frame(station_id: str, n: int, *, seconds: float) -> ev.StationFrame:
    """The ``n``-th Heartbeat CALL a station sent, ``seconds`` after T0 by its clock."""
    return ev.StationFrame(
        station_id=station_id,
        connection_id="c1",
        direction="in",
        message_type=2,
        message_id=str(n),
        action="Heartbeat",
        raw=f'[2,"{n}","Heartbeat",{{}}]',
        at=at(seconds),
    )


async def publish(broker, event, **kwargs) -> None:
    await broker.publisher.publish(event, subject=event.station_id, **kwargs)


async def state_of(api, station_id: str) -> dict:
    response = await api.get(f"/stations/{station_id}")
    assert response.status_code == 200, response.text
    return response.json()


def connection(station_id: str, connection_id: str, connected_s: float):
    return {
        "station_id": station_id,
        "connection_id": connection_id,
        "node_id": "node-a",
        "connected_at": at(connected_s),
    }


async def test_a_late_connect_of_an_older_connection_does_not_revive_it(
    broker, api, station, eventually
):
    await publish(broker, ev.StationConnected(**connection(station, "new", 20), ocpp_version="1.6"))

    async def connected():
        return (await state_of(api, station))["connected"]

    await eventually(connected)
    # The older connection's close and open arrive after the newer connection.
    await publish(
        broker, ev.StationDisconnected(**connection(station, "old", 10), disconnected_at=at(21))
    )
    await publish(broker, ev.StationConnected(**connection(station, "old", 10), ocpp_version="1.6"))
    # A marker event behind them: once it shows, the two before it were applied.
    await publish(broker, ev.StationHeartbeat(station_id=station, connection_id="new", at=at(60)))

    async def heartbeat_seen():
        body = await state_of(api, station)
        return body if body["last_seen"].startswith("2026-05-01T12:01:00") else None

    body = await eventually(heartbeat_seen)
    assert body["connected"] is True
    assert body["connected_at"].startswith("2026-05-01T12:00:20")

    await publish(
        broker, ev.StationDisconnected(**connection(station, "new", 20), disconnected_at=at(70))
    )

    async def disconnected():
        return not (await state_of(api, station))["connected"]

    await eventually(disconnected)


async def test_a_disconnect_that_overtakes_its_connect_leaves_the_station_offline(
    broker, api, station, eventually
):
    await publish(
        broker, ev.StationDisconnected(**connection(station, "c1", 5), disconnected_at=at(6))
    )
    await publish(broker, ev.StationConnected(**connection(station, "c1", 5), ocpp_version="2.0.1"))
    await publish(broker, ev.StationHeartbeat(station_id=station, connection_id="c1", at=at(30)))

    async def settled():
        body = await state_of(api, station)
        return (
            body
            if body["last_seen"] and body["last_seen"].startswith("2026-05-01T12:00:30")
            else None
        )

    body = await eventually(settled)
    assert body["connected"] is False


async def test_an_older_connector_status_never_overwrites_a_newer_one(
    broker, api, station, eventually
):
    def status(ocpp_status: str, seconds: float, status: str = "Occupied"):
        return ev.ConnectorStatusChanged(
            station_id=station,
            evse_id=1,
            connector_id=1,
            status=status,
            ocpp_status=ocpp_status,
            timestamp=at(seconds),
        )

    await publish(broker, status("Charging", 20))
    await publish(broker, status("Preparing", 10))
    await publish(
        broker,
        ev.ConnectorStatusChanged(
            station_id=station,
            evse_id=2,
            connector_id=1,
            status="Faulted",
            ocpp_status="Faulted",
            error_code="GroundFailure",
            timestamp=at(15),
        ),
    )

    async def both():
        connectors = (await state_of(api, station))["connectors"]
        return connectors if len(connectors) == 2 else None

    connectors = await eventually(both)
    assert [(c["evse_id"], c["ocpp_status"]) for c in connectors] == [
        (1, "Charging"),
        (2, "Faulted"),
    ]
    assert connectors[1]["error_code"] == "GroundFailure"


async def test_the_message_log_keeps_the_last_frames_once_each(
    broker, api, station, eventually, admin_service
):
    limit = admin_service.settings.frame_limit
    ids = [str(uuid.uuid4()) for _ in range(limit + 3)]
    for n, event_id in enumerate(ids):
        frame = heartbeat_frame(station, n, seconds=n)
        await publish(broker, frame, event_id=event_id)
        if n == 0:
            await publish(broker, frame, event_id=event_id)  # a redelivery

    async def all_in():
        body = (await api.get(f"/stations/{station}/frames")).json()
        return body if body["items"] and body["items"][0]["message_id"] == str(limit + 2) else None

    body = await eventually(all_in)
    assert body["total"] == limit
    assert [f["message_id"] for f in body["items"]] == [str(n) for n in range(limit + 2, 2, -1)]


async def test_a_batch_of_frames_is_logged_per_station(broker, api, station, eventually):
    other = f"RM-{uuid.uuid4().hex[:8]}"
    frames = [
        ev.StationFrame(
            station_id=station_id,
            connection_id="c1",
            direction=direction,
            message_type=2 if direction == "in" else 3,
            message_id=str(n),
            action="Heartbeat",
            raw=f'[2,"{n}","Heartbeat",{{}}]' if direction == "in" else f'[3,"{n}",{{}}]',
            at=at(100 + n),
        )
        for n, (station_id, direction) in enumerate(
            [(station, "in"), (other, "in"), (station, "out"), (other, "out")]
        )
    ]
    batch = ev.StationFrames(node_id="node-a", frames=frames)
    event_id = str(uuid.uuid4())
    for _ in range(2):  # the second is a redelivery, which must not fail the batch
        await broker.publisher.publish(batch, subject="node-a", event_id=event_id)

    async def both():
        body = (await api.get(f"/stations/{station}/frames")).json()
        return body if body["total"] == 2 else None

    body = await eventually(both)
    assert [(f["direction"], f["message_id"]) for f in body["items"]] == [("out", "2"), ("in", "0")]
    # A station is heard by its incoming frames; the other one is not registered, so only
    # the registered station's last_seen moves, and an older batch never moves it back.
    assert (await state_of(api, station))["last_seen"].startswith("2026-05-01T12:01:40")
    older = ev.StationFrames(node_id="node-a", frames=[frames[0].model_copy(update={"at": at(1)})])
    await broker.publisher.publish(older, subject="node-a")

    async def older_applied():
        frames_now = (await api.get(f"/stations/{station}/frames")).json()
        return frames_now["total"] == 3

    await eventually(older_applied)
    assert (await state_of(api, station))["last_seen"].startswith("2026-05-01T12:01:40")


async def test_boot_identity_and_device_model_show_on_the_station(broker, api, station, eventually):
    await publish(
        broker,
        ev.StationBooted(
            station_id=station,
            ocpp_version="2.0.1",
            identity=ev.StationIdentity(
                vendor="ACME", model="W22", serial_number="SN-1", firmware_version="1.2.3"
            ),
            status=RegistrationStatus.ACCEPTED,
            interval_s=300,
            booted_at=at(1),
        ),
    )
    variable = ev.ReportedVariable(
        component="OCPPCommCtrlr",
        variable="HeartbeatInterval",
        attributes=[{"type": "Actual", "value": "300"}],
    )
    await publish(
        broker,
        ev.DeviceModelReported(
            station_id=station,
            request_id=1,
            seq_no=0,
            to_be_continued=False,
            generated_at=at(2),
            variables=[variable],
        ),
    )

    async def reported():
        body = (await api.get(f"/stations/{station}/device-model")).json()
        return body["items"] or None

    items = await eventually(reported)
    assert items[0]["variable"] == "HeartbeatInterval"
    assert items[0]["attributes"] == [{"type": "Actual", "value": "300"}]
    body = await state_of(api, station)
    assert (body["vendor"], body["model"], body["serial_number"], body["firmware_version"]) == (
        "ACME",
        "W22",
        "SN-1",
        "1.2.3",
    )
    assert body["ocpp_version"] == "2.0.1"


async def test_a_deleted_station_is_gone_and_a_late_registration_does_not_revive_it(
    broker, api, station, eventually
):
    await publish(broker, ev.StationDeleted(station_id=station, deleted_at=at(50)))

    async def gone():
        return (await api.get(f"/stations/{station}")).status_code == 404

    # 404 once the read model has it; authorization (not running here) is not asked then.
    await eventually(gone)
    await publish(
        broker,
        ev.StationUpdated(
            station_id=station, registration_status=RegistrationStatus.ACCEPTED, updated_at=at(40)
        ),
    )
    listed = (await api.get("/stations", params={"q": station})).json()
    assert listed["total"] == 0


async def test_filters_narrow_the_station_list(broker, api, station, eventually):
    await publish(broker, ev.StationConnected(**connection(station, "f1", 1), ocpp_version="2.1"))

    async def online():
        listed = (await api.get("/stations", params={"q": station, "connected": True})).json()
        return listed["total"] == 1

    await eventually(online)
    other = (await api.get("/stations", params={"q": station, "ocpp_version": "1.6"})).json()
    assert other["total"] == 0


async def test_an_older_firmware_or_log_upload_status_never_overwrites_a_newer_one(
    broker, api, station, eventually
):
    await publish(
        broker,
        ev.FirmwareStatusChanged(station_id=station, status="Installed", request_id=7, at=at(20)),
    )
    await publish(
        broker,
        ev.FirmwareStatusChanged(station_id=station, status="Downloading", request_id=7, at=at(10)),
    )
    await publish(
        broker, ev.LogUploadStatusChanged(station_id=station, status="Uploaded", at=at(5))
    )
    await publish(
        broker, ev.LogUploadStatusChanged(station_id=station, status="Uploading", at=at(3))
    )
    # A marker event behind them: once it shows, the ones before it were applied.
    await publish(broker, ev.StationConnected(**connection(station, "m1", 61), ocpp_version="1.6"))

    async def marker_seen():
        body = await state_of(api, station)
        return body if body["connected"] else None

    body = await eventually(marker_seen)
    assert (body["firmware_status"], body["firmware_status_at"][:19]) == (
        "Installed",
        "2026-05-01T12:00:20",
    )
    assert (body["log_upload_status"], body["log_upload_status_at"][:19]) == (
        "Uploaded",
        "2026-05-01T12:00:05",
    )


async def test_stations_over_their_limit_in_one_batch_keep_their_newest_frames(
    broker, api, station, eventually, admin_service
):
    # Two stations due for a trim in the same write: each keeps its own newest frames by the
    # station's time, whatever order they arrived in.
    other = await registered_station(broker, api, eventually)
    limit = admin_service.settings.frame_limit
    count = limit + 3
    frames = [heartbeat_frame(station, n, seconds=200 + n) for n in range(count)]
    # The other station's first frame to arrive is its newest.
    frames += [heartbeat_frame(other, n, seconds=300 - n) for n in range(count)]
    await broker.publisher.publish(
        ev.StationFrames(node_id="node-a", frames=frames), subject="node-a"
    )

    async def listed_ids(station_id: str) -> list[str] | None:
        body = (await api.get(f"/stations/{station_id}/frames")).json()
        return [f["message_id"] for f in body["items"]] if body["total"] == limit else None

    assert await eventually(lambda: listed_ids(station)) == [
        str(n) for n in range(count - 1, count - 1 - limit, -1)
    ]
    assert await eventually(lambda: listed_ids(other)) == [str(n) for n in range(limit)]


async def test_statuses_of_one_connector_in_one_write_leave_the_newest(admin_service, api, station):
    def row(ocpp_status: str, seconds: float) -> dict[str, object]:
        return {
            "station_id": station,
            "evse_id": 1,
            "connector_id": 1,
            "status": "Occupied",
            "ocpp_status": ocpp_status,
            "error_code": None,
            "info": None,
            "vendor_error_code": None,
            "changed_at": at(seconds),
        }

    one_write = [row("Preparing", 10), row("Charging", 30), row("Finishing", 20)]
    for rows in (one_write, [row("Older", 5)]):
        async with DriverUnitOfWork(admin_service.engine, None) as work:
            await read_model.apply_connector_statuses(work.connection, rows)
            await work.commit()
    connectors = (await state_of(api, station))["connectors"]
    assert [(c["evse_id"], c["ocpp_status"]) for c in connectors] == [(1, "Charging")]
