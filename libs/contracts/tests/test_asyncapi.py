import json
from pathlib import Path

from opencpms_contracts.asyncapi import document

CHECKED_IN = Path(__file__).parents[3] / "docs" / "asyncapi.json"


def test_checked_in_asyncapi_document_is_current():
    """Any change to a contract changes the document; `make asyncapi` regenerates it, and the
    diff in review shows exactly what changed for consumers."""
    assert json.loads(CHECKED_IN.read_text()) == document(), "run `make asyncapi`"


def test_every_event_and_operation_is_documented():
    doc = document()
    assert "cdr.created" in doc["channels"]
    assert "transactions.start" in doc["channels"]
    for channel in doc["channels"].values():
        for message in channel["messages"].values():
            name = message["$ref"].rsplit("/", 1)[1]
            assert name in doc["components"]["messages"]
