"""A virtual host of a test's own, for tests whose stand-in services must be the only
consumers of their queues (other tests' services consume the run's shared vhost)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

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
