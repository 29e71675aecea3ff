"""Every version-neutral command becomes a schema-valid CALL in each OCPP version, or is refused
as not supported; answers come back with their status split off."""

import pytest

from opencpms_contracts import commands as c
from opencpms_contracts.command_examples import COMMAND_EXAMPLES, PROFILE, TOKEN
from opencpms_gateway.commands import ocpp_call
from opencpms_gateway.translate import commands_v2, commands_v16
from opencpms_messaging.rpc_errors import InvalidRequestError, NotSupportedError

ONLY_16 = {"get_configuration", "change_configuration"}
ONLY_2 = {"get_variables", "set_variables", "get_base_report"}


def test_every_command_kind_has_an_example():
    assert set(COMMAND_EXAMPLES) == set(c.COMMAND_KINDS)


@pytest.mark.parametrize("kind", c.COMMAND_KINDS)
@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
def test_command_is_a_valid_call_or_not_supported(version, kind):
    unsupported = ONLY_2 if version == "1.6" else ONLY_16
    if kind in unsupported:
        with pytest.raises(NotSupportedError):
            ocpp_call(version, COMMAND_EXAMPLES[kind])
    else:
        action, payload = ocpp_call(version, COMMAND_EXAMPLES[kind])  # schema-checked inside
        assert action
        assert isinstance(payload, dict)


def test_remote_start_in_each_version():
    assert ocpp_call("1.6", c.RemoteStart(id_token=TOKEN, evse_id=2)) == (
        "RemoteStartTransaction",
        {"idTag": "04A2B3C4", "connectorId": 2},
    )
    assert ocpp_call("2.0.1", c.RemoteStart(id_token=TOKEN, evse_id=2, remote_start_id=5)) == (
        "RequestStartTransaction",
        {"idToken": {"idToken": "04A2B3C4", "type": "ISO14443"}, "remoteStartId": 5, "evseId": 2},
    )


def test_reset_types_map_soft_to_on_idle():
    assert ocpp_call("1.6", c.Reset(type="soft"))[1] == {"type": "Soft"}
    assert ocpp_call("2.0.1", c.Reset(type="soft"))[1] == {"type": "OnIdle"}
    assert ocpp_call("2.0.1", c.Reset(type="hard"))[1] == {"type": "Immediate"}


def test_remote_stop_needs_an_integer_id_on_16():
    assert ocpp_call("1.6", c.RemoteStop(station_transaction_id="42"))[1] == {"transactionId": 42}
    assert ocpp_call("2.0.1", c.RemoteStop(station_transaction_id="tx-a1"))[1] == {
        "transactionId": "tx-a1"
    }
    with pytest.raises(InvalidRequestError):
        ocpp_call("1.6", c.RemoteStop(station_transaction_id="tx-a1"))


def test_station_max_profile_is_named_per_version():
    profile = PROFILE.model_copy(update={"purpose": "StationMaxProfile"})
    v16 = ocpp_call("1.6", c.SetChargingProfile(evse_id=0, profile=profile))[1]
    v2 = ocpp_call("2.0.1", c.SetChargingProfile(evse_id=0, profile=profile))[1]
    assert v16["csChargingProfiles"]["chargingProfilePurpose"] == "ChargePointMaxProfile"
    assert v2["chargingProfile"]["chargingProfilePurpose"] == "ChargingStationMaxProfile"
    assert v2["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][1] == {
        "startPeriod": 3600,
        "limit": 8.5,
    }


def test_local_list_statuses_16_does_not_know_become_invalid():
    _, payload = ocpp_call("1.6", COMMAND_EXAMPLES["send_local_list"])
    assert payload["localAuthorizationList"][0]["idTagInfo"]["status"] == "Invalid"
    _, payload = ocpp_call("2.0.1", COMMAND_EXAMPLES["send_local_list"])
    assert payload["localAuthorizationList"][0]["idTokenInfo"]["status"] == "NoCredit"


def test_security_log_upload_is_not_supported_on_16():
    with pytest.raises(NotSupportedError):
        ocpp_call("1.6", c.UploadLogs(location="ftp://x/", log_type="SecurityLog"))
    assert ocpp_call("2.0.1", c.UploadLogs(location="ftp://x/", log_type="SecurityLog"))[0] == (
        "GetLog"
    )


def test_answers_split_status_from_the_rest():
    assert commands_v16.answer("GetDiagnostics", {"fileName": "d.zip"}) == (
        None,
        {"fileName": "d.zip"},
    )
    assert commands_v16.answer("Reset", {"status": "Accepted"}) == ("Accepted", {})
    assert commands_v2.answer(
        "Reset", {"status": "Rejected", "statusInfo": {"reasonCode": "Busy"}}
    ) == ("Rejected", {"statusInfo": {"reasonCode": "Busy"}})
    assert commands_v2.answer("GetLocalListVersion", {"versionNumber": 5}) == (
        None,
        {"listVersion": 5},
    )


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_call_the_schema_refuses_is_invalid_not_sent(version):
    with pytest.raises(InvalidRequestError, match="TriggerMessage"):
        ocpp_call(version, c.TriggerMessage(message="MakeCoffee"))
