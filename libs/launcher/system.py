"""The processes of a local OpenCPMS and how to start, watch and stop them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import aio_pika
import httpx

from opencpms_db.provision import SERVICES, create_database, provision_service, with_database

DATABASE_SERVICES = SERVICES  # authorization, transactions, billing, admin
# The RPC queues that must have a consumer before the system is ready.
RPC_QUEUES = (
    "rpc.authorization",
    "rpc.authorization.handshake",
    "rpc.transactions",
    "rpc.billing",
)

# The services that may run as several processes here. The admin service serves its API on one
# port; more of it run behind a load balancer (deploy/).
REPLICABLE_SERVICES = ("authorization", "transactions", "billing")


# Database connections a service's processes share here (each process's pool is 20 by default,
# and at least 4 once shared): four services with up to five processes each hold at most 80,
# within PostgreSQL's default max_connections of 100.
CONNECTIONS_PER_SERVICE = 20


def shared_pool_environment(
    service: str, processes: int, environment: dict[str, str]
) -> dict[str, str]:
    """The pool size each of ``processes`` processes of ``service`` gets, unless the
    environment sets one already."""
    key = f"OPENCPMS_{service.upper()}_DB_POOL_SIZE"
    if processes == 1 or key in environment:
        return {}
    return {key: str(max(4, CONNECTIONS_PER_SERVICE // processes))}


def parse_service_processes(specs: list[str]) -> dict[str, int]:
    """``["transactions=2"]`` → ``{"transactions": 2}``; raises ValueError on anything else."""
    counts: dict[str, int] = {}
    for spec in specs:
        service, _, count = spec.partition("=")
        if service not in REPLICABLE_SERVICES:
            raise ValueError(
                f"{service!r}: only {', '.join(REPLICABLE_SERVICES)} run as several processes here"
            )
        if not count.isdigit() or int(count) < 1:
            raise ValueError(f"{spec!r}: give a process count of 1 or more, as in {service}=2")
        counts[service] = int(count)
    return counts


@dataclass
class SystemConfig:
    """Where the system runs. Defaults fit a developer machine with local PostgreSQL and
    RabbitMQ; everything can be set from the environment (see README)."""

    database_admin_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    database_name: str = "opencpms"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    gateway_host: str = "0.0.0.0"
    gateway_port: int = 9000
    admin_host: str = "0.0.0.0"
    admin_port: int = 8000
    admin_api_key: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    gateway_nodes: int = 1
    # Processes per back-end service beyond one each, e.g. {"transactions": 2}: a service is one
    # Python process, so one core at most; its replicas share its queues as competing consumers.
    service_processes: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_environment(cls) -> SystemConfig:
        env = os.environ
        return cls(
            database_admin_url=env.get("OPENCPMS_DB_ADMIN_URL", cls.database_admin_url),
            database_name=env.get("OPENCPMS_DB_NAME", cls.database_name),
            amqp_url=env.get("OPENCPMS_AMQP_URL", cls.amqp_url),
            gateway_port=int(env.get("OPENCPMS_GATEWAY_PORT", cls.gateway_port)),
            admin_port=int(env.get("OPENCPMS_ADMIN_PORT", cls.admin_port)),
        )


@dataclass
class Process:
    name: str
    args: list[str]
    env: dict[str, str]
    handle: asyncio.subprocess.Process | None = None
    pump: asyncio.Task[None] | None = None


class LocalSystem:
    """Start with :meth:`start`, stop with :meth:`stop`; ``output`` receives every line the
    processes print, prefixed with the process name."""

    def __init__(
        self, config: SystemConfig, *, output: Callable[[str], None], python: str = sys.executable
    ) -> None:
        self.config = config
        self._output = output
        self._python = python
        self._passwords = {svc: secrets.token_urlsafe(24) for svc in DATABASE_SERVICES}
        self.processes: list[Process] = []

    # -- URLs ----------------------------------------------------------------------------------

    def database_url(self, service: str) -> str:
        """The service's own role on the system's database."""
        admin = urlsplit(self.config.database_admin_url)
        host = admin.hostname or "127.0.0.1"
        port = admin.port or 5432
        password = quote(self._passwords[service], safe="")
        return (
            f"postgresql+asyncpg://opencpms_{service}:{password}@{host}:{port}/"
            f"{self.config.database_name}"
        )

    def environment(self) -> dict[str, str]:
        env = {
            "OPENCPMS_AMQP_URL": self.config.amqp_url,
            "OPENCPMS_GATEWAY_HOST": self.config.gateway_host,
            "OPENCPMS_GATEWAY_PORT": str(self.config.gateway_port),
            "OPENCPMS_ADMIN_HOST": self.config.admin_host,
            "OPENCPMS_ADMIN_PORT": str(self.config.admin_port),
            "PYTHONUNBUFFERED": "1",
        }
        if self.config.admin_api_key:
            env["OPENCPMS_ADMIN_API_KEY"] = self.config.admin_api_key
        for service in DATABASE_SERVICES:
            env[f"OPENCPMS_{service.upper()}_DATABASE_URL"] = self.database_url(service)
        env.update(self.config.extra_env)
        return env

    # -- lifecycle -----------------------------------------------------------------------------

    async def check_dependencies(self) -> None:
        """Fails with a message a new user can act on when PostgreSQL or RabbitMQ is away."""
        for label, url, default_port in (
            ("PostgreSQL", self.config.database_admin_url, 5432),
            ("RabbitMQ", self.config.amqp_url, 5672),
        ):
            parts = urlsplit(url)
            try:
                with socket.create_connection((parts.hostname, parts.port or default_port), 3):
                    pass
            except OSError as exc:
                raise SystemExit(
                    f"{label} is not reachable at {parts.hostname}:{parts.port or default_port} "
                    f"({exc}). Start it, or point OpenCPMS elsewhere (see README)."
                ) from None

    async def provision(self) -> None:
        await create_database(self.config.database_admin_url, self.config.database_name)
        database = with_database(self.config.database_admin_url, self.config.database_name)
        for service in DATABASE_SERVICES:
            await provision_service(database, service, password=self._passwords[service])

    async def migrate(self) -> None:
        for service in DATABASE_SERVICES:
            process = await asyncio.create_subprocess_exec(
                self._python,
                "-m",
                f"opencpms_{service}",
                "migrate",
                env={**os.environ, **self.environment()},
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            out, _ = await process.communicate()
            if process.returncode != 0:
                raise RuntimeError(f"migrating {service} failed:\n{out.decode(errors='replace')}")
            self._output(f"[{service}] migrated")

    async def start(self, *, timeout: float = 60.0) -> None:
        await self.check_dependencies()
        await self.provision()
        await self.migrate()
        env = {**os.environ, **self.environment()}
        for service in (*REPLICABLE_SERVICES, "admin"):
            count = self.config.service_processes.get(service, 1)
            service_env = {**env, **shared_pool_environment(service, count, env)}
            for n in range(count):
                name = service if n == 0 else f"{service}-{n + 1}"
                self.processes.append(
                    Process(name, [self._python, "-m", f"opencpms_{service}", "run"], service_env)
                )
        for node in range(self.config.gateway_nodes):
            port = self.config.gateway_port + node
            name = "gateway" if self.config.gateway_nodes == 1 else f"gateway-{node + 1}"
            self.processes.append(
                Process(
                    name,
                    [self._python, "-m", "opencpms_gateway", "run"],
                    {
                        **env,
                        "OPENCPMS_GATEWAY_PORT": str(port),
                        "OPENCPMS_GATEWAY_NODE_ID": f"{socket.gethostname()}-{name}",
                    },
                )
            )
        for process in self.processes:
            await self._spawn(process)
        await self.wait_until_ready(timeout)

    async def _spawn(self, process: Process) -> None:
        process.handle = await asyncio.create_subprocess_exec(
            *process.args,
            env=process.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us only; we stop the children in order
        )
        process.pump = asyncio.create_task(self._pump(process))

    async def _pump(self, process: Process) -> None:
        assert process.handle is not None
        assert process.handle.stdout is not None
        async for line in process.handle.stdout:
            self._output(f"[{process.name}] {line.decode(errors='replace').rstrip()}")

    async def wait_until_ready(self, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            await self._wait_for_rpc_consumers()
            for node in range(self.config.gateway_nodes):
                await _wait_for_port("127.0.0.1", self.config.gateway_port + node, self)
            await self._wait_for_admin()

    async def _wait_for_rpc_consumers(self) -> None:
        connection = await aio_pika.connect(self.config.amqp_url)
        try:
            for queue_name in RPC_QUEUES:
                while True:
                    self.raise_if_exited()
                    channel = await connection.channel()
                    try:
                        queue = await channel.declare_queue(queue_name, passive=True)
                        if queue.declaration_result.consumer_count:
                            break
                    except aio_pika.exceptions.ChannelClosed:
                        pass
                    finally:
                        with contextlib.suppress(Exception):
                            await channel.close()
                    await asyncio.sleep(0.2)
        finally:
            await connection.close()

    async def _wait_for_admin(self) -> None:
        url = f"http://127.0.0.1:{self.config.admin_port}/healthz"
        async with httpx.AsyncClient(timeout=2) as client:
            while True:
                self.raise_if_exited()
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(url)).status_code == 200:
                        return
                await asyncio.sleep(0.2)

    def raise_if_exited(self) -> None:
        for process in self.processes:
            if process.handle is not None and process.handle.returncode is not None:
                raise RuntimeError(f"{process.name} exited with code {process.handle.returncode}")

    async def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to every process (gateways first, so stations are told), then SIGKILL to
        whatever is still running after ``timeout``."""
        for group in (
            self._named("gateway"),
            [p for p in self.processes if not p.name.startswith("gateway")],
        ):
            for process in group:
                if process.handle is not None and process.handle.returncode is None:
                    process.handle.send_signal(signal.SIGTERM)
            for process in group:
                if process.handle is None:
                    continue
                try:
                    await asyncio.wait_for(process.handle.wait(), timeout)
                except TimeoutError:
                    process.handle.kill()
                    await process.handle.wait()
                if process.pump is not None:
                    with contextlib.suppress(Exception):
                        await process.pump

    def _named(self, prefix: str) -> list[Process]:
        return [p for p in self.processes if p.name.startswith(prefix)]

    async def stop_process(self, name: str) -> None:
        for process in self.processes:
            if process.name == name and process.handle and process.handle.returncode is None:
                process.handle.send_signal(signal.SIGTERM)
                await process.handle.wait()

    async def restart_process(self, name: str) -> None:
        await self.stop_process(name)
        for process in self.processes:
            if process.name == name:
                await self._spawn(process)


async def _wait_for_port(host: str, port: int, system: LocalSystem) -> None:
    while True:
        system.raise_if_exited()
        try:
            _reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.2)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return


def free_port(*, consecutive: int = 1) -> int:
    """A port that is free now, and so are the ``consecutive - 1`` after it (one per gateway
    node)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            base = int(sock.getsockname()[1])
        if base + consecutive <= 65536 and all(
            _is_free(port) for port in range(base + 1, base + consecutive)
        ):
            return base


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
        return True
