"""Test helpers: a throwaway RabbitMQ virtual host per test run, so exchanges and queues of
concurrent runs never meet."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from opencpms_messaging.settings import DEFAULT_AMQP_URL


@contextmanager
def broker_server() -> Iterator[str]:
    """An AMQP URL of a user that may use any vhost.

    ``OPENCPMS_TEST_AMQP_URL`` if set; else the local RabbitMQ when it answers; else a RabbitMQ
    container when a Docker engine is reachable (testcontainers), whose management API then
    creates the per-run vhosts.
    """
    url = os.environ.get("OPENCPMS_TEST_AMQP_URL")
    if url or _reachable(DEFAULT_AMQP_URL):
        yield url or DEFAULT_AMQP_URL
        return
    from testcontainers.core.container import DockerContainer

    with DockerContainer("rabbitmq:3.13-management").with_exposed_ports(5672, 15672) as container:
        host = container.get_container_host_ip()
        url = f"amqp://guest:guest@{host}:{container.get_exposed_port(5672)}/"
        api = f"http://guest:guest@{host}:{container.get_exposed_port(15672)}"
        os.environ["OPENCPMS_TEST_RABBITMQ_API"] = api
        _wait_for_api(api)
        yield url


def with_vhost(url: str, vhost: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + urllib.parse.quote(vhost, safe="")))


@asynccontextmanager
async def temporary_vhost(url: str) -> AsyncIterator[str]:
    """Creates a virtual host and yields a URL for it; deletes it (and all it held) afterwards.

    Uses the management HTTP API when ``OPENCPMS_TEST_RABBITMQ_API`` names it (a broker in a
    container), else ``rabbitmqctl`` on this machine.
    """
    vhost = f"opencpms-test-{uuid.uuid4().hex[:12]}"
    user = urllib.parse.urlsplit(url).username or "guest"
    await asyncio.to_thread(_create_vhost, vhost, user)
    try:
        yield with_vhost(url, vhost)
    finally:
        await asyncio.to_thread(_delete_vhost, vhost)


async def close_connections(url: str) -> None:
    """Closes every client connection to the virtual host of ``url``, as a broker restart or a
    network failure would; robust clients then reconnect."""
    await asyncio.to_thread(
        _close_connections, urllib.parse.unquote(urllib.parse.urlsplit(url).path[1:])
    )


def _close_connections(vhost: str) -> None:
    api = os.environ.get("OPENCPMS_TEST_RABBITMQ_API")
    if api:
        quoted = urllib.parse.quote(vhost, safe="")
        for connection in _api(api, "GET", f"/api/vhosts/{quoted}/connections", None):
            name = urllib.parse.quote(connection["name"], safe="")
            _api(api, "DELETE", f"/api/connections/{name}", None)
        return
    _rabbitmqctl("close_all_connections", "-p", vhost, "closed by a test")


def _create_vhost(vhost: str, user: str) -> None:
    api = os.environ.get("OPENCPMS_TEST_RABBITMQ_API")
    if api:
        _api(api, "PUT", f"/api/vhosts/{urllib.parse.quote(vhost, safe='')}", {})
        _api(
            api,
            "PUT",
            f"/api/permissions/{urllib.parse.quote(vhost, safe='')}/{user}",
            {"configure": ".*", "write": ".*", "read": ".*"},
        )
        return
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")


def _delete_vhost(vhost: str) -> None:
    api = os.environ.get("OPENCPMS_TEST_RABBITMQ_API")
    if api:
        _api(api, "DELETE", f"/api/vhosts/{urllib.parse.quote(vhost, safe='')}", None)
        return
    _rabbitmqctl("delete_vhost", vhost)


def _rabbitmqctl(*args: str) -> None:
    exe = shutil.which("rabbitmqctl")
    if exe is None:
        raise RuntimeError(
            "cannot create a test vhost: no rabbitmqctl here; set OPENCPMS_TEST_RABBITMQ_API "
            "to the broker's management API (http://user:pass@host:15672)"
        )
    subprocess.run([exe, "-q", *args], check=True, capture_output=True, timeout=60)  # noqa: S603


def _api(api: str, method: str, path: str, body: object | None) -> Any:
    parts = urllib.parse.urlsplit(api)
    netloc = (parts.hostname or "127.0.0.1") + (f":{parts.port}" if parts.port else "")
    base = f"{parts.scheme}://{netloc}"
    request = urllib.request.Request(  # noqa: S310 - the URL is the operator's own setting
        base.rstrip("/") + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    credentials = f"{parts.username or 'guest'}:{parts.password or 'guest'}".encode()
    request.add_header("authorization", "Basic " + base64.b64encode(credentials).decode())
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        content = response.read()
    return json.loads(content) if content else None


def _reachable(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672), 2):
            return True
    except OSError:
        return False


def _wait_for_api(api: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _api(api, "GET", "/api/overview", None)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
