"""The simulated fleet's credentials: read from a file, or registered through the admin API
(and then written to the file, so the next run reuses them)."""

from __future__ import annotations

import asyncio
import csv
import json
import secrets
from collections.abc import Callable
from pathlib import Path

import httpx

from opencpms_simulator.load import Credential


def read_credentials(path: Path) -> list[Credential]:
    """JSON (``[{"station_id": ..., "password": ...}]``) or CSV (``station_id,password``)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return [Credential(item["station_id"], item["password"]) for item in json.loads(text)]
    rows = [row for row in csv.reader(text.splitlines()) if row and not row[0].startswith("#")]
    if rows and rows[0][0] == "station_id":
        rows = rows[1:]
    return [Credential(row[0].strip(), row[1].strip()) for row in rows]


def write_credentials(path: Path, credentials: list[Credential]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps([{"station_id": c.station_id, "password": c.password} for c in credentials]),
        encoding="utf-8",
    )
    path.chmod(0o600)


async def provision(
    admin_url: str,
    api_key: str,
    *,
    prefix: str,
    count: int,
    id_tag: str,
    known: list[Credential] | None = None,
    concurrency: int = 16,
    progress: Callable[[str], None] | None = None,
) -> list[Credential]:
    """``count`` stations named ``<prefix>-00001``... registered with random passwords, and
    the id tag they charge with. Stations already in ``known`` are kept as they are."""
    have = {c.station_id: c for c in known or []}
    wanted = [f"{prefix}-{n:05d}" for n in range(1, count + 1)]
    fleet: list[Credential] = []
    slots = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(
        base_url=admin_url.rstrip("/") + "/api/v1", headers=headers, timeout=60
    ) as admin:
        token = await admin.post("/id-tokens", json={"value": id_tag})
        if token.status_code not in (201, 409):
            raise RuntimeError(f"creating id tag {id_tag}: {token.status_code} {token.text}")

        async def register(station_id: str) -> Credential:
            if station_id in have:
                return have[station_id]
            password = secrets.token_urlsafe(18)
            async with slots:
                response = await admin.post(
                    "/stations", json={"station_id": station_id, "password": password}
                )
                if response.status_code == 409:  # registered before, password unknown: reset
                    response = await admin.patch(
                        f"/stations/{station_id}", json={"password": password}
                    )
                if response.status_code not in (200, 201):
                    raise RuntimeError(
                        f"registering {station_id}: {response.status_code} {response.text}"
                    )
            return Credential(station_id, password)

        for start in range(0, len(wanted), 500):
            fleet += await asyncio.gather(*(register(s) for s in wanted[start : start + 500]))
            if progress is not None:
                progress(f"provisioned {len(fleet)}/{count} stations")
    return fleet
