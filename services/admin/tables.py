"""The tables of schema ``admin``; nobody else reads them.

Besides the service's own data (API keys, the audit log) they hold a read model of the
stations, built from events (``station.*``, ``connector.status_changed``): the admin API never
asks the gateway or another service's tables what is live.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from opencpms_db.metadata import service_metadata

SCHEMA = "admin"
metadata = service_metadata(SCHEMA)


class Base(DeclarativeBase):
    metadata = metadata


class ApiKey(Base):
    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    key_digest: Mapped[str] = mapped_column(String(64), unique=True, comment="sha256 of the key")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class User(Base):
    """An operator who signs in to the web UI; the password only as an argon2 hash."""

    __tablename__ = "users"

    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UiSession(Base):
    """A signed-in browser. The cookie holds a random token; only its sha256 is stored."""

    __tablename__ = "ui_sessions"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class AuditEntry(Base):
    """Who did what, when, and how it ended: every operator command and every change made
    through the API."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_station_id_at", "station_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    station_id: Mapped[str | None] = mapped_column(String(48))
    request: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    outcome: Mapped[str] = mapped_column(String(32), comment="ok, or the error code")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    duration_ms: Mapped[int] = mapped_column(Integer)


class StationView(Base):
    """One station as operators see it. Each group of columns is owned by one kind of event
    and carries the time that event was stamped with, so a late, older event never overwrites
    a newer one (ARCHITECTURE §3)."""

    __tablename__ = "stations"

    station_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    # registry (station.registered / updated / deleted); deleted rows stay as tombstones
    registration_status: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(String(500))
    registered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    registry_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # boot (station.booted)
    ocpp_version: Mapped[str | None] = mapped_column(String(8))
    vendor: Mapped[str | None] = mapped_column(String(255), index=True)
    model: Mapped[str | None] = mapped_column(String(255))
    serial_number: Mapped[str | None] = mapped_column(String(255))
    firmware_version: Mapped[str | None] = mapped_column(String(255))
    identity: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    boot_status: Mapped[str | None] = mapped_column(String(16))
    booted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # connection (station.connected / disconnected / heartbeat)
    connected: Mapped[bool] = mapped_column(Boolean, server_default="false")
    connection_id: Mapped[str | None] = mapped_column(String(64))
    node_id: Mapped[str | None] = mapped_column(String(255))
    remote_address: Mapped[str | None] = mapped_column(String(255))
    connected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disconnected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # firmware and log uploads requested by operators
    firmware_status: Mapped[str | None] = mapped_column(String(64))
    firmware_request_id: Mapped[int | None] = mapped_column(Integer)
    firmware_status_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    log_upload_status: Mapped[str | None] = mapped_column(String(64))
    log_request_id: Mapped[int | None] = mapped_column(Integer)
    log_upload_status_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ConnectorView(Base):
    __tablename__ = "connectors"

    station_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    evse_id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    connector_id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    ocpp_status: Mapped[str] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(64))
    info: Mapped[str | None] = mapped_column(String(255))
    vendor_error_code: Mapped[str | None] = mapped_column(String(255))
    changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), comment="The station's own time of the change"
    )


class StationFrameRecord(Base):
    """The operator's message log: the last ``frame_limit`` frames of each station."""

    __tablename__ = "station_frames"
    __table_args__ = (Index("ix_station_frames_station_id_at", "station_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[str] = mapped_column(
        String(255), unique=True, comment="CloudEvents id: a redelivery stores nothing twice"
    )
    station_id: Mapped[str] = mapped_column(String(48))
    connection_id: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(3))
    message_type: Mapped[int | None] = mapped_column(SmallInteger)
    message_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(64))
    raw: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DeviceVariable(Base):
    """A 2.x station's device model, as its NotifyReport messages described it."""

    __tablename__ = "device_variables"
    __table_args__ = (
        UniqueConstraint(
            "station_id",
            "component",
            "component_instance",
            "evse_id",
            "connector_id",
            "variable",
            "variable_instance",
            name="uq_device_variables_address",
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(48))
    component: Mapped[str] = mapped_column(String(50))
    component_instance: Mapped[str | None] = mapped_column(String(50))
    evse_id: Mapped[int | None] = mapped_column(Integer)
    connector_id: Mapped[int | None] = mapped_column(Integer)
    variable: Mapped[str] = mapped_column(String(50))
    variable_instance: Mapped[str | None] = mapped_column(String(50))
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    characteristics: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
