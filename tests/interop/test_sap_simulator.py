"""Issue: interop with a charge point simulator no one here wrote. SAP's simulator runs a
1.6 and a 2.0.1 station (from its own templates) against the whole system; each authorizes,
charges, stops, and its sessions are stored with their energy and priced."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest

from tests.e2e.conftest import ARTIFACTS, eventually
from tests.e2e.stations import create_token, new_password, register_station
from tests.interop.sap_simulator import SapSimulator, StationPlan

pytestmark = pytest.mark.e2e

SIMULATOR = SapSimulator.find()


@pytest.fixture(scope="module")
def simulator() -> SapSimulator:
    if isinstance(SIMULATOR, str):
        pytest.skip(f"SAP simulator not available: {SIMULATOR}")
    return SIMULATOR


async def test_sap_stations_charge_and_are_billed(running_system, admin, simulator, tmp_path):
    suffix = uuid.uuid4().hex[:6]
    plans = [
        StationPlan(
            "virtual-simple.station-template.json",
            f"SAP16-{suffix}",
            new_password(),
            f"S16{suffix}",
        ),
        StationPlan(
            "keba-ocpp2.station-template.json", f"SAP201-{suffix}", new_password(), f"S20{suffix}"
        ),
    ]
    for plan in plans:
        await register_station(admin, plan.station_id, plan.password)
        await create_token(admin, plan.id_tag)
    workdir = simulator.prepare(tmp_path, gateway_url=running_system.gateway_url, stations=plans)
    log_path = ARTIFACTS / f"sap-simulator-{suffix}.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *simulator.command(workdir), cwd=workdir, stdout=log, stderr=log
        )
        try:

            async def billed(station_id: str):
                response = await admin.get("/cdrs", params={"station_id": station_id})
                if response.status_code != 200:  # billing busy: ask again
                    return None
                return [c for c in response.json()["items"] if c["energy_wh"] > 0] or None

            for plan in plans:
                cdrs = await eventually(lambda p=plan: billed(p.station_id), timeout=120)
                assert all(c["id_token"]["value"] == plan.id_tag for c in cdrs)
        finally:
            process.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 10)
            if process.returncode is None:
                process.kill()
                await process.wait()

    for plan, version in zip(plans, ("1.6", "2.0.1"), strict=True):
        station = (await admin.get(f"/stations/{plan.station_id}")).json()
        assert station["ocpp_version"] == version
        assert station["vendor"]
        listed = (
            await admin.get("/transactions", params={"station_id": plan.station_id, "limit": 500})
        ).json()
        ended = [t for t in listed["items"] if t["status"] == "Ended"]
        assert ended, plan.station_id
        detail = (await admin.get(f"/transactions/{ended[-1]['transaction_id']}")).json()
        assert detail["meter_values"], "meter values sent during the session are stored"
        errors = [
            f["raw"]
            for f in (
                await admin.get(f"/stations/{plan.station_id}/frames", params={"limit": 500})
            ).json()["items"]
            if f["message_type"] == 4
        ]
        assert errors == [], f"CALLERRORs exchanged with {plan.station_id}: {errors}"
