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
    # Station passwords are 16-40 characters (OCPP security whitepaper) that the operator's
    # tooling generates, so a costly hash buys little against guessing but caps reconnect
    # storms: at 8 MiB a verify cost 3.6 ms of CPU here, 36 s for 10,000 stations after an
    # outage; at 1 MiB it costs 0.4 ms. Older hashes are upgraded at their next login.
    argon2_time_cost: int = Field(default=1, ge=1)
    argon2_memory_kib: int = Field(default=1024, ge=1024)
    # Requests in flight per queue: a request spends most of its time waiting on a database
    # round trip, so more in flight keeps the process busy in a reconnect storm.
    rpc_prefetch: int = Field(default=256, ge=1)
    db_pool_size: int = Field(default=20, ge=1)
