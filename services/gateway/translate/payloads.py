"""Building OCPP payloads from optional fields."""

from __future__ import annotations

from typing import Any


def without_none(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` minus its absent fields: OCPP schemas refuse ``null`` for optional ones."""
    return {k: v for k, v in payload.items() if v is not None}
