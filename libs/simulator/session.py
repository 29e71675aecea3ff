"""One complete charging session, as a real station runs it, printed step by step: the
quickstart's way of seeing OpenCPMS work."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201

from opencpms_simulator.connection import station_socket


@dataclass(frozen=True)
class SessionPlan:
    url: str
    station_id: str
    password: str
    id_tag: str
    version: str = "1.6"
    connector: int = 1
    meter_start_wh: int = 1000
    energy_wh: int = 7400
    meter_values: int = 3
    interval_s: float = 1.0


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


async def run_session(plan: SessionPlan, say: Callable[[str], None]) -> None:
    async with station_socket(plan.url, plan.station_id, plan.password, plan.version) as socket:
        say(f"connected to {plan.url}/{plan.station_id} speaking {socket.subprotocol}")
        if plan.version == "1.6":
            cp16 = ChargePoint16(plan.station_id, socket)
            await _with_receiver(cp16, _session_16(cp16, plan, say))
        else:
            cp201 = ChargePoint201(plan.station_id, socket)
            await _with_receiver(cp201, _session_201(cp201, plan, say))
    say("disconnected")


async def _with_receiver(cp: Any, scenario: Any) -> None:
    receiver = asyncio.create_task(cp.start())
    try:
        await scenario
    finally:
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await receiver


async def _session_16(cp: ChargePoint16, plan: SessionPlan, say: Callable[[str], None]) -> None:
    boot = await cp.call(
        call16.BootNotification(charge_point_vendor="OpenCPMS", charge_point_model="opencpms-sim")
    )
    say(f"BootNotification -> {boot.status}, heartbeat every {boot.interval} s")
    await cp.call(
        call16.StatusNotification(
            connector_id=plan.connector, error_code="NoError", status="Preparing"
        )
    )
    authorized = await cp.call(call16.Authorize(id_tag=plan.id_tag))
    say(f"Authorize {plan.id_tag} -> {authorized.id_tag_info['status']}")
    start = await cp.call(
        call16.StartTransaction(
            connector_id=plan.connector,
            id_tag=plan.id_tag,
            meter_start=plan.meter_start_wh,
            timestamp=_now(),
        )
    )
    say(f"StartTransaction -> transaction {start.transaction_id}, {start.id_tag_info['status']}")
    meter = plan.meter_start_wh
    for step in range(1, plan.meter_values + 1):
        await asyncio.sleep(plan.interval_s)
        meter = plan.meter_start_wh + plan.energy_wh * step // (plan.meter_values + 1)
        await cp.call(
            call16.MeterValues(
                connector_id=plan.connector,
                transaction_id=start.transaction_id,
                meter_value=[
                    {
                        "timestamp": _now(),
                        "sampledValue": [
                            {
                                "value": str(meter),
                                "measurand": "Energy.Active.Import.Register",
                                "unit": "Wh",
                            }
                        ],
                    }
                ],
            )
        )
        say(f"MeterValues {meter} Wh")
    stop = plan.meter_start_wh + plan.energy_wh
    await cp.call(
        call16.StopTransaction(
            meter_stop=stop,
            timestamp=_now(),
            transaction_id=start.transaction_id,
            reason="Local",
            id_tag=plan.id_tag,
        )
    )
    say(f"StopTransaction at {stop} Wh ({plan.energy_wh} Wh charged)")
    await cp.call(
        call16.StatusNotification(
            connector_id=plan.connector, error_code="NoError", status="Available"
        )
    )


async def _session_201(cp: ChargePoint201, plan: SessionPlan, say: Callable[[str], None]) -> None:
    boot = await cp.call(
        call201.BootNotification(
            charging_station={"model": "opencpms-sim", "vendor_name": "OpenCPMS"}, reason="PowerUp"
        )
    )
    say(f"BootNotification -> {boot.status}, heartbeat every {boot.interval} s")
    await cp.call(
        call201.StatusNotification(
            timestamp=_now(), connector_status="Occupied", evse_id=plan.connector, connector_id=1
        )
    )
    token = {"id_token": plan.id_tag, "type": "ISO14443"}
    authorized = await cp.call(call201.Authorize(id_token=token))
    say(f"Authorize {plan.id_tag} -> {authorized.id_token_info['status']}")
    transaction_id = str(uuid.uuid4())
    seq = 0

    def energy(wh: int, context: str) -> list[dict[str, Any]]:
        return [
            {
                "timestamp": _now(),
                "sampled_value": [
                    {"value": wh, "measurand": "Energy.Active.Import.Register", "context": context}
                ],
            }
        ]

    started = await cp.call(
        call201.TransactionEvent(
            event_type="Started",
            timestamp=_now(),
            trigger_reason="Authorized",
            seq_no=seq,
            transaction_info={"transaction_id": transaction_id, "charging_state": "Charging"},
            evse={"id": plan.connector, "connector_id": 1},
            id_token=token,
            meter_value=energy(plan.meter_start_wh, "Transaction.Begin"),
        )
    )
    say(
        f"TransactionEvent Started {transaction_id} -> "
        f"{(started.id_token_info or {}).get('status')}"
    )
    for step in range(1, plan.meter_values + 1):
        await asyncio.sleep(plan.interval_s)
        seq += 1
        meter = plan.meter_start_wh + plan.energy_wh * step // (plan.meter_values + 1)
        await cp.call(
            call201.TransactionEvent(
                event_type="Updated",
                timestamp=_now(),
                trigger_reason="MeterValuePeriodic",
                seq_no=seq,
                transaction_info={"transaction_id": transaction_id},
                meter_value=energy(meter, "Sample.Periodic"),
            )
        )
        say(f"TransactionEvent Updated {meter} Wh")
    seq += 1
    stop = plan.meter_start_wh + plan.energy_wh
    await cp.call(
        call201.TransactionEvent(
            event_type="Ended",
            timestamp=_now(),
            trigger_reason="StopAuthorized",
            seq_no=seq,
            transaction_info={"transaction_id": transaction_id, "stopped_reason": "Local"},
            meter_value=energy(stop, "Transaction.End"),
        )
    )
    say(f"TransactionEvent Ended at {stop} Wh ({plan.energy_wh} Wh charged)")
    await cp.call(
        call201.StatusNotification(
            timestamp=_now(), connector_status="Available", evse_id=plan.connector, connector_id=1
        )
    )
