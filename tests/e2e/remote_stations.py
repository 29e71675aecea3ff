"""``ocpp`` charge points that do what an operator asks: a remote start begins a real
transaction, a remote stop ends it. As real stations do, they answer the request first and
then send the transaction messages."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201

METER_START_WH = 2000
METER_STOP_WH = 9500  # 7.5 kWh charged


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class RemoteStation16(ChargePoint16):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.transaction_id: int | None = None
        self.started = asyncio.Event()
        self.stopped = asyncio.Event()

    @on(Action16.remote_start_transaction)
    def accept_start(self, id_tag: str, **_: Any) -> result16.RemoteStartTransaction:
        return result16.RemoteStartTransaction(status="Accepted")

    @after(Action16.remote_start_transaction)
    async def begin_transaction(
        self, id_tag: str, connector_id: int | None = None, **_: Any
    ) -> None:
        result = await self.call(
            call16.StartTransaction(
                connector_id=connector_id or 1,
                id_tag=id_tag,
                meter_start=METER_START_WH,
                timestamp=now(),
            )
        )
        self.transaction_id = result.transaction_id
        # Two readings while charging, for the transaction's chart.
        for step in (1, 2):
            await self.call(
                call16.MeterValues(
                    connector_id=connector_id or 1,
                    transaction_id=result.transaction_id,
                    meter_value=[
                        {
                            "timestamp": now(),
                            "sampled_value": [
                                {
                                    "value": str(METER_START_WH + step * 2500),
                                    "measurand": "Energy.Active.Import.Register",
                                    "unit": "Wh",
                                },
                                {
                                    "value": str(11000 - step * 1000),
                                    "measurand": "Power.Active.Import",
                                    "unit": "W",
                                },
                            ],
                        }
                    ],
                )
            )
        self.started.set()

    @on(Action16.remote_stop_transaction)
    def accept_stop(self, transaction_id: int) -> result16.RemoteStopTransaction:
        known = transaction_id == self.transaction_id
        return result16.RemoteStopTransaction(status="Accepted" if known else "Rejected")

    @after(Action16.remote_stop_transaction)
    async def end_transaction(self, transaction_id: int) -> None:
        if transaction_id != self.transaction_id:
            return
        await self.call(
            call16.StopTransaction(
                meter_stop=METER_STOP_WH,
                timestamp=now(),
                transaction_id=transaction_id,
                reason="Remote",
            )
        )
        self.stopped.set()


class RemoteStation201(ChargePoint201):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.transaction_id: str | None = None
        self.started = asyncio.Event()
        self.stopped = asyncio.Event()

    @on(Action201.request_start_transaction)
    def accept_start(self, id_token: dict, remote_start_id: int, **_: Any):  # type: ignore[no-untyped-def]
        self.transaction_id = str(uuid.uuid4())
        return result201.RequestStartTransaction(status="Accepted")

    @after(Action201.request_start_transaction)
    async def begin_transaction(
        self, id_token: dict, remote_start_id: int, evse_id: int | None = None, **_: Any
    ) -> None:
        await self.call(
            call201.TransactionEvent(
                event_type="Started",
                timestamp=now(),
                trigger_reason="RemoteStart",
                seq_no=0,
                transaction_info={
                    "transaction_id": self.transaction_id,
                    "remote_start_id": remote_start_id,
                    "charging_state": "Charging",
                },
                evse={"id": evse_id or 1, "connector_id": 1},
                id_token=id_token,
                meter_value=[_energy(METER_START_WH, "Transaction.Begin")],
            )
        )
        self.started.set()

    @on(Action201.request_stop_transaction)
    def accept_stop(self, transaction_id: str, **_: Any):  # type: ignore[no-untyped-def]
        known = transaction_id == self.transaction_id
        return result201.RequestStopTransaction(status="Accepted" if known else "Rejected")

    @after(Action201.request_stop_transaction)
    async def end_transaction(self, transaction_id: str, **_: Any) -> None:
        if transaction_id != self.transaction_id:
            return
        await self.call(
            call201.TransactionEvent(
                event_type="Ended",
                timestamp=now(),
                trigger_reason="RemoteStop",
                seq_no=1,
                transaction_info={"transaction_id": transaction_id, "stopped_reason": "Remote"},
                meter_value=[_energy(METER_STOP_WH, "Transaction.End")],
            )
        )
        self.stopped.set()


def _energy(wh: int, context: str) -> dict[str, Any]:
    return {
        "timestamp": now(),
        "sampled_value": [
            {"value": wh, "measurand": "Energy.Active.Import.Register", "context": context}
        ],
    }


REMOTE_STATIONS = {"1.6": RemoteStation16, "2.0.1": RemoteStation201}
