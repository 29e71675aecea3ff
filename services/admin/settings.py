"""Configuration of the admin service; built once, in ``__main__``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from opencpms_db.settings import database_url_field
from opencpms_messaging.settings import amqp_url_field, queue_type_field

ENV_PREFIX = "OPENCPMS_ADMIN_"
# An operator-chosen key shorter than this is refused: it would be guessable.
MIN_API_KEY_LENGTH = 24


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", populate_by_name=True)

    database_url: SecretStr = database_url_field(ENV_PREFIX, "admin")
    amqp_url: SecretStr = amqp_url_field(ENV_PREFIX)
    queue_type: str = queue_type_field(ENV_PREFIX)
    host: str = "0.0.0.0"
    port: int = Field(default=8000, ge=1, le=65535)
    api_key: SecretStr | None = Field(
        default=None,
        description="A bootstrap key with the admin role, kept in the environment only. Without "
        "it, keys are created with `python -m opencpms_admin create-api-key`; there is no "
        "default key.",
    )
    tls_certfile: Path | None = Field(default=None, description="Serve HTTPS with this chain")
    tls_keyfile: Path | None = None
    session_hours: float = Field(
        default=12, gt=0, description="How long a web UI sign-in lasts before signing in again"
    )
    secure_cookies: bool | None = Field(
        default=None,
        description="Mark the session cookie Secure; by default when the request came over "
        "HTTPS (directly or per X-Forwarded-Proto from a trusted proxy)",
    )
    rpc_timeout_s: float = Field(
        default=10.0, gt=0, description="How long a call to another service may take"
    )
    frame_limit: int = Field(
        default=200, ge=0, description="OCPP frames kept per station for the message log"
    )
    # Events in flight; they are written in shared transactions, so more in flight means
    # fewer, larger transactions when the events come fast.
    event_prefetch: int = Field(default=256, ge=1)
    # The read model is off the stations' path (their answers never wait for it), so a batch
    # can wait for more events to share its transaction.
    event_write_wait_s: float = Field(
        default=0.25,
        ge=0,
        description="How long an event's read-model or message-log write waits for others to "
        "share its transaction",
    )
    delivery_limit: int = Field(default=5, ge=1)
    db_pool_size: int = Field(default=20, ge=1)

    @model_validator(mode="after")
    def _check(self) -> Settings:
        key = self.api_key.get_secret_value() if self.api_key is not None else None
        if key is not None and len(key) < MIN_API_KEY_LENGTH:
            raise ValueError(
                f"{ENV_PREFIX}API_KEY must be at least {MIN_API_KEY_LENGTH} characters"
            )
        if (self.tls_certfile is None) != (self.tls_keyfile is None):
            raise ValueError(f"set both {ENV_PREFIX}TLS_CERTFILE and {ENV_PREFIX}TLS_KEYFILE")
        return self
