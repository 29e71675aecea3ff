"""Request and response bodies of the admin API that are not broker contracts (those are
served as they are: transactions, CDRs, id tokens, tariffs, command answers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from opencpms_admin.domain import Role
from opencpms_admin.tables import (
    ApiKey,
    AuditEntry,
    ConnectorView,
    DeviceVariable,
    StationFrameRecord,
    StationView,
)
from opencpms_contracts.authorization import StationPassword
from opencpms_contracts.billing import Currency, Money, TaxRate
from opencpms_contracts.commands import DEFAULT_TIMEOUT_S, Command
from opencpms_contracts.common import AuthorizationStatus, RegistrationStatus, StationId


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# -- stations ---------------------------------------------------------------------------------


class StationCreate(Body):
    station_id: StationId
    password: StationPassword | None = Field(
        default=None, description="16 to 40 characters; generated when left out"
    )
    description: str | None = Field(default=None, max_length=500)
    registration_status: RegistrationStatus = RegistrationStatus.ACCEPTED


class StationChange(Body):
    password: StationPassword | None = None
    description: str | None = Field(default=None, max_length=500)
    registration_status: RegistrationStatus | None = None


class ConnectorOut(Out):
    evse_id: int
    connector_id: int
    status: str = Field(description="Available, Occupied, Reserved, Unavailable or Faulted")
    ocpp_status: str = Field(description="As the station reported it (1.6: Charging, ...)")
    error_code: str | None
    info: str | None
    vendor_error_code: str | None
    changed_at: datetime


class StationOut(Out):
    station_id: str
    description: str | None
    registration_status: str | None
    registered_at: datetime | None
    ocpp_version: str | None
    vendor: str | None
    model: str | None
    serial_number: str | None
    firmware_version: str | None
    identity: dict[str, Any] | None
    booted_at: datetime | None
    connected: bool
    node_id: str | None
    remote_address: str | None
    connected_at: datetime | None
    disconnected_at: datetime | None
    last_seen: datetime | None
    firmware_status: str | None
    firmware_status_at: datetime | None
    log_upload_status: str | None
    log_upload_status_at: datetime | None
    connectors: list[ConnectorOut]

    @classmethod
    def of(cls, row: StationView, connectors: list[ConnectorView]) -> StationOut:
        fields = {name: getattr(row, name) for name in cls.model_fields if name != "connectors"}
        return cls.model_validate(
            fields | {"connectors": [ConnectorOut.model_validate(c) for c in connectors]}
        )


class StationCreated(StationOut):
    password: str = Field(description="The station's Basic auth password; shown only now")


class StationPage(BaseModel):
    items: list[StationOut]
    total: int
    limit: int
    offset: int


class FrameOut(Out):
    direction: str = Field(description="in: station to CSMS; out: CSMS to station")
    message_type: int | None
    message_id: str | None
    action: str | None
    raw: str
    at: datetime
    connection_id: str

    @classmethod
    def of(cls, row: StationFrameRecord) -> FrameOut:
        return cls.model_validate(row)


class FramePage(BaseModel):
    items: list[FrameOut]
    total: int
    limit: int
    offset: int


class DeviceVariableOut(Out):
    component: str
    component_instance: str | None
    evse_id: int | None
    connector_id: int | None
    variable: str
    variable_instance: str | None
    attributes: list[dict[str, Any]]
    characteristics: dict[str, Any] | None
    reported_at: datetime

    @classmethod
    def of(cls, row: DeviceVariable) -> DeviceVariableOut:
        return cls.model_validate(row)


class DeviceModelPage(BaseModel):
    items: list[DeviceVariableOut]
    total: int
    limit: int
    offset: int


# -- id tokens, tariffs -----------------------------------------------------------------------


class IdTokenChange(Body):
    status: AuthorizationStatus | None = None
    expires_at: AwareDatetime | None = None
    clear_expiry: bool = False
    group_id: str | None = Field(default=None, max_length=255)
    description: str | None = Field(default=None, max_length=500)


class TariffChange(Body):
    currency: Currency
    price_per_kwh: Money
    price_per_minute: Money
    price_per_session: Money
    tax_rate: TaxRate


# -- commands ---------------------------------------------------------------------------------


class CommandRequest(Body):
    command: Command
    timeout_s: float = Field(
        default=DEFAULT_TIMEOUT_S, gt=0, le=300, description="How long the station may take"
    )


class LocalListSync(Body):
    """Sends the station a full local authorization list made of every id token."""

    version: int | None = Field(
        default=None, ge=1, description="The list version; by default the current Unix time"
    )
    timeout_s: float = Field(default=DEFAULT_TIMEOUT_S, gt=0, le=300)


# -- API keys, audit log ----------------------------------------------------------------------


class ApiKeyCreate(Body):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._@ -]+$")
    role: Role


class ApiKeyOut(Out):
    key_id: str
    name: str
    role: Role
    created_at: datetime
    created_by: str
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: ApiKey) -> ApiKeyOut:
        return cls.model_validate(row)


class ApiKeyIssued(BaseModel):
    key_id: str
    name: str
    role: Role
    created_at: datetime
    key: str = Field(description="The key itself; shown only now, store it safely")


class ApiKeyPage(BaseModel):
    items: list[ApiKeyOut]
    total: int
    limit: int
    offset: int


class AuditEntryOut(Out):
    id: int
    at: datetime
    actor: str
    action: str
    station_id: str | None
    request: dict[str, Any] | None
    outcome: str
    result: dict[str, Any] | None
    duration_ms: int

    @classmethod
    def of(cls, row: AuditEntry) -> AuditEntryOut:
        return cls.model_validate(row)


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    total: int
    limit: int
    offset: int
