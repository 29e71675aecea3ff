import pytest

from opencpms_admin.domain import (
    API_KEY_PREFIX,
    Role,
    api_key_digest,
    new_api_key,
    new_station_password,
    same_secret,
)


@pytest.mark.parametrize(
    ("role", "required", "allowed"),
    [
        (Role.VIEWER, Role.VIEWER, True),
        (Role.VIEWER, Role.OPERATOR, False),
        (Role.OPERATOR, Role.VIEWER, True),
        (Role.OPERATOR, Role.OPERATOR, True),
        (Role.OPERATOR, Role.ADMIN, False),
        (Role.ADMIN, Role.OPERATOR, True),
    ],
)
def test_each_role_may_do_what_the_lower_ones_may(role, required, allowed):
    assert role.allows(required) is allowed


def test_keys_are_new_every_time_and_recognisable():
    first, second = new_api_key(), new_api_key()
    assert first != second
    assert first.startswith(API_KEY_PREFIX)
    assert len(first) >= len(API_KEY_PREFIX) + 43  # 32 random bytes, base64


def test_the_digest_is_stable_and_reveals_nothing_of_the_key():
    key = new_api_key()
    assert api_key_digest(key) == api_key_digest(key)
    assert api_key_digest(key) != api_key_digest(new_api_key())
    assert key not in api_key_digest(key)


def test_secrets_compare_by_value():
    assert same_secret("abc", "abc")
    assert not same_secret("abc", "abd")


def test_station_passwords_fit_the_ocpp_length_rule():
    password = new_station_password()
    assert 16 <= len(password) <= 40
