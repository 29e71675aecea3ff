import asyncio
import os
import sys

import pytest

pytestmark = pytest.mark.integration


async def run_command(*args: str, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "opencpms_billing",
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace")


async def test_check_passes_when_database_and_broker_answer(database_url, amqp_url):
    code, out = await run_command(
        "check",
        env={"OPENCPMS_BILLING_DATABASE_URL": database_url, "OPENCPMS_BILLING_AMQP_URL": amqp_url},
    )
    assert code == 0, out


async def test_check_fails_and_says_why(database_url):
    code, out = await run_command(
        "check",
        env={
            "OPENCPMS_BILLING_DATABASE_URL": database_url,
            # Nothing listens on port 1.
            "OPENCPMS_BILLING_AMQP_URL": "amqp://guest:guest@127.0.0.1:1/",
        },
    )
    assert code == 1
    assert "broker" in out
    assert "database" not in out


async def test_migrate_is_repeatable(database_url):
    for _ in range(2):
        code, out = await run_command(
            "migrate", env={"OPENCPMS_BILLING_DATABASE_URL": database_url}
        )
        assert code == 0, out
