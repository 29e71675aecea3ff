"""Each service's migration chain builds exactly the tables its code declares: a change to
``tables.py`` without a migration fails here, not in production."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from opencpms_db.engine import create_engine
from opencpms_db.migrations import upgrade
from opencpms_db.testing import temporary_database

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("service", ["authorization", "transactions", "billing", "admin"])
async def test_migrations_build_what_the_tables_declare(service, database_server_url):
    package = importlib.import_module(f"opencpms_{service}")
    metadata = importlib.import_module(f"opencpms_{service}.tables").metadata
    migrations = Path(package.__file__).parent / "migrations"
    async with temporary_database(database_server_url) as url:
        async_url = url.replace("postgresql://", "postgresql+asyncpg://", 1)
        await asyncio.to_thread(upgrade, migrations, async_url)

        def differences(connection: Connection) -> list:
            context = MigrationContext.configure(
                connection,
                opts={
                    "include_schemas": True,
                    "compare_type": True,
                    "include_name": lambda name, type_, parent: (
                        name == metadata.schema
                        if type_ == "schema"
                        else not (type_ == "table" and name == "alembic_version")
                    ),
                },
            )
            return compare_metadata(context, metadata)

        engine = create_engine(async_url, pool_size=1)
        try:
            async with engine.connect() as connection:
                found = await connection.run_sync(differences)
        finally:
            await engine.dispose()
    assert found == []
