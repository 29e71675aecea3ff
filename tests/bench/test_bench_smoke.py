"""The benchmark in small (100 stations, 20 s), to keep ``make bench`` and the load simulator
working. It checks that every scenario ran and nothing failed, never how fast it was."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid

import pytest

pytestmark = pytest.mark.e2e


async def test_bench_runs_every_scenario(database_server_url, broker_server_url, tmp_path):
    database = f"opencpms_bench_smoke_{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "OPENCPMS_DB_ADMIN_URL": database_server_url,
        "OPENCPMS_AMQP_URL": broker_server_url,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "opencpms_simulator.bench",
        "--stations",
        "100",
        "--seconds",
        "20",
        "--closed-loop-stations",
        "20",
        "--processes",
        "transactions=2",
        # More than one process of each kind, as a larger deployment runs (the default is one).
        "--gateway-nodes",
        "2",
        "--database",
        database,
        "--json",
        str(tmp_path / "bench.json"),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), 600)
    finally:
        await _drop(database_server_url, database)
    text = out.decode(errors="replace")
    assert process.returncode == 0, text[-3000:]
    results = json.loads((tmp_path / "bench.json").read_text())
    # Two transactions processes shared the work as competing consumers, without an error.
    assert {"transactions", "transactions-2"} <= set(results["processes"])
    scenarios = results["scenarios"]
    assert {name[0] for name in scenarios} == {"a", "b", "d"}
    storm = next(r for name, r in scenarios.items() if name.startswith("a."))
    assert storm["booted"] == 100
    assert storm["errors"] == {}
    # The simulator's own share of the machine, beside the processes under test.
    assert storm["usage"]["simulator"]["cpu_percent"] > 0
    assert storm["usage"]["simulator"]["rss_mib"] > 0
    steady = next(r for name, r in scenarios.items() if name.startswith("b."))
    assert steady["answered"] > 0
    assert steady["errors"] == {}
    assert results["saturation"]["steps"]
    assert results["db_access"]  # the access-path figures
    assert "msg/s" in text  # the table was printed
    assert "by database access path" in text


async def _drop(server_url: str, database: str) -> None:
    import asyncpg

    from opencpms_db.provision import plain_url

    connection = await asyncpg.connect(plain_url(server_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await connection.close()
