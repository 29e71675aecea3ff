"""Fixtures shared by every test: the real PostgreSQL and RabbitMQ, isolated per test run.

Each run gets its own database and its own RabbitMQ virtual host, created here and removed at
the end, so concurrent runs (and a developer's ``make run``) never see each other's data.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from opencpms_db.testing import database_server, temporary_database
from opencpms_messaging.broker import Broker
from opencpms_messaging.rpc import RpcClient
from opencpms_messaging.testing import broker_server, temporary_vhost


@pytest.fixture(scope="session")
def database_server_url() -> Iterator[str]:
    with database_server() as url:
        yield url


@pytest.fixture(scope="session")
async def database_url(database_server_url: str) -> AsyncIterator[str]:
    """A fresh database for this test run, as a SQLAlchemy asyncpg URL (superuser)."""
    async with temporary_database(database_server_url) as url:
        yield url.replace("postgresql://", "postgresql+asyncpg://", 1)


@pytest.fixture(scope="session")
def broker_server_url() -> Iterator[str]:
    with broker_server() as url:
        yield url


@pytest.fixture(scope="session")
async def amqp_url(broker_server_url: str) -> AsyncIterator[str]:
    """A fresh RabbitMQ virtual host for this test run."""
    async with temporary_vhost(broker_server_url) as url:
        yield url


@pytest.fixture(scope="session")
async def broker(amqp_url: str) -> AsyncIterator[Broker]:
    """The test's own broker connection, as a caller or subscriber of the services."""
    opened = await Broker.open(amqp_url, name="pytest", source="/opencpms/tests")
    yield opened
    await opened.close()


@pytest.fixture(scope="session")
async def rpc(broker: Broker) -> RpcClient:
    return await broker.rpc_client()
