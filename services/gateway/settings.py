"""Configuration of a gateway node; built once, in ``__main__``."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from opencpms_messaging.rpc_batch import DEFAULT_MAX_BATCH, DEFAULT_MAX_IN_FLIGHT
from opencpms_messaging.settings import amqp_url_field

ENV_PREFIX = "OPENCPMS_GATEWAY_"


def _default_node_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", populate_by_name=True)

    host: str = "0.0.0.0"
    port: int = Field(default=9000, ge=0, le=65535)
    node_id: str = Field(
        default_factory=_default_node_id,
        description="Names this node on the broker; unique per process",
    )
    amqp_url: SecretStr = amqp_url_field(ENV_PREFIX)
    rpc_timeout_s: float = Field(
        default=10.0, gt=0, description="How long a station's request may wait on a service"
    )
    # Calls of one operation share broker messages once this many are out (natural batching):
    # an idle system sends each call alone, a loaded one amortises the per-message cost.
    rpc_max_in_flight: int = Field(
        default=DEFAULT_MAX_IN_FLIGHT,
        ge=1,
        description="Broker messages of one RPC operation out at once before calls are batched",
    )
    rpc_max_batch: int = Field(
        default=DEFAULT_MAX_BATCH, ge=1, description="Calls in one RPC message at most; 1: none"
    )
    authorization_reuse_s: float = Field(
        default=30.0,
        ge=0,
        description="How long the answer to a station's Authorize also answers its next "
        "transaction message with that token, once; 0: the authorization service is asked "
        "every time",
    )
    frame_log: bool = Field(
        default=True, description="Publish every frame to the message log (station.frames)"
    )
    frame_log_wait_s: float = Field(
        default=0.25,
        gt=0,
        description="How long a frame waits for others to share its station.frames message "
        "(at most 1,000 frames or 1 MiB of them)",
    )
    max_frame_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Dead peers are found within ping_interval + ping_timeout (ARCHITECTURE §2: about 90 s).
    ping_interval_s: float = Field(default=60.0, gt=0)
    ping_timeout_s: float = Field(default=30.0, gt=0)
    max_queued_calls: int = Field(
        default=8,
        ge=1,
        description="CALLs a station may send before its previous ones are answered; beyond "
        "this the connection is closed as abusive (OCPP-J allows one outstanding CALL)",
    )
    # After an outage thousands of stations connect within a second; asyncio's default backlog
    # of 100 pending connections drops the rest, and each dropped station waits out TCP's SYN
    # retransmission (1 s, 3 s, 7 s...). The kernel caps it at net.core.somaxconn.
    listen_backlog: int = Field(default=4096, ge=1)
    # Admission control (admission.py): beyond this many stations starting at once, a handshake
    # is answered 503 with Retry-After, so that a reconnect storm is let in at the pace the
    # services boot it instead of timing out and coming back.
    max_starting: int = Field(
        default=200,
        ge=1,
        description="Stations that may be starting at once on this node (handshake to first "
        "answered CALL); beyond this, handshakes get 503 with Retry-After",
    )
    admission_wait_s: float = Field(
        default=5.0,
        ge=0,
        description="How long a handshake may wait for a place among the starting stations "
        "before it is answered 503 (0: at once); at most 5 x max_starting wait",
    )
    start_grace_s: float = Field(
        default=10.0,
        gt=0,
        description="A connected station that sends no CALL within this stops counting as starting",
    )
    open_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="How long a websocket opening handshake (credentials check included) may take",
    )
    # TLS (OCPP security profiles 2 and 3). Without a certificate the gateway speaks plain ws,
    # which only suits a TLS-terminating load balancer in front or a development machine.
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_key_password: SecretStr | None = None
    tls_client_ca_file: Path | None = Field(
        default=None,
        description="CA bundle for station client certificates (security profile 3)",
    )
