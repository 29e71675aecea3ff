"""The AsyncAPI 3.0 document of OpenCPMS's events and RPC operations, generated from the
contract models, so the published catalogue cannot drift from the code (a test compares it with
the checked-in ``docs/asyncapi.json``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from opencpms_contracts.base import registered_events, registered_operations
from opencpms_contracts.commands import CommandAnswer, StationCommand
from opencpms_contracts.data_transfer import (
    ROUTING_KEY_PREFIX,
    DataTransferReply,
    DataTransferRequest,
)
from opencpms_contracts.stations import StationConnected

REF = "#/components/schemas/{model}"
# Calls of one operation may travel together (opencpms_messaging.rpc_batch).
RPC_BATCHES = (
    "Calls that wait together may share one message: header x-batch (the count) and a JSON "
    "array of requests."
)


def document(version: str = "0.1.0") -> dict[str, Any]:
    events = registered_events()
    operations = registered_operations()
    models: list[type[BaseModel]] = [*events.values()]
    for op in operations.values():
        models += [op.request, op.reply]
    models += [DataTransferRequest, DataTransferReply, StationCommand, CommandAnswer]
    unique = list(dict.fromkeys(models))
    _, schema = models_json_schema([(m, "serialization") for m in unique], ref_template=REF)
    channels: dict[str, Any] = {}
    async_operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}

    for ce_type, model in events.items():
        name = ce_type.removeprefix("opencpms.")
        messages[name] = {
            "name": ce_type,
            "title": model.__name__,
            "summary": (model.__doc__ or "").strip().split("\n\n")[0] or None,
            "contentType": "application/cloudevents+json",
            "payload": _cloudevent(ce_type, model.__name__),
            "bindings": {"amqp": {"deliveryMode": 2, "bindingVersion": "0.3.0"}},
        }
        channel = model.routing_key()
        channels[channel] = {
            "address": channel,
            "description": f"opencpms.events topic exchange, routing key {channel}; each message "
            f"is a structured CloudEvent with type {ce_type} and its data in 'data'.",
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {
                "amqp": {
                    "is": "routingKey",
                    "exchange": {"name": "opencpms.events", "type": "topic", "durable": True},
                }
            },
        }
        async_operations[f"publish.{channel}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{_escape(channel)}"},
            "messages": [{"$ref": f"#/channels/{_escape(channel)}/messages/{name}"}],
        }

    for key, op in operations.items():
        request_name, reply_name = f"{key}.request", f"{key}.reply"
        messages[request_name] = {
            "name": request_name,
            "contentType": "application/json",
            "payload": {"$ref": REF.format(model=op.request.__name__)},
        }
        messages[reply_name] = {
            "name": reply_name,
            "contentType": "application/json",
            "payload": {"$ref": REF.format(model=op.reply.__name__)},
        }
        channels[key] = {
            "address": key,
            "description": f"opencpms.rpc direct exchange, routing key {key}. {op.summary} "
            + RPC_BATCHES,
            "messages": {request_name: {"$ref": f"#/components/messages/{request_name}"}},
        }
        channels[f"{key}.reply"] = {
            "address": None,
            "description": "The caller's reply queue (reply_to); header x-status ok|error. "
            "A batch's reply has header x-batch and a JSON array, in request order, of "
            '{"status": "ok"|"error", "body": reply or {code, message, details}}.',
            "messages": {reply_name: {"$ref": f"#/components/messages/{reply_name}"}},
        }
        async_operations[f"rpc.{key}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{_escape(key)}"},
            "summary": op.summary,
            "reply": {"channel": {"$ref": f"#/channels/{_escape(key + '.reply')}"}},
        }

    channels["data_transfer"] = {
        "address": ROUTING_KEY_PREFIX + "{vendorId}",
        "description": "Stations' DataTransfer, per vendor; bind a queue to answer a vendor. "
        "Unbound vendors get UnknownVendorId.",
        "parameters": {"vendorId": {"description": "The station's vendorId"}},
        "messages": {
            "data_transfer.request": {"$ref": "#/components/messages/data_transfer.request"}
        },
    }
    messages["data_transfer.request"] = {
        "name": "data_transfer.request",
        "contentType": "application/json",
        "payload": {"$ref": REF.format(model=DataTransferRequest.__name__)},
    }
    messages["data_transfer.reply"] = {
        "name": "data_transfer.reply",
        "contentType": "application/json",
        "payload": {"$ref": REF.format(model=DataTransferReply.__name__)},
    }
    _add_commands(channels, async_operations, messages)
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "OpenCPMS events and RPC",
            "version": version,
            "description": "Domain events on the opencpms.events topic exchange (CloudEvents 1.0, "
            "structured JSON), request/reply operations on the opencpms.rpc direct exchange, "
            "and commands to charge points on the opencpms.commands direct exchange. "
            "Generated from libs/contracts; do not edit by hand (make asyncapi).",
        },
        "defaultContentType": "application/json",
        "channels": dict(sorted(channels.items())),
        "operations": dict(sorted(async_operations.items())),
        "components": {
            "messages": dict(sorted(messages.items())),
            "schemas": dict(sorted(schema.get("$defs", {}).items())),
        },
    }


def _add_commands(
    channels: dict[str, Any], async_operations: dict[str, Any], messages: dict[str, Any]
) -> None:
    messages["station.command"] = {
        "name": "station.command",
        "contentType": "application/json",
        "payload": {"$ref": REF.format(model=StationCommand.__name__)},
    }
    messages["station.command.reply"] = {
        "name": "station.command.reply",
        "contentType": "application/json",
        "summary": "x-status ok: CommandAnswer; x-status error: {code, message, details} with "
        "code offline | timeout | station_error | not_supported | invalid",
        "payload": {"$ref": REF.format(model=CommandAnswer.__name__)},
    }
    messages["station.connected.notice"] = {
        "name": "station.connected.notice",
        "contentType": "application/json",
        "summary": "AMQP type station.connected: between gateway nodes, the station connected "
        "to the node named in it; a node that gets it after its own notice for the station "
        "closes its connection.",
        "payload": {"$ref": REF.format(model=StationConnected.__name__)},
    }
    channels["station.command"] = {
        "address": "{stationId}",
        "description": "opencpms.commands direct exchange, routing key = station id. Publish "
        "mandatory with reply_to and correlation_id: the gateway node holding the station "
        "answers; a returned message means the station is offline. Gateway nodes also send "
        "each other connect notices here, which reach only the nodes holding the station.",
        "parameters": {"stationId": {"description": "The station's id"}},
        "messages": {
            "station.command": {"$ref": "#/components/messages/station.command"},
            "station.connected.notice": {"$ref": "#/components/messages/station.connected.notice"},
        },
        "bindings": {
            "amqp": {
                "is": "routingKey",
                "exchange": {"name": "opencpms.commands", "type": "direct", "durable": True},
            }
        },
    }
    channels["station.command.reply"] = {
        "address": None,
        "description": "The caller's reply queue (reply_to); header x-status ok|error.",
        "messages": {
            "station.command.reply": {"$ref": "#/components/messages/station.command.reply"}
        },
    }
    async_operations["command.station"] = {
        "action": "receive",
        "channel": {"$ref": "#/channels/station.command"},
        "summary": "Carry out a command on a charge point, in its own OCPP version.",
        "reply": {"channel": {"$ref": "#/channels/station.command.reply"}},
    }


def _cloudevent(ce_type: str, model: str) -> dict[str, Any]:
    """The structured CloudEvents 1.0 envelope around an event's data."""
    return {
        "type": "object",
        "required": ["specversion", "id", "source", "type", "time", "data"],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": {"type": "string", "description": "Unique per event; consumers dedupe on it"},
            "source": {"type": "string", "examples": ["/opencpms/transactions"]},
            "type": {"const": ce_type},
            "time": {"type": "string", "format": "date-time"},
            "subject": {"type": "string", "description": "The station id"},
            "datacontenttype": {"const": "application/json"},
            "data": {"$ref": REF.format(model=model)},
        },
    }


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")
