"""Every database-owning service's command line, as an operator or a probe runs it:
``migrate`` is repeatable, ``check`` answers 0 when the database and the broker do, 1 and the
reason otherwise."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys

import pytest

pytestmark = pytest.mark.integration

SERVICES = ["authorization", "transactions", "billing", "admin"]


async def run_command(service: str, *args: str, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        f"opencpms_{service}",
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace")


def prefix(service: str) -> str:
    return f"OPENCPMS_{service.upper()}_"


@pytest.fixture(params=SERVICES)
def service(request: pytest.FixtureRequest) -> str:
    if importlib.util.find_spec(f"opencpms_{request.param}.__main__") is None:
        pytest.fail(f"opencpms_{request.param} has no command line")
    return str(request.param)


async def test_migrate_is_repeatable(service, database_url):
    for _ in range(2):
        code, out = await run_command(
            service, "migrate", env={prefix(service) + "DATABASE_URL": database_url}
        )
        assert code == 0, out


async def test_check_passes_when_database_and_broker_answer(service, database_url, amqp_url):
    env = {prefix(service) + "DATABASE_URL": database_url, prefix(service) + "AMQP_URL": amqp_url}
    code, out = await run_command(service, "check", env=env)
    assert code == 0, out


async def test_check_fails_and_says_why(service, database_url):
    env = {
        prefix(service) + "DATABASE_URL": database_url,
        # Nothing listens on port 1.
        prefix(service) + "AMQP_URL": "amqp://guest:guest@127.0.0.1:1/",
    }
    code, out = await run_command(service, "check", env=env)
    assert code == 1
    assert "broker" in out
    assert "database" not in out


async def test_admin_creates_api_keys_on_the_command_line(database_url):
    env = {"OPENCPMS_ADMIN_DATABASE_URL": database_url}
    code, out = await run_command("admin", "migrate", env=env)
    assert code == 0, out
    name = f"cli-{os.getpid()}"
    code, out = await run_command(
        "admin", "create-api-key", "--name", name, "--role", "operator", env=env
    )
    assert code == 0, out
    keys = [line for line in out.splitlines() if line.startswith("ocpms_")]
    assert len(keys) == 1
    code, out = await run_command("admin", "create-api-key", "--name", name, env=env)
    assert code == 1
    assert "exists already" in out
