"""Value types shared by several contracts. Version-neutral: the gateway maps OCPP 1.6 and
2.0.1 vocabularies onto these."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, Field

from opencpms_contracts.base import Contract


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamps must carry a timezone")
    return value


UtcDatetime = Annotated[datetime, AfterValidator(_require_utc)]
"""A timezone-aware timestamp; naive datetimes are refused rather than guessed."""

StationId = Annotated[str, Field(min_length=1, max_length=48, pattern=r"^[A-Za-z0-9._:@\-]+$")]
"""A charge point's identity as it appears in its websocket URL."""


class AuthorizationStatus(StrEnum):
    """The outcome of checking an id token. Uses OCPP 2.0.1 names; 1.6 has a subset."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    UNKNOWN = "Unknown"
    CONCURRENT_TX = "ConcurrentTx"
    NO_CREDIT = "NoCredit"


class IdToken(Contract):
    """A driver's identifier: an RFID uid, an app token, a key code..."""

    value: Annotated[str, Field(min_length=1, max_length=255)]
    type: str = Field(
        default="ISO14443",
        description="OCPP 2.0.1 IdTokenEnumType name; OCPP 1.6 idTags arrive as ISO14443.",
    )


class IdTokenInfo(Contract):
    """What the CSMS says about an id token."""

    status: AuthorizationStatus
    expires_at: UtcDatetime | None = None
    group_id: str | None = Field(
        default=None, description="1.6 parentIdTag / 2.0.1 groupIdToken value"
    )


class RegistrationStatus(StrEnum):
    """A station's standing with the CSMS; also the BootNotification answer."""

    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


class MeterSample(Contract):
    """One sampled value, normalised: energy in Wh, power in W, current in A, voltage in V,
    state of charge in Percent. Measurands OpenCPMS does not know keep their own unit."""

    measurand: str = "Energy.Active.Import.Register"
    value: Decimal
    unit: str = "Wh"
    phase: str | None = None
    context: str | None = None
    location: str | None = None


class MeterValue(Contract):
    timestamp: UtcDatetime
    samples: list[MeterSample]


ItemT = TypeVar("ItemT")


class Page(Contract, Generic[ItemT]):
    """One page of a listing; ``total`` counts every match, not just this page."""

    items: list[ItemT]
    total: int
    limit: int
    offset: int


class PageRequest(Contract):
    limit: Annotated[int, Field(ge=1, le=500)] = 50
    offset: Annotated[int, Field(ge=0)] = 0
