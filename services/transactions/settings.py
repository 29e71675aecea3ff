"""Configuration of the transactions service; built once, in ``__main__``."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from opencpms_db.settings import database_url_field
from opencpms_messaging.settings import amqp_url_field

ENV_PREFIX = "OPENCPMS_TRANSACTIONS_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", populate_by_name=True)

    database_url: SecretStr = database_url_field(ENV_PREFIX, "transactions")
    amqp_url: SecretStr = amqp_url_field(ENV_PREFIX)
    rpc_prefetch: int = Field(
        default=128, ge=1, description="Station messages handled concurrently by one replica"
    )
    db_pool_size: int = Field(default=20, ge=1)
