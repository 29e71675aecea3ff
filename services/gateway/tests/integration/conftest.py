"""A virtual host of a test's own, for tests whose stand-in services must be the only
consumers of their queues (other tests' services consume the run's shared vhost), and gateway
nodes on it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from opencpms_gateway.bootstrap import GatewayNode, build
from opencpms_gateway.settings import Settings
from opencpms_messaging.broker import Broker
from opencpms_messaging.testing import temporary_vhost


@pytest.fixture
async def own_vhost(broker_server_url: str) -> AsyncIterator[str]:
    async with temporary_vhost(broker_server_url) as url:
        yield url


@pytest.fixture
async def own_broker(own_vhost: str) -> AsyncIterator[Broker]:
    opened = await Broker.open(own_vhost, name="gateway-test", source="/tests")
    yield opened
    await opened.close()


StartGateway = Callable[..., Awaitable[GatewayNode]]


@pytest.fixture
async def start_gateway(own_vhost: str) -> AsyncIterator[StartGateway]:
    """Starts gateway nodes on loopback, on the test's own vhost, with settings overridden as
    keyword arguments; closes them at the end of the test."""
    nodes: list[GatewayNode] = []

    async def start(**settings: Any) -> GatewayNode:
        node = await build(
            Settings(
                host="127.0.0.1",
                port=0,
                node_id=f"test-{uuid.uuid4().hex[:6]}",
                amqp_url=own_vhost,
                **settings,
            )
        )
        nodes.append(node)
        return node

    yield start
    for node in nodes:
        await node.close()
