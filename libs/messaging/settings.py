"""Broker settings shared by every service's settings class."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field, SecretStr

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


def amqp_url_field(env_prefix: str) -> Any:
    """The broker URL: ``<PREFIX>AMQP_URL`` for one service, else ``OPENCPMS_AMQP_URL`` for all.

    The default reaches a local RabbitMQ whose ``guest`` user only accepts loopback clients.
    """
    return Field(
        default=SecretStr(DEFAULT_AMQP_URL),
        validation_alias=AliasChoices(f"{env_prefix}AMQP_URL", "OPENCPMS_AMQP_URL"),
        description="RabbitMQ URL (amqp:// or amqps://)",
    )


def queue_type_field(env_prefix: str) -> Any:
    return Field(
        default="quorum",
        pattern="^(quorum|classic)$",
        validation_alias=AliasChoices(f"{env_prefix}QUEUE_TYPE", "OPENCPMS_QUEUE_TYPE"),
        description="Type of durable event queues; quorum survives a broker node loss",
    )
