from datetime import UTC, datetime, timedelta

import pytest

from opencpms_authorization.domain import boot_decision, token_info
from opencpms_contracts.common import AuthorizationStatus, RegistrationStatus

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("registration", "expected"),
    [
        (None, (RegistrationStatus.REJECTED, 60)),
        (RegistrationStatus.ACCEPTED, (RegistrationStatus.ACCEPTED, 300)),
        (RegistrationStatus.PENDING, (RegistrationStatus.PENDING, 60)),
        (RegistrationStatus.REJECTED, (RegistrationStatus.REJECTED, 60)),
    ],
)
def test_boot_decision(registration, expected):
    assert boot_decision(registration, heartbeat_interval_s=300, retry_s=60) == expected


def test_unknown_token_is_unknown():
    assert token_info(None, expires_at=None, group_id=None, now=NOW).status == "Unknown"


def test_accepted_token_past_expiry_is_expired():
    info = token_info(
        AuthorizationStatus.ACCEPTED, expires_at=NOW - timedelta(seconds=1), group_id="G", now=NOW
    )
    assert info.status is AuthorizationStatus.EXPIRED
    assert info.group_id == "G"


def test_accepted_token_before_expiry_is_accepted():
    info = token_info(
        AuthorizationStatus.ACCEPTED, expires_at=NOW + timedelta(days=1), group_id=None, now=NOW
    )
    assert info.status is AuthorizationStatus.ACCEPTED
    assert info.expires_at == NOW + timedelta(days=1)


def test_blocked_token_stays_blocked_after_expiry():
    info = token_info(
        AuthorizationStatus.BLOCKED, expires_at=NOW - timedelta(days=1), group_id=None, now=NOW
    )
    assert info.status is AuthorizationStatus.BLOCKED
