import base64

import pytest
from websockets.datastructures import Headers
from websockets.http11 import Request

from opencpms_gateway.handshake import (
    Credentials,
    basic_credentials,
    offered_subprotocols,
    station_id_from_path,
)


@pytest.mark.parametrize(
    ("path", "station_id"),
    [
        ("/ocpp/CP-1", "CP-1"),
        ("/ocpp/CP-1/", "CP-1"),
        ("/ocpp/CP%201", None),
        ("/ocpp/site%3ACP1", "site:CP1"),
        ("/ocpp/CP1?x=1", "CP1"),
        ("/ocpp/", None),
        ("/other/CP1", None),
        ("/ocpp/a/b", None),
        ("/ocpp/" + "x" * 49, None),
    ],
)
def test_station_id_from_path(path, station_id):
    assert station_id_from_path(path) == station_id


def request(**headers: str | list[str]) -> Request:
    h = Headers()
    for name, value in headers.items():
        for v in value if isinstance(value, list) else [value]:
            h[name.replace("_", "-")] = v
    return Request("/ocpp/CP1", h)


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


def test_basic_credentials_split_at_first_colon():
    assert basic_credentials(request(Authorization=basic("CP1:pa:ss"))) == Credentials(
        "CP1", "pa:ss"
    )


@pytest.mark.parametrize("header", ["Bearer x", "Basic !!!", basic("no-colon"), ""])
def test_unusable_authorization_headers(header):
    assert basic_credentials(request(Authorization=header) if header else request()) is None


def test_offered_subprotocols_from_one_or_many_headers():
    assert offered_subprotocols(request(Sec_WebSocket_Protocol="ocpp2.0.1, ocpp1.6")) == [
        "ocpp2.0.1",
        "ocpp1.6",
    ]
    assert offered_subprotocols(request(Sec_WebSocket_Protocol=["ocpp1.6", "ocpp2.1"])) == [
        "ocpp1.6",
        "ocpp2.1",
    ]
