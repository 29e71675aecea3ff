"""Running a service's own Alembic chain, with its version table in its own schema.

A service's ``migrations/env.py`` is two lines: import the service's ``metadata`` and call
:func:`run_env`. ``python -m opencpms_<service> migrate`` calls :func:`upgrade`.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from opencpms_db.engine import create_engine


def alembic_config(migrations_dir: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    # Kept out of the ini parser: a URL with a '%' in its password would break interpolation.
    config.attributes["database_url"] = url
    return config


def upgrade(migrations_dir: Path, url: str, revision: str = "head") -> None:
    """Applies the chain in ``migrations_dir`` up to ``revision``. Blocking; call it before the
    service's event loop starts (or in a thread)."""
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    command.upgrade(alembic_config(migrations_dir, url), revision)


def downgrade(migrations_dir: Path, url: str, revision: str) -> None:
    command.downgrade(alembic_config(migrations_dir, url), revision)


def run_env(metadata: MetaData) -> None:
    """The body of every service's ``env.py``."""
    schema = metadata.schema
    if schema is None:
        raise ValueError("service metadata must name its schema")
    url = context.config.attributes["database_url"]

    def migrate(connection: Connection) -> None:
        # The provisioned role owns its schema already (and may not create schemas, not even
        # with IF NOT EXISTS); with one superuser for everything this creates it.
        exists = connection.execute(
            text("SELECT 1 FROM pg_namespace WHERE nspname = :schema"), {"schema": schema}
        ).first()
        if exists is None:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=False,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(migrate)
        finally:
            await engine.dispose()

    asyncio.run(run())
