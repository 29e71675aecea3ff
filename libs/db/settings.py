"""Database settings shared by every service's settings class."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field, SecretStr


def database_url_field(env_prefix: str, service: str) -> Any:
    """The service's own database URL, connecting as the service's own role.

    The default reaches a local PostgreSQL with trust authentication as role ``opencpms_<service>``
    (created by ``opencpms-db provision``); production sets ``<PREFIX>DATABASE_URL`` with a
    password, or ``<PREFIX>DATABASE_URL_FILE`` pointing at a secret file.
    """
    return Field(
        default=SecretStr(f"postgresql+asyncpg://opencpms_{service}@127.0.0.1:5432/opencpms"),
        validation_alias=AliasChoices(f"{env_prefix}DATABASE_URL"),
        description=f"PostgreSQL URL for the {service} role",
    )
