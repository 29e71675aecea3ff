import pytest
from pydantic import ValidationError

from opencpms_admin.settings import Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Only what a test sets: none of this machine's OPENCPMS_ variables."""
    import os

    for name in os.environ:
        if name.startswith("OPENCPMS_"):
            monkeypatch.delenv(name)


def test_there_is_no_default_key():
    assert Settings().api_key is None


def test_the_key_and_port_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("OPENCPMS_ADMIN_API_KEY", "k" * 32)
    monkeypatch.setenv("OPENCPMS_ADMIN_PORT", "8443")
    settings = Settings()
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == "k" * 32
    assert settings.port == 8443
    assert "k" * 32 not in repr(settings)


def test_a_short_key_is_refused(monkeypatch):
    monkeypatch.setenv("OPENCPMS_ADMIN_API_KEY", "secret")
    with pytest.raises(ValidationError, match="at least 24 characters"):
        Settings()


def test_tls_needs_both_certificate_and_key(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENCPMS_ADMIN_TLS_CERTFILE", str(tmp_path / "cert.pem"))
    with pytest.raises(ValidationError, match="TLS_KEYFILE"):
        Settings()
