import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from opencpms_admin.bootstrap import AdminService, build
from opencpms_admin.settings import Settings
from opencpms_db.migrations import upgrade

MIGRATIONS = Path(__file__).parents[2] / "migrations"
FRAME_LIMIT = 5


@pytest.fixture(scope="session")
def bootstrap_key() -> str:
    return "ocpms_" + secrets.token_urlsafe(32)


@pytest.fixture(scope="session")
async def admin_service(
    database_url: str, amqp_url: str, bootstrap_key: str
) -> AsyncIterator[AdminService]:
    """The admin service migrated into the run's database, consuming the run's vhost; its
    HTTP API is called in-process."""
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url)
    settings = Settings.model_validate(
        {
            "database_url": database_url,
            "amqp_url": amqp_url,
            "api_key": bootstrap_key,
            "frame_limit": FRAME_LIMIT,
            "rpc_timeout_s": 2,
        }
    )
    service = await build(settings, node_name="admin-test")
    yield service
    await service.close()


@pytest.fixture
def client_for(admin_service: AdminService):
    """Makes an API client that sends ``key`` (or no key at all)."""
    return lambda key: _client(admin_service, key)


def _client(service: AdminService, key: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=service.app),
        base_url="http://admin.test/api/v1",
        headers=headers,
    )


@pytest.fixture
async def api(admin_service: AdminService, bootstrap_key: str) -> AsyncIterator[httpx.AsyncClient]:
    """The API as the bootstrap (admin) key's holder."""
    async with _client(admin_service, bootstrap_key) as client:
        yield client


@pytest.fixture
def eventually():
    return _eventually


async def _eventually(check, *, timeout: float = 10.0, interval: float = 0.05):
    """Polls ``check`` (an async callable) until it returns a truthy value or the deadline."""
    async with asyncio.timeout(timeout):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(interval)
