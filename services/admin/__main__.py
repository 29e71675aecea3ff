"""``python -m opencpms_admin run|migrate|check|create-api-key|create-user``: the only place
settings are built."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from opencpms_admin.domain import Role
from opencpms_admin.settings import Settings
from opencpms_messaging.runtime import (
    configure_logging,
    probe_exit_status,
    run_until_signalled,
)

MIGRATIONS = Path(__file__).parent / "migrations"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m opencpms_admin")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="serve the admin API")
    commands.add_parser("migrate", help="apply the database migrations")
    commands.add_parser("check", help="exit 0 when the database and the broker answer")
    create_key = commands.add_parser(
        "create-api-key", help="create an API key and print it (the only time it is shown)"
    )
    create_key.add_argument("--name", required=True, help="who or what uses the key")
    create_key.add_argument("--role", choices=[r.value for r in Role], default=Role.ADMIN.value)
    create_user = commands.add_parser(
        "create-user",
        help="create a web UI user; the password is asked for, or read from standard input",
    )
    create_user.add_argument("--username", required=True)
    create_user.add_argument("--role", choices=[r.value for r in Role], default=Role.ADMIN.value)
    create_user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    args = parser.parse_args(argv)
    configure_logging()
    settings = Settings()
    if args.command == "check":
        from opencpms_db.health import database_problem
        from opencpms_messaging.health import broker_problem

        # The database (SELECT 1) and the broker, each within 10 s.
        return asyncio.run(
            probe_exit_status(
                database_problem(settings.database_url.get_secret_value(), timeout=10.0),
                broker_problem(settings.amqp_url.get_secret_value(), timeout=10.0),
            )
        )
    if args.command == "migrate":
        from opencpms_db.migrations import upgrade

        upgrade(MIGRATIONS, settings.database_url.get_secret_value())
        return 0
    if args.command == "create-api-key":
        return asyncio.run(_create_api_key(settings, args.name, Role(args.role)))
    if args.command == "create-user":
        password = _read_password(from_stdin=args.password_stdin)
        return asyncio.run(_create_user(settings, args.username, password, Role(args.role)))

    from opencpms_admin.bootstrap import build

    async def serve(stop: asyncio.Event) -> None:
        service = await build(settings)
        await service.run(stop)

    run_until_signalled(serve)
    return 0


async def _create_api_key(settings: Settings, name: str, role: Role) -> int:
    from opencpms_admin import handlers
    from opencpms_admin.clock import utc_now
    from opencpms_admin.errors import ApiKeyNameTakenError
    from opencpms_db.engine import create_engine, session_factory
    from opencpms_db.unit_of_work import UnitOfWork

    engine = create_engine(settings.database_url.get_secret_value(), pool_size=1)
    sessions = session_factory(engine)
    try:
        issued = await handlers.create_api_key(
            name,
            role,
            created_by="command line",
            uow=lambda: UnitOfWork(sessions, None),
            clock=utc_now,
        )
    except ApiKeyNameTakenError as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    print(f"API key {issued.name!r} ({issued.role}), id {issued.key_id}:", file=sys.stderr)
    print(issued.key)
    print("It is shown only now; send it as 'Authorization: Bearer <key>'.", file=sys.stderr)
    return 0


def _read_password(*, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    password = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != password:
        raise SystemExit("the passwords differ")
    return password


async def _create_user(settings: Settings, username: str, password: str, role: Role) -> int:
    from opencpms_admin import users
    from opencpms_admin.clock import utc_now
    from opencpms_db.engine import create_engine, session_factory
    from opencpms_db.unit_of_work import UnitOfWork

    engine = create_engine(settings.database_url.get_secret_value(), pool_size=1)
    sessions = session_factory(engine)
    try:
        await users.create_user(
            username, password, role, uow=lambda: UnitOfWork(sessions, None), clock=utc_now
        )
    except (users.UsernameTakenError, users.WeakPasswordError) as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    print(f"user {username!r} ({role}) created; sign in at /ui/login", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
