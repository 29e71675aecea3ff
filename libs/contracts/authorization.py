"""RPC operations answered by the authorization service: station credentials, boot decisions,
id tokens."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_serializer

from opencpms_contracts.base import Contract, Empty, operation
from opencpms_contracts.common import (
    AuthorizationStatus,
    IdToken,
    IdTokenInfo,
    Page,
    PageRequest,
    RegistrationStatus,
    StationId,
    UtcDatetime,
)
from opencpms_contracts.stations import OcppVersion, StationIdentity

StationPassword = Annotated[SecretStr, Field(min_length=16, max_length=40)]
"""OCPP security whitepaper: the Basic auth password is 16 to 40 characters."""


class _CarriesPassword(Contract):
    # SecretStr hides the value in logs and reprs, but the receiving service needs it.
    @field_serializer("password", when_used="json", check_fields=False)
    def _reveal(self, value: SecretStr | None) -> str | None:
        return None if value is None else value.get_secret_value()


# -- station authentication and boot ---------------------------------------------------------


class AuthenticateStation(_CarriesPassword):
    station_id: str = Field(max_length=255)
    password: SecretStr


class StationAuthentication(Contract):
    accepted: bool
    reason: str | None = Field(default=None, description="Why a station was refused")


class BootStation(Contract):
    station_id: StationId
    ocpp_version: OcppVersion
    identity: StationIdentity
    reason: str | None = None
    booted_at: UtcDatetime


class BootDecision(Contract):
    status: RegistrationStatus
    interval_s: int = Field(description="Heartbeat interval when Accepted, retry delay otherwise")


# -- station registry -------------------------------------------------------------------------


class RegisterStation(_CarriesPassword):
    station_id: StationId
    password: StationPassword
    description: str | None = Field(default=None, max_length=500)
    registration_status: RegistrationStatus = RegistrationStatus.ACCEPTED


class UpdateStation(_CarriesPassword):
    station_id: StationId
    password: StationPassword | None = None
    description: str | None = Field(default=None, max_length=500)
    registration_status: RegistrationStatus | None = None


class StationRef(Contract):
    station_id: StationId


class StationRecord(Contract):
    station_id: StationId
    description: str | None
    registration_status: RegistrationStatus
    registered_at: UtcDatetime
    ocpp_version: OcppVersion | None = None
    identity: StationIdentity | None = None
    last_boot_at: UtcDatetime | None = None


class ListStations(PageRequest):
    station_id_prefix: str | None = None
    registration_status: RegistrationStatus | None = None


class StationPage(Page[StationRecord]):
    pass


# -- id tokens -------------------------------------------------------------------------------


class AuthorizeIdToken(Contract):
    station_id: StationId
    id_token: IdToken
    evse_id: int | None = None


class IdTokenRecord(Contract):
    value: str
    type: str
    status: AuthorizationStatus
    expires_at: UtcDatetime | None = None
    group_id: str | None = None
    description: str | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class CreateIdToken(Contract):
    value: Annotated[str, Field(min_length=1, max_length=255)]
    type: str = "ISO14443"
    status: AuthorizationStatus = AuthorizationStatus.ACCEPTED
    expires_at: UtcDatetime | None = None
    group_id: str | None = Field(default=None, max_length=255)
    description: str | None = Field(default=None, max_length=500)


class UpdateIdToken(Contract):
    """Fields left out stay as they are; ``clear_expiry`` removes an expiry date."""

    value: str
    status: AuthorizationStatus | None = None
    expires_at: UtcDatetime | None = None
    clear_expiry: bool = False
    group_id: str | None = None
    description: str | None = None


class IdTokenRef(Contract):
    value: str


class ListIdTokens(PageRequest):
    value_prefix: str | None = None
    status: AuthorizationStatus | None = None


class IdTokenPage(Page[IdTokenRecord]):
    pass


AUTHENTICATE_STATION = operation(
    "authorization.authenticate_station",
    AuthenticateStation,
    StationAuthentication,
    "Checks a station's HTTP Basic credentials during the websocket handshake.",
)
BOOT_STATION = operation(
    "authorization.boot_station",
    BootStation,
    BootDecision,
    "Records a BootNotification and decides Accepted, Pending or Rejected.",
)
AUTHORIZE = operation(
    "authorization.authorize",
    AuthorizeIdToken,
    IdTokenInfo,
    "Decides whether an id token may charge.",
)
REGISTER_STATION = operation(
    "authorization.register_station",
    RegisterStation,
    StationRecord,
    "Registers a station with its Basic auth password (stored as an argon2 hash).",
)
UPDATE_STATION = operation(
    "authorization.update_station",
    UpdateStation,
    StationRecord,
    "Changes a station's password, description or registration status.",
)
DELETE_STATION = operation(
    "authorization.delete_station", StationRef, Empty, "Removes a station and its credentials."
)
GET_STATION = operation("authorization.get_station", StationRef, StationRecord, "One station.")
LIST_STATIONS = operation(
    "authorization.list_stations", ListStations, StationPage, "Registered stations, paged."
)
CREATE_ID_TOKEN = operation(
    "authorization.create_id_token", CreateIdToken, IdTokenRecord, "Creates an id token."
)
UPDATE_ID_TOKEN = operation(
    "authorization.update_id_token",
    UpdateIdToken,
    IdTokenRecord,
    "Changes an id token's status, expiry, group or description.",
)
GET_ID_TOKEN = operation("authorization.get_id_token", IdTokenRef, IdTokenRecord, "One id token.")
LIST_ID_TOKENS = operation(
    "authorization.list_id_tokens", ListIdTokens, IdTokenPage, "Id tokens, paged."
)
