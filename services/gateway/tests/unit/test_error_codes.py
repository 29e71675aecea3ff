import pytest

from opencpms_gateway.error_codes import ErrorKind, error_code, schema_error_kind


@pytest.mark.parametrize(
    ("version", "kind", "code"),
    [
        ("1.6", ErrorKind.FORMAT, "FormationViolation"),
        ("2.0.1", ErrorKind.FORMAT, "FormatViolation"),
        ("2.1", ErrorKind.FORMAT, "FormatViolation"),
        ("1.6", ErrorKind.OCCURRENCE, "OccurenceConstraintViolation"),
        ("2.0.1", ErrorKind.OCCURRENCE, "OccurrenceConstraintViolation"),
        ("1.6", ErrorKind.RPC_FRAMEWORK, "FormationViolation"),
        ("2.0.1", ErrorKind.RPC_FRAMEWORK, "RpcFrameworkError"),
        ("2.0.1", ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED, "MessageTypeNotSupported"),
        ("1.6", ErrorKind.NOT_IMPLEMENTED, "NotImplemented"),
        ("2.1", ErrorKind.TYPE, "TypeConstraintViolation"),
    ],
)
def test_codes_follow_the_sessions_version(version, kind, code):
    assert error_code(version, kind) == code


def test_every_kind_has_a_code_in_every_version():
    for version in ("1.6", "2.0.1", "2.1"):
        for kind in ErrorKind:
            assert error_code(version, kind)


@pytest.mark.parametrize(
    ("rule", "kind"),
    [
        ("required", ErrorKind.OCCURRENCE),
        ("type", ErrorKind.TYPE),
        ("additionalProperties", ErrorKind.FORMAT),
        ("enum", ErrorKind.PROPERTY),
        ("maxLength", ErrorKind.PROPERTY),
        ("minimum", ErrorKind.PROPERTY),
    ],
)
def test_schema_rules_map_to_ocpp_failures(rule, kind):
    assert schema_error_kind(rule) is kind
