"""OCPP timestamps in and out."""

from __future__ import annotations

from datetime import UTC, datetime

from opencpms_gateway.translate.errors import TranslationError


def parse_timestamp(value: str) -> datetime:
    """An RFC 3339 timestamp as a UTC datetime.

    Lenient where stations in the field are sloppy: a missing zone is taken as UTC (OCPP
    requires UTC anyway), a space instead of ``T`` and any number of fraction digits are
    accepted.
    """
    text = value.strip()
    if len(text) > 10 and text[10] == " ":
        text = text[:10] + "T" + text[11:]
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise TranslationError(f"{value!r} is not an RFC 3339 timestamp") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_timestamp(value: datetime) -> str:
    """UTC with millisecond precision and a ``Z``, the form every station parses."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
