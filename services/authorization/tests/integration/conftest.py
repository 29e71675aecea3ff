import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from opencpms_authorization.bootstrap import build
from opencpms_authorization.settings import Settings
from opencpms_db.migrations import upgrade

MIGRATIONS = Path(__file__).parents[2] / "migrations"


@pytest.fixture(scope="session")
async def authorization_service(database_url: str, amqp_url: str) -> AsyncIterator[None]:
    """The authorization service migrated into the run's database and serving on its vhost."""
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url)
    settings = Settings(database_url=database_url, amqp_url=amqp_url)
    service = await build(settings, node_name="authorization-test")
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    yield
    stop.set()
    with contextlib.suppress(asyncio.CancelledError):
        await task
