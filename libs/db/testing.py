"""Test helpers: a PostgreSQL server to test against, a throwaway database per test run, so
runs never see each other's rows, and a throwaway outbox table."""

from __future__ import annotations

import asyncio
import os
import socket
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import asyncpg
from sqlalchemy import MetaData, Table, text
from sqlalchemy.ext.asyncio import AsyncEngine

from opencpms_db.engine import create_engine
from opencpms_db.outbox import outbox_table
from opencpms_db.provision import plain_url, with_database

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def database_server() -> Iterator[str]:
    """A URL of a role that may create databases.

    ``OPENCPMS_TEST_DATABASE_URL`` if set; else the local server when it answers; else a
    PostgreSQL container when a Docker engine is reachable (testcontainers).
    """
    url = os.environ.get("OPENCPMS_TEST_DATABASE_URL")
    if url or _reachable(DEFAULT_SERVER_URL):
        yield url or DEFAULT_SERVER_URL
        return
    from testcontainers.core.container import DockerContainer

    with (
        DockerContainer("postgres:16")
        .with_env("POSTGRES_PASSWORD", "test")
        .with_exposed_ports(5432) as container
    ):
        host = container.get_container_host_ip()
        port = container.get_exposed_port(5432)
        url = f"postgresql://postgres:test@{host}:{port}/postgres"
        asyncio.run(_wait_for_server(url))
        yield url


@asynccontextmanager
async def temporary_database(server_url: str) -> AsyncIterator[str]:
    """Creates an empty database and yields its URL (``postgresql://``); drops it afterwards."""
    server_url = plain_url(server_url)
    name = f"opencpms_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield with_database(server_url, name)
    finally:
        conn = await asyncpg.connect(server_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


def _reachable(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), 2):
            return True
    except OSError:
        return False


async def _wait_for_server(url: str, timeout: float = 60.0) -> None:
    async with asyncio.timeout(timeout):
        while True:
            try:
                conn = await asyncpg.connect(url)
            except (OSError, asyncpg.PostgresError):
                await asyncio.sleep(0.5)
            else:
                await conn.close()
                return


@asynccontextmanager
async def outbox_in_schema(
    database_url: str, schema: str
) -> AsyncIterator[tuple[AsyncEngine, Table]]:
    """An engine and an outbox table of its own in ``schema``, made anew and dropped after."""
    engine = create_engine(database_url, pool_size=2)
    table = outbox_table(MetaData(schema=schema))
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            await conn.execute(text(f"CREATE SCHEMA {schema}"))
            await conn.run_sync(table.create)
        yield engine, table
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    finally:
        await engine.dispose()
