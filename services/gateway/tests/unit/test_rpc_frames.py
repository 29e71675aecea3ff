import pytest

from opencpms_gateway import rpc_frames
from opencpms_gateway.error_codes import ErrorKind


def test_parses_a_call():
    frame = rpc_frames.parse('[2, "19223201", "BootNotification", {"chargePointVendor": "V"}]')
    assert frame == rpc_frames.Call("19223201", "BootNotification", {"chargePointVendor": "V"})


def test_parses_result_and_error():
    assert rpc_frames.parse('[3,"a",{"status":"Accepted"}]') == rpc_frames.CallResult(
        "a", {"status": "Accepted"}
    )
    assert rpc_frames.parse('[4,"a","NotSupported","nope",{"x":1}]') == rpc_frames.CallError(
        "a", "NotSupported", "nope", {"x": 1}
    )


@pytest.mark.parametrize(
    ("raw", "kind", "message_id"),
    [
        ("not json", ErrorKind.FORMAT, "-1"),
        ('[2, "77", "Heartbeat", {', ErrorKind.FORMAT, "77"),
        ('{"a": 1}', ErrorKind.RPC_FRAMEWORK, "-1"),
        ("[2]", ErrorKind.RPC_FRAMEWORK, "-1"),
        ('[2, 5, "Heartbeat", {}]', ErrorKind.RPC_FRAMEWORK, "-1"),
        ('[2, "' + "x" * 37 + '", "Heartbeat", {}]', ErrorKind.RPC_FRAMEWORK, "-1"),
        ('[2, "9", "Heartbeat"]', ErrorKind.RPC_FRAMEWORK, "9"),
        ('[2, "9", "Heartbeat", []]', ErrorKind.FORMAT, "9"),
        ('[3, "9", "x"]', ErrorKind.FORMAT, "9"),
    ],
)
def test_malformed_frames_name_the_failure_and_the_id_when_readable(raw, kind, message_id):
    with pytest.raises(rpc_frames.FrameError) as caught:
        rpc_frames.parse(raw)
    assert caught.value.kind is kind
    assert caught.value.message_id == message_id


def test_unknown_message_type():
    with pytest.raises(rpc_frames.UnknownMessageType) as caught:
        rpc_frames.parse('[7, "m1", {}]')
    assert caught.value.message_id == "m1"


def test_encoders_produce_ocpp_j_arrays():
    assert rpc_frames.encode_result("1", {}) == '[3,"1",{}]'
    assert (
        rpc_frames.encode_call("2", "Reset", {"type": "Soft"}) == '[2,"2","Reset",{"type":"Soft"}]'
    )
    assert rpc_frames.encode_error("3", "InternalError", "x" * 300) == (
        '[4,"3","InternalError","' + "x" * 255 + '",{}]'
    )
