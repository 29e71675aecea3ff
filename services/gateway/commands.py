"""Operator commands arriving on this node's command queue, carried out on the station's
websocket in its own OCPP version (ARCHITECTURE §3)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from types import ModuleType
from typing import Any

from opencpms_contracts.commands import Command, CommandAnswer, StationCommand
from opencpms_gateway.ocpp_schemas import SchemaViolation, schemas
from opencpms_gateway.session import OutgoingCallError, StationDisconnectedError, StationSession
from opencpms_gateway.translate import commands_v2, commands_v16
from opencpms_messaging.rpc_errors import (
    InvalidRequestError,
    RpcTimeoutError,
    StationCallError,
    StationOfflineError,
)

log = logging.getLogger(__name__)

TRANSLATORS: dict[str, ModuleType] = {"1.6": commands_v16, "2.0.1": commands_v2, "2.1": commands_v2}


def ocpp_call(version: str, command: Command) -> tuple[str, dict[str, Any]]:
    """The OCPP action and payload for ``command`` in ``version``, checked against that
    version's schema so a station never receives a CALL it must reject as malformed."""
    action, payload = TRANSLATORS[version].to_call(command)
    try:
        schemas(version).check_request(action, payload)
    except SchemaViolation as exc:
        raise InvalidRequestError(f"{action} would be invalid: {exc}") from None
    return action, payload


class CommandDispatcher:
    """The handler of the node's :class:`CommandQueue`."""

    def __init__(
        self,
        session_of: Callable[[str], StationSession | None],
        moved_away: Callable[[str], bool],
    ) -> None:
        self._session_of = session_of
        self._moved_away = moved_away

    async def handle(self, request: StationCommand) -> CommandAnswer | None:
        station_id = request.station_id
        session = self._session_of(station_id)
        if session is None:
            if self._moved_away(station_id):
                # The station reconnected to another node, which is bound too and answers.
                return None
            raise StationOfflineError(f"{station_id} is not connected")
        version = session.state.version
        action, payload = ocpp_call(version, request.command)
        try:
            # The whole wait counts, including a command still in flight for this station
            # (one outstanding CALL per direction, OCPP-J).
            async with asyncio.timeout(request.timeout_s):
                result = await session.call(action, payload, timeout=request.timeout_s)
        except TimeoutError:
            raise RpcTimeoutError(
                f"{station_id} did not answer {action} within {request.timeout_s:g} s"
            ) from None
        except OutgoingCallError as exc:
            raise StationCallError(
                f"{station_id} refused {action}: {exc.code} {exc.description}".strip(),
                details={
                    "error_code": exc.code,
                    "description": exc.description,
                    "error_details": exc.details,
                },
            ) from None
        except StationDisconnectedError:
            raise StationOfflineError(f"{station_id} disconnected before answering") from None
        status, data = TRANSLATORS[version].answer(action, result)
        log.info("%s answered %s: %s", station_id, action, status)
        return CommandAnswer(
            station_id=station_id, ocpp_version=version, action=action, status=status, data=data
        )
