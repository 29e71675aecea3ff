"""Creating each service's database role and schema (ARCHITECTURE §5).

Run once per database by an administrator (``make run`` and the compose file do it)::

    python -m opencpms_db provision --admin-url postgresql://postgres@host/opencpms

Each service gets role ``opencpms_<service>`` that owns schema ``<service>`` and has no rights on
any other schema, so a service physically cannot read another's tables.
"""

from __future__ import annotations

import re

import asyncpg

SERVICES = ("authorization", "transactions", "billing", "admin")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _quote_ident(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"refusing unusual identifier {name!r}")
    return f'"{name}"'


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


async def create_database(admin_url: str, database: str) -> bool:
    """Creates ``database`` if it does not exist; True when it was created."""
    conn = await asyncpg.connect(plain_url(admin_url))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if exists:
            return False
        await conn.execute(f"CREATE DATABASE {_quote_ident(database)}")
        return True
    finally:
        await conn.close()


async def provision_service(
    admin_url: str, service: str, *, role: str | None = None, password: str | None = None
) -> str:
    """Creates (or updates) the service's role and schema; returns the role name."""
    role = role or f"opencpms_{service}"
    conn = await asyncpg.connect(plain_url(admin_url))
    try:
        async with conn.transaction():
            exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
            verb = "ALTER" if exists else "CREATE"
            secret = f" PASSWORD {_quote_literal(password)}" if password else ""
            await conn.execute(f"{verb} ROLE {_quote_ident(role)} LOGIN{secret}")
            await conn.execute(
                f"CREATE SCHEMA IF NOT EXISTS {_quote_ident(service)} "
                f"AUTHORIZATION {_quote_ident(role)}"
            )
            await conn.execute(
                f"ALTER SCHEMA {_quote_ident(service)} OWNER TO {_quote_ident(role)}"
            )
            database = await conn.fetchval("SELECT current_database()")
            await conn.execute(
                f"ALTER ROLE {_quote_ident(role)} IN DATABASE {_quote_ident(database)} "
                f"SET search_path = {_quote_ident(service)}"
            )
            # PostgreSQL < 15 lets every role create objects in public; close that door.
            await conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
            await conn.execute(
                f"GRANT CONNECT, TEMPORARY ON DATABASE {_quote_ident(database)} "
                f"TO {_quote_ident(role)}"
            )
    finally:
        await conn.close()
    return role


def plain_url(url: str) -> str:
    """asyncpg wants ``postgresql://``; accept SQLAlchemy's ``postgresql+asyncpg://`` too."""
    return re.sub(r"^postgresql\+asyncpg://", "postgresql://", url)


def with_database(url: str, database: str) -> str:
    """``url`` pointing at another database on the same server."""
    base, _, query = url.partition("?")
    head, _, _ = base.rpartition("/")
    return f"{head}/{database}" + (f"?{query}" if query else "")
