"""Configuration of the authorization service; built once, in ``__main__``."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from opencpms_db.settings import database_url_field
from opencpms_messaging.settings import amqp_url_field

ENV_PREFIX = "OPENCPMS_AUTHORIZATION_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", populate_by_name=True)

    database_url: SecretStr = database_url_field(ENV_PREFIX, "authorization")
    amqp_url: SecretStr = amqp_url_field(ENV_PREFIX)
    heartbeat_interval_s: int = Field(
        default=300, ge=10, description="Interval sent to Accepted stations in BootNotification"
    )
    pending_retry_s: int = Field(
        default=60, ge=5, description="When a Pending or Rejected station should boot again"
    )
    # Station passwords are 16-40 random characters (OCPP security whitepaper), so a costly
    # hash buys nothing against guessing but would cap reconnect storms; these are argon2id's
    # parameters for high-entropy machine secrets.
    argon2_time_cost: int = Field(default=1, ge=1)
    argon2_memory_kib: int = Field(default=8192, ge=1024)
    rpc_prefetch: int = Field(default=64, ge=1)
    db_pool_size: int = Field(default=10, ge=1)
