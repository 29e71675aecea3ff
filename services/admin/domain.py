"""Rules of the admin service: roles and API keys. No I/O."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

API_KEY_PREFIX = "ocpms_"


class Role(StrEnum):
    """Ordered: each role may do everything the ones before it may."""

    VIEWER = "viewer"  # reads everything except API keys and the audit log
    OPERATOR = "operator"  # also commands stations and manages id tokens
    ADMIN = "admin"  # also registers stations, sets tariffs, manages API keys

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, required: Role) -> bool:
        return self.rank >= required.rank


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key's name (or ``environment`` for the bootstrap key)."""

    name: str
    role: Role


def new_api_key() -> str:
    """A key with 256 bits of entropy; the prefix lets secret scanners recognise a leaked one."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def api_key_digest(key: str) -> str:
    """What is stored instead of the key. Keys are random, so a fast hash is enough: there is
    nothing to brute-force that is cheaper than guessing 256 bits."""
    return hashlib.sha256(key.encode()).hexdigest()


def same_secret(presented: str, expected: str) -> bool:
    return hmac.compare_digest(presented.encode(), expected.encode())


def new_station_password() -> str:
    """24 characters, inside OCPP's 16..40 for Basic auth passwords."""
    return secrets.token_urlsafe(18)
