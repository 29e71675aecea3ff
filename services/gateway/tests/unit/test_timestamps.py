from datetime import UTC, datetime, timedelta, timezone

import pytest

from opencpms_gateway.translate.errors import TranslationError
from opencpms_gateway.translate.timestamps import format_timestamp, parse_timestamp


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-01T10:00:00Z",
        "2026-03-01T10:00:00.000Z",
        "2026-03-01T10:00:00.000000z",
        "2026-03-01T11:00:00+01:00",
        "2026-03-01 10:00:00Z",
        "2026-03-01T10:00:00",
    ],
)
def test_lenient_parsing_to_utc(text):
    assert parse_timestamp(text) == datetime(2026, 3, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize("text", ["yesterday", "", "2026-13-01T00:00:00Z"])
def test_garbage_is_refused(text):
    with pytest.raises(TranslationError):
        parse_timestamp(text)


def test_formatting_is_utc_with_milliseconds():
    value = datetime(2026, 3, 1, 11, 0, 0, 999999, tzinfo=timezone(timedelta(hours=1)))
    assert format_timestamp(value) == "2026-03-01T10:00:00.999Z"
