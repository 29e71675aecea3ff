"""CALLERROR codes, per OCPP version.

The same failure has different names: 1.6 says ``FormationViolation`` and
``OccurenceConstraintViolation`` (typos kept by the 1.6 errata), 2.0.1 and 2.1 say
``FormatViolation`` and ``OccurrenceConstraintViolation``, and only 2.x has
``RpcFrameworkError`` and ``MessageTypeNotSupported``. Code elsewhere names the failure by
:class:`ErrorKind` and this table names it for the session's version.
"""

from __future__ import annotations

from enum import Enum, auto


class ErrorKind(Enum):
    FORMAT = auto()
    OCCURRENCE = auto()
    TYPE = auto()
    PROPERTY = auto()
    RPC_FRAMEWORK = auto()
    MESSAGE_TYPE_NOT_SUPPORTED = auto()
    NOT_IMPLEMENTED = auto()
    NOT_SUPPORTED = auto()
    INTERNAL = auto()
    PROTOCOL = auto()
    SECURITY = auto()
    GENERIC = auto()


_COMMON = {
    ErrorKind.TYPE: "TypeConstraintViolation",
    ErrorKind.PROPERTY: "PropertyConstraintViolation",
    ErrorKind.NOT_IMPLEMENTED: "NotImplemented",
    ErrorKind.NOT_SUPPORTED: "NotSupported",
    ErrorKind.INTERNAL: "InternalError",
    ErrorKind.PROTOCOL: "ProtocolError",
    ErrorKind.SECURITY: "SecurityError",
    ErrorKind.GENERIC: "GenericError",
}

_V16 = {
    **_COMMON,
    ErrorKind.FORMAT: "FormationViolation",
    ErrorKind.OCCURRENCE: "OccurenceConstraintViolation",
    # 1.6 has no RPC framework error; an unreadable frame is a malformed PDU.
    ErrorKind.RPC_FRAMEWORK: "FormationViolation",
    ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED: "FormationViolation",
}

_V2 = {
    **_COMMON,
    ErrorKind.FORMAT: "FormatViolation",
    ErrorKind.OCCURRENCE: "OccurrenceConstraintViolation",
    ErrorKind.RPC_FRAMEWORK: "RpcFrameworkError",
    ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED: "MessageTypeNotSupported",
}

_BY_VERSION = {"1.6": _V16, "2.0.1": _V2, "2.1": _V2}


def error_code(version: str, kind: ErrorKind) -> str:
    return _BY_VERSION[version][kind]


# JSON-schema keyword that failed -> the OCPP failure it means.
_RULE_KINDS = {
    "required": ErrorKind.OCCURRENCE,
    "minItems": ErrorKind.OCCURRENCE,
    "maxItems": ErrorKind.OCCURRENCE,
    "type": ErrorKind.TYPE,
    "additionalProperties": ErrorKind.FORMAT,
}


def schema_error_kind(rule: str) -> ErrorKind:
    """``enum``, ``maxLength``, ``minimum``, ``pattern`` and the like are invalid values."""
    return _RULE_KINDS.get(rule, ErrorKind.PROPERTY)
