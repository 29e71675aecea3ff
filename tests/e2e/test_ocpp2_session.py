"""Issue: OCPP 2.0.1 and 2.1 charge points through the same services as 1.6 ones, producing the
same version-neutral events; seqNo replays and offline queues handled."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from ocpp.v16 import call as call16
from ocpp.v21 import call as call21
from ocpp.v201 import call as call201

from opencpms_contracts.billing import CdrCreated
from opencpms_contracts.transactions import (
    TransactionEnded,
    TransactionStarted,
    TransactionUpdated,
)
from tests.e2e.conftest import eventually
from tests.e2e.stations import (
    charge_point,
    create_token,
    new_password,
    new_station_id,
    register_station,
)

pytestmark = pytest.mark.e2e

CALLS = {"2.0.1": call201, "2.1": call21}
TARIFF = {
    "currency": "EUR",
    "price_per_kwh": "0.35",
    "price_per_minute": "0.02",
    "price_per_session": "0.50",
    "tax_rate": "0.19",
}
READINGS = ((10, 4000), (20, 8000), (30, 11000))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def energy(moment: datetime, wh: int, context: str = "Sample.Periodic") -> list[dict[str, Any]]:
    return [
        {
            "timestamp": iso(moment),
            "sampled_value": [
                {
                    "value": wh,
                    "measurand": "Energy.Active.Import.Register",
                    "context": context,
                    "unit_of_measure": {"unit": "Wh"},
                },
                {
                    "value": 11.0,
                    "measurand": "Power.Active.Import",
                    "unit_of_measure": {"unit": "kW"},
                },
            ],
        }
    ]


class StationEvents:
    """The transaction and CDR events of one station, in arrival order."""

    def __init__(self) -> None:
        self.by_station: dict[str, list[Any]] = {}
        self.arrived = asyncio.Condition()

    async def record(self, event: Any, _envelope: Any) -> None:
        async with self.arrived:
            self.by_station.setdefault(event_station(event), []).append(event)
            self.arrived.notify_all()

    async def wait_for_cdr(self, station_id: str, timeout: float = 30) -> list[Any]:
        async with asyncio.timeout(timeout), self.arrived:
            await self.arrived.wait_for(
                lambda: any(isinstance(e, CdrCreated) for e in self.by_station.get(station_id, []))
            )
        return self.by_station[station_id]


def event_station(event: Any) -> str:
    return event.cdr.station_id if isinstance(event, CdrCreated) else event.station_id


@pytest.fixture(scope="module")
async def station_events(events_broker):
    events = StationEvents()
    consumer = await events_broker.event_consumer(
        f"e2e.ocpp2.{uuid.uuid4().hex[:8]}", queue_type="classic"
    )
    for model in (TransactionStarted, TransactionUpdated, TransactionEnded, CdrCreated):
        consumer.on(model, events.record)
    await consumer.start()
    return events


@pytest.fixture(scope="module")
async def tariff(admin):
    assert (await admin.put("/tariffs/default", json=TARIFF)).status_code == 200


async def session_16(cp, tag: str, started: datetime) -> None:
    await cp.call(call16.BootNotification(charge_point_vendor="ACME", charge_point_model="W"))
    start = await cp.call(
        call16.StartTransaction(
            connector_id=1, id_tag=tag, meter_start=1000, timestamp=iso(started)
        )
    )
    for minute, wh in READINGS:
        moment = started + timedelta(minutes=minute)
        await cp.call(
            call16.MeterValues(
                connector_id=1,
                transaction_id=start.transaction_id,
                meter_value=[
                    {
                        "timestamp": iso(moment),
                        "sampled_value": [
                            {"value": str(wh), "measurand": "Energy.Active.Import.Register"},
                            {"value": "11", "measurand": "Power.Active.Import", "unit": "kW"},
                        ],
                    }
                ],
            )
        )
    await cp.call(
        call16.StopTransaction(
            meter_stop=15321,
            timestamp=iso(started + timedelta(minutes=47, seconds=30)),
            transaction_id=start.transaction_id,
            reason="EVDisconnected",
            id_tag=tag,
        )
    )


async def session_2(cp, version: str, tag: str, started: datetime, tx_id: str) -> None:
    call = CALLS[version]
    boot = await cp.call(
        call.BootNotification(
            charging_station={"model": "W", "vendor_name": "ACME", "firmware_version": "2.0"},
            reason="PowerUp",
        )
    )
    assert boot.status == "Accepted"
    token = {"id_token": tag, "type": "ISO14443"}
    authorized = await cp.call(call.Authorize(id_token=token))
    assert authorized.id_token_info["status"] == "Accepted"
    started_event = await cp.call(
        call.TransactionEvent(
            event_type="Started",
            timestamp=iso(started),
            trigger_reason="Authorized",
            seq_no=0,
            transaction_info={"transaction_id": tx_id, "charging_state": "Charging"},
            evse={"id": 1, "connector_id": 1},
            id_token=token,
            meter_value=energy(started, 1000, "Transaction.Begin"),
        )
    )
    assert started_event.id_token_info["status"] == "Accepted"
    for seq, (minute, wh) in enumerate(READINGS, start=1):
        await cp.call(
            call.TransactionEvent(
                event_type="Updated",
                timestamp=iso(started + timedelta(minutes=minute)),
                trigger_reason="MeterValuePeriodic",
                seq_no=seq,
                transaction_info={"transaction_id": tx_id},
                meter_value=energy(started + timedelta(minutes=minute), wh),
            )
        )
    ended = started + timedelta(minutes=47, seconds=30)
    await cp.call(
        call.TransactionEvent(
            event_type="Ended",
            timestamp=iso(ended),
            trigger_reason="EVCommunicationLost",
            seq_no=len(READINGS) + 1,
            transaction_info={"transaction_id": tx_id, "stopped_reason": "EVDisconnected"},
            id_token=token,
            meter_value=energy(ended, 15321, "Transaction.End"),
        )
    )


# Optional fields that only some OCPP versions report (1.6 has no charging state).
VERSION_SPECIFIC = {"charging_state"}


def shape(events: list[Any]) -> list[tuple[str, Any]]:
    """What must be the same whatever the station's OCPP version: the event types in order,
    their fields, and the amounts."""
    result: list[tuple[str, Any]] = []
    for event in events:
        if isinstance(event, CdrCreated):
            cdr = event.cdr
            result.append(("cdr.created", (cdr.energy_wh, cdr.duration_s, str(cdr.total_incl_tax))))
        else:
            present = sorted(
                k
                for k, v in event.model_dump().items()
                if v not in (None, [], {}) and k not in VERSION_SPECIFIC
            )
            energy_wh = getattr(event, "energy_wh", None)
            result.append((event.event_type, (present, energy_wh)))
    return result


async def test_sessions_in_every_version_produce_the_same_events(
    running_system, admin, station_events, tariff
):
    # Billing prices a session with the tariff in force when it ended; this one ends after the
    # tariff set above took effect.
    started = datetime.now(UTC).replace(microsecond=0)
    shapes = {}
    for version in ("1.6", "2.0.1", "2.1"):
        station_id, password = new_station_id(f"V{version.replace('.', '')}"), new_password()
        tag = f"T{uuid.uuid4().hex[:8]}"
        await register_station(admin, station_id, password)
        await create_token(admin, tag)
        async with charge_point(
            running_system.gateway_url, station_id, password, version=version
        ) as cp:
            if version == "1.6":
                await session_16(cp, tag, started)
            else:
                await session_2(cp, version, tag, started, str(uuid.uuid4()))
        events = await station_events.wait_for_cdr(station_id)
        shapes[version] = shape(events)
        cdr = events[-1].cdr
        assert cdr.total_incl_tax == Decimal("7.69"), version
        station = (await admin.get(f"/stations/{station_id}")).json()
        assert station["ocpp_version"] == version
        assert station["vendor"] == "ACME"
    assert shapes["2.0.1"] == shapes["1.6"]
    assert shapes["2.1"] == shapes["1.6"]
    assert [kind for kind, _ in shapes["1.6"]] == [
        "transaction.started",
        "transaction.updated",
        "transaction.updated",
        "transaction.updated",
        "transaction.ended",
        "cdr.created",
    ]


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
async def test_replayed_seq_no_changes_nothing(running_system, admin, station_events, version):
    station_id, password, tag = new_station_id("SEQ"), new_password(), f"S{uuid.uuid4().hex[:8]}"
    await register_station(admin, station_id, password)
    await create_token(admin, tag)
    call = CALLS[version]
    tx_id, started = str(uuid.uuid4()), datetime.now(UTC).replace(microsecond=0)
    async with charge_point(
        running_system.gateway_url, station_id, password, version=version
    ) as cp:
        await cp.call(
            call.TransactionEvent(
                event_type="Started",
                timestamp=iso(started),
                trigger_reason="Authorized",
                seq_no=0,
                transaction_info={"transaction_id": tx_id},
                evse={"id": 1, "connector_id": 1},
                id_token={"id_token": tag, "type": "ISO14443"},
                meter_value=energy(started, 500, "Transaction.Begin"),
            )
        )
        update = {
            "event_type": "Updated",
            "trigger_reason": "MeterValuePeriodic",
            "seq_no": 1,
            "transaction_info": {"transaction_id": tx_id},
        }
        moment = started + timedelta(minutes=5)
        await cp.call(
            call.TransactionEvent(timestamp=iso(moment), **update, meter_value=energy(moment, 2500))
        )
        # The same seqNo again, even with other readings, is a retry: nothing changes.
        later = started + timedelta(minutes=9)
        await cp.call(
            call.TransactionEvent(timestamp=iso(later), **update, meter_value=energy(later, 9999))
        )

    async def stored():
        listed = (await admin.get("/transactions", params={"station_id": station_id})).json()
        return listed["items"] if listed["total"] == 1 else None

    [summary] = await eventually(stored)
    detail = (await admin.get(f"/transactions/{summary['transaction_id']}")).json()
    assert detail["energy_wh"] == 2000
    registers = [
        Decimal(s["value"])
        for mv in detail["meter_values"]
        for s in mv["samples"]
        if s["measurand"] == "Energy.Active.Import.Register"
    ]
    assert Decimal(9999) not in registers
    assert Decimal(2500) in registers
    updates = [
        e
        for e in station_events.by_station.get(station_id, [])
        if isinstance(e, TransactionUpdated)
    ]
    assert len(updates) == 1


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
async def test_offline_queue_after_reconnect_is_stored_in_order(
    running_system, admin, station_events, tariff, version
):
    station_id, password, tag = new_station_id("OFF"), new_password(), f"O{uuid.uuid4().hex[:8]}"
    await register_station(admin, station_id, password)
    await create_token(admin, tag)
    call = CALLS[version]
    tx_id = str(uuid.uuid4())
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    url = running_system.gateway_url
    async with charge_point(url, station_id, password, version=version) as cp:
        await cp.call(
            call.TransactionEvent(
                event_type="Started",
                timestamp=iso(started),
                trigger_reason="Authorized",
                seq_no=0,
                transaction_info={"transaction_id": tx_id},
                evse={"id": 1, "connector_id": 1},
                id_token={"id_token": tag, "type": "ISO14443"},
                meter_value=energy(started, 1000, "Transaction.Begin"),
            )
        )
    # Offline for a while; on reconnect the station delivers its queue, oldest first.
    async with charge_point(url, station_id, password, version=version) as cp:
        for seq, (minute, wh) in enumerate(READINGS, start=1):
            moment = started + timedelta(minutes=minute)
            await cp.call(
                call.TransactionEvent(
                    event_type="Updated",
                    timestamp=iso(moment),
                    trigger_reason="MeterValuePeriodic",
                    seq_no=seq,
                    offline=True,
                    transaction_info={"transaction_id": tx_id},
                    meter_value=energy(moment, wh),
                )
            )
        ended = started + timedelta(minutes=47, seconds=30)
        await cp.call(
            call.TransactionEvent(
                event_type="Ended",
                timestamp=iso(ended),
                trigger_reason="EVCommunicationLost",
                seq_no=len(READINGS) + 1,
                offline=True,
                transaction_info={"transaction_id": tx_id, "stopped_reason": "EVDisconnected"},
                meter_value=energy(ended, 15321, "Transaction.End"),
            )
        )
    events = await station_events.wait_for_cdr(station_id)
    assert [e.event_type for e in events if not isinstance(e, CdrCreated)] == [
        "transaction.started",
        "transaction.updated",
        "transaction.updated",
        "transaction.updated",
        "transaction.ended",
    ]
    # The session ended two hours ago, before the tariff fixture changed the tariff: it is
    # priced with the tariff in force then, the one seeded from the settings (0.30 EUR/kWh,
    # 19 % tax): 14.321 kWh -> 4.30 + 0.82 tax.
    cdr = events[-1].cdr
    assert cdr.tariff.price_per_kwh == Decimal("0.30")
    assert cdr.total_incl_tax == Decimal("5.12")
    listed = (await admin.get("/transactions", params={"station_id": station_id})).json()
    detail = (await admin.get(f"/transactions/{listed['items'][0]['transaction_id']}")).json()
    assert detail["status"] == "Ended"
    times = [mv["timestamp"] for mv in detail["meter_values"]]
    assert times == sorted(times)
    assert len(times) == len(READINGS) + 2


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
async def test_device_model_report_shows_on_the_station(running_system, admin, version):
    station_id, password = new_station_id("DM"), new_password()
    await register_station(admin, station_id, password)
    call = CALLS[version]
    async with charge_point(
        running_system.gateway_url, station_id, password, version=version
    ) as cp:
        await cp.call(
            call.BootNotification(
                charging_station={"model": "W", "vendor_name": "ACME", "serial_number": "S-9"},
                reason="PowerUp",
            )
        )
        await cp.call(
            call.NotifyReport(
                request_id=7,
                generated_at=iso(datetime.now(UTC)),
                seq_no=0,
                tbc=False,
                report_data=[
                    {
                        "component": {"name": "EVSE", "evse": {"id": 1}},
                        "variable": {"name": "Power"},
                        "variable_attribute": [{"type": "MaxSet", "value": "22000"}],
                        "variable_characteristics": {
                            "data_type": "decimal",
                            "unit": "W",
                            "supports_monitoring": False,
                        },
                    }
                ],
            )
        )

    async def reported():
        body = (await admin.get(f"/stations/{station_id}/device-model")).json()
        return body["items"] or None

    items = await eventually(reported)
    assert (items[0]["component"], items[0]["evse_id"], items[0]["variable"]) == (
        "EVSE",
        1,
        "Power",
    )
    assert items[0]["attributes"][0]["value"] == "22000"
    station = (await admin.get(f"/stations/{station_id}")).json()
    assert station["serial_number"] == "S-9"
