"""Authorization rules: what a station's boot and a driver's token are answered."""

from __future__ import annotations

from datetime import datetime

from opencpms_contracts.common import AuthorizationStatus, IdTokenInfo, RegistrationStatus


def boot_decision(
    registration_status: RegistrationStatus | None,
    *,
    heartbeat_interval_s: int,
    retry_s: int,
) -> tuple[RegistrationStatus, int]:
    """Answer to a BootNotification: unknown stations are Rejected; a known one gets its
    registration status. The interval is the heartbeat interval when Accepted and, for Pending
    and Rejected, the delay before the station should boot again (OCPP 2.0.1 B02, B03)."""
    if registration_status is None:
        return RegistrationStatus.REJECTED, retry_s
    if registration_status is RegistrationStatus.ACCEPTED:
        return RegistrationStatus.ACCEPTED, heartbeat_interval_s
    return registration_status, retry_s


def token_info(
    status: AuthorizationStatus | None,
    *,
    expires_at: datetime | None,
    group_id: str | None,
    now: datetime,
) -> IdTokenInfo:
    """What an id token is worth right now. An unknown token is Unknown (the gateway says
    Invalid to 1.6 stations); an Accepted token past its expiry is Expired."""
    if status is None:
        return IdTokenInfo(status=AuthorizationStatus.UNKNOWN)
    if status is AuthorizationStatus.ACCEPTED and expires_at is not None and expires_at <= now:
        status = AuthorizationStatus.EXPIRED
    return IdTokenInfo(status=status, expires_at=expires_at, group_id=group_id)
