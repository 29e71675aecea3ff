"""The TLS context of OCPP security profiles 2 (server certificate) and 3 (client
certificates too)."""

from __future__ import annotations

import ssl

from opencpms_gateway.settings import Settings


def server_tls_context(settings: Settings) -> ssl.SSLContext | None:
    if settings.tls_cert_file is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    # OCPP security whitepaper: TLS 1.2 or newer only.
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    password = settings.tls_key_password.get_secret_value() if settings.tls_key_password else None
    context.load_cert_chain(settings.tls_cert_file, settings.tls_key_file, password=password)
    if settings.tls_client_ca_file is not None:
        context.load_verify_locations(settings.tls_client_ca_file)
        # Optional, so profile 2 stations (no client certificate) share the port.
        context.verify_mode = ssl.CERT_OPTIONAL
    return context
