"""``python -m opencpms_db provision``: create the database, roles and schemas of OpenCPMS."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from opencpms_db.provision import SERVICES, create_database, provision_service, with_database


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m opencpms_db")
    sub = parser.add_subparsers(dest="command", required=True)
    prov = sub.add_parser(
        "provision",
        help="create the database (if missing) and each service's role and schema",
        description=(
            "Passwords for the roles are read from OPENCPMS_<SERVICE>_DB_PASSWORD (or the file "
            "named by OPENCPMS_<SERVICE>_DB_PASSWORD_FILE); without one the role has no "
            "password, which only suits trust or peer authentication on a development machine."
        ),
    )
    prov.add_argument(
        "--admin-url",
        default=os.environ.get(
            "OPENCPMS_DB_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="a superuser (or CREATEROLE + CREATEDB) URL to the server's maintenance database",
    )
    prov.add_argument("--database", default=os.environ.get("OPENCPMS_DB_NAME", "opencpms"))
    prov.add_argument("--role-prefix", default="opencpms_")
    args = parser.parse_args(argv)
    asyncio.run(_provision(args.admin_url, args.database, args.role_prefix))
    return 0


async def _provision(admin_url: str, database: str, role_prefix: str) -> None:
    if await create_database(admin_url, database):
        print(f"created database {database}")
    database_url = with_database(admin_url, database)
    for service in SERVICES:
        role = await provision_service(
            database_url, service, role=f"{role_prefix}{service}", password=_password(service)
        )
        print(f"role {role} owns schema {service}")


def _password(service: str) -> str | None:
    key = f"OPENCPMS_{service.upper()}_DB_PASSWORD"
    path = os.environ.get(f"{key}_FILE")
    if path:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    return os.environ.get(key) or None


if __name__ == "__main__":
    sys.exit(main())
