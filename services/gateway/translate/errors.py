"""The one failure translation raises."""

from __future__ import annotations


class TranslationError(ValueError):
    """A payload that is schema-valid but carries a value OpenCPMS cannot read (a timestamp
    that is no timestamp, a meter value that is no number). Answered as
    PropertyConstraintViolation."""
