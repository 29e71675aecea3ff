"""AMQP message properties that encode themselves without pamqp's per-field type dispatch.

aiormq encodes a publish's properties with ``Basic.Properties.marshal``, which looks each
field's AMQP type up by name and encodes it through a generic dispatcher: about a fifth of
what publishing a message costs the client. :class:`Properties` is the same class encoding
its fields from a table of their encoders in wire order, in about 4 µs against pamqp's 10;
the bytes are the same (a test compares them with pamqp's for every field).
"""

from __future__ import annotations

import struct
import time
from datetime import UTC, datetime

from aiormq import spec
from pamqp import encode

_FLAGS = spec.Basic.Properties.flags
_OCTET = struct.Struct(">B")
_SHORT = struct.Struct(">H")
_TIMESTAMP = struct.Struct(">Q")


def _short_string(value: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"str required, received {type(value)}")  # as pamqp
    data = value.encode()
    if len(data) > 255:
        raise TypeError(f"an AMQP short string holds 255 bytes, not {len(data)}")  # as pamqp
    return _OCTET.pack(len(data)) + data


def _timestamp(value: datetime | time.struct_time) -> bytes:
    if not isinstance(value, datetime):
        return encode.timestamp(value)
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        value = value.replace(tzinfo=UTC)  # a naive time is taken as UTC, as pamqp does
    return _TIMESTAMP.pack(int(value.timestamp()))


# The fields in the order of the wire, which is also the order of their flags.
_FIELDS = (
    ("content_type", _short_string),
    ("content_encoding", _short_string),
    ("headers", encode.field_table),
    ("delivery_mode", _OCTET.pack),
    ("priority", _OCTET.pack),
    ("correlation_id", _short_string),
    ("reply_to", _short_string),
    ("expiration", _short_string),
    ("message_id", _short_string),
    ("timestamp", _timestamp),
    ("message_type", _short_string),
    ("user_id", _short_string),
    ("app_id", _short_string),
    ("cluster_id", _short_string),
)


class Properties(spec.Basic.Properties):
    """``Basic.Properties`` (validated as ever when made) whose ``marshal`` is direct."""

    def marshal(self) -> bytes:
        flags = 0
        parts: list[bytes] = []
        for name, encoded in _FIELDS:
            value = getattr(self, name)
            if value is None or value == "":  # pamqp's rule: 0 and {} are sent
                continue
            flags |= _FLAGS[name]
            parts.append(encoded(value))
        return _SHORT.pack(flags) + b"".join(parts)
