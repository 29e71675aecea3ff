"""The whole system, started as separate processes on the run's own database and vhost, for
real OCPP charge point clients to talk to over real websockets."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from opencpms_db.testing import temporary_database
from opencpms_launcher.system import LocalSystem, SystemConfig, free_port
from opencpms_messaging.broker import Broker
from opencpms_messaging.testing import temporary_vhost

ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "e2e"


class RunningSystem:
    def __init__(self, system: LocalSystem, api_key: str) -> None:
        self.system = system
        self.api_key = api_key
        config = system.config
        self.gateway_urls = [
            f"ws://127.0.0.1:{config.gateway_port + n}/ocpp" for n in range(config.gateway_nodes)
        ]
        self.gateway_url = self.gateway_urls[0]
        self.admin_url = f"http://127.0.0.1:{config.admin_port}"


@pytest.fixture(scope="session")
async def system_amqp_url(broker_server_url: str) -> AsyncIterator[str]:
    """A virtual host of the system's own: services that other tests run in-process on the
    run's vhost would otherwise compete for the system's queues."""
    async with temporary_vhost(broker_server_url) as url:
        yield url


@pytest.fixture(scope="session")
async def running_system(
    database_server_url: str, system_amqp_url: str
) -> AsyncIterator[RunningSystem]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = (ARTIFACTS / "system.log").open("w", encoding="utf-8")
    api_key = "ocpms_" + secrets.token_urlsafe(32)
    async with temporary_database(database_server_url) as database_url:
        config = SystemConfig(
            database_admin_url=database_server_url,
            database_name=database_url.rsplit("/", 1)[1],
            amqp_url=system_amqp_url,
            gateway_host="127.0.0.1",
            gateway_port=free_port(),
            admin_host="127.0.0.1",
            admin_port=free_port(),
            admin_api_key=api_key,
            gateway_nodes=2,
        )
        # Two gateway nodes need two consecutive free ports.
        while True:
            try:
                config.gateway_port = free_port()
                _check_free(config.gateway_port + 1)
                break
            except OSError:
                continue
        system = LocalSystem(config, output=lambda line: (log.write(line + "\n"), log.flush()))
        try:
            await system.start(timeout=90)
            yield RunningSystem(system, api_key)
        finally:
            await system.stop()
            log.close()


def _check_free(port: int) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


@pytest.fixture(scope="session")
async def admin(running_system: RunningSystem) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=running_system.admin_url + "/api/v1",
        headers={"Authorization": f"Bearer {running_system.api_key}"},
        timeout=30,
    ) as client:
        yield client


@pytest.fixture(scope="session")
async def events_broker(system_amqp_url: str) -> AsyncIterator[Broker]:
    """A subscriber of our own, as a billing system would be."""
    broker = await Broker.open(system_amqp_url, name="e2e-subscriber", source="/tests/e2e")
    yield broker
    await broker.close()


async def eventually(check, *, timeout: float = 20.0, interval: float = 0.2):
    """Polls ``check`` (an async callable) until it returns a truthy value or the deadline."""
    async with asyncio.timeout(timeout):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(interval)
