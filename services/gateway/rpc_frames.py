"""OCPP-J framing: a websocket text message to a CALL, CALLRESULT or CALLERROR and back.

The ``ocpp`` package drops frames it cannot parse without a word; the gateway answers them
(ARCHITECTURE §2), so the parsing lives here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from opencpms_gateway.error_codes import ErrorKind

CALL, CALLRESULT, CALLERROR, CALLRESULTERROR, SEND = 2, 3, 4, 5, 6
MAX_MESSAGE_ID_LENGTH = 36
UNKNOWN_MESSAGE_ID = "-1"  # OCPP-J 2.0.1: the id to answer with when none can be read


@dataclass(frozen=True, slots=True)
class Call:
    message_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallResult:
    message_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallError:
    message_id: str
    code: str
    description: str
    details: dict[str, Any] = field(default_factory=dict)


Frame = Call | CallResult | CallError


class FrameError(Exception):
    """A frame the gateway answers with a CALLERROR (and keeps the connection)."""

    def __init__(
        self,
        kind: ErrorKind,
        description: str,
        *,
        message_id: str | None,
        action: str | None = None,
    ) -> None:
        super().__init__(description)
        self.kind = kind
        self.description = description
        self.message_id = message_id or UNKNOWN_MESSAGE_ID
        self.action = action


class UnknownMessageType(Exception):
    """A message type id this version does not define (answered on 2.0.1, ignored otherwise)."""

    def __init__(self, type_id: object, message_id: str | None) -> None:
        super().__init__(f"unknown message type {type_id!r}")
        self.message_id = message_id or UNKNOWN_MESSAGE_ID


_SNIFF_ID = re.compile(rb'^\s*\[\s*\d\s*,\s*"([^"\\]{1,36})"')


def parse(raw: str | bytes) -> Frame:
    """Parses one frame. Raises :class:`FrameError` for anything that is not a well-formed
    OCPP-J message, with the message id when one could be read."""
    data = raw.encode() if isinstance(raw, str) else raw
    try:
        message = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise FrameError(
            ErrorKind.FORMAT, "frame is not valid JSON", message_id=_sniff_message_id(data)
        ) from None
    if not isinstance(message, list) or len(message) < 3:
        raise FrameError(
            ErrorKind.RPC_FRAMEWORK,
            "frame is not an OCPP-J array",
            message_id=_sniff_message_id(data),
        )
    type_id, message_id = message[0], message[1]
    if not isinstance(message_id, str) or not 0 < len(message_id) <= MAX_MESSAGE_ID_LENGTH:
        raise FrameError(
            ErrorKind.RPC_FRAMEWORK, "message id must be a string of 1-36 chars", message_id=None
        )
    if type_id == CALL:
        if len(message) != 4 or not isinstance(message[2], str):
            raise FrameError(
                ErrorKind.RPC_FRAMEWORK, "a CALL is [2, id, action, payload]", message_id=message_id
            )
        if not isinstance(message[3], dict):
            raise FrameError(
                ErrorKind.FORMAT,
                "a CALL's payload must be an object",
                message_id=message_id,
                action=message[2],
            )
        return Call(message_id, message[2], message[3])
    if type_id == CALLRESULT:
        if not isinstance(message[2], dict):
            raise FrameError(
                ErrorKind.FORMAT, "a CALLRESULT's payload must be an object", message_id=message_id
            )
        return CallResult(message_id, message[2])
    if type_id == CALLERROR:
        code = message[2] if isinstance(message[2], str) else "GenericError"
        description = message[3] if len(message) > 3 and isinstance(message[3], str) else ""
        details = message[4] if len(message) > 4 and isinstance(message[4], dict) else {}
        return CallError(message_id, code, description, details)
    raise UnknownMessageType(type_id, message_id)


def _sniff_message_id(data: bytes) -> str | None:
    match = _SNIFF_ID.match(data)
    return match.group(1).decode(errors="replace") if match else None


def encode_call(message_id: str, action: str, payload: dict[str, Any]) -> str:
    return orjson.dumps([CALL, message_id, action, payload]).decode()


def encode_result(message_id: str, payload: dict[str, Any]) -> str:
    return orjson.dumps([CALLRESULT, message_id, payload]).decode()


def encode_error(
    message_id: str, code: str, description: str, details: dict[str, Any] | None = None
) -> str:
    return orjson.dumps([CALLERROR, message_id, code, description[:255], details or {}]).decode()
