"""One station's websocket: reading frames, answering its CALLs in order, and carrying the
CSMS's own CALLs to it.

Frames are read by one loop that never waits on the backend: a station's CALLs go to a queue
answered in order by a worker (OCPP-J allows one outstanding CALL per direction, so a station's
requests reach the services in order), while CALLRESULTs to the CSMS's own calls resolve at
once, so an operator's command never waits behind a slow backend call of the same station.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from opencpms_contracts.common import RegistrationStatus
from opencpms_contracts.stations import StationFrame
from opencpms_gateway import rpc_frames
from opencpms_gateway.backend import Backend, EventLog
from opencpms_gateway.error_codes import ErrorKind, error_code, schema_error_kind
from opencpms_gateway.ocpp_schemas import SchemaSet, SchemaViolation
from opencpms_gateway.router import ActionRouter, CallContext, CallFailedError, StationState
from opencpms_gateway.translate.errors import TranslationError
from opencpms_messaging.rpc_errors import RpcError

log = logging.getLogger(__name__)

# 1013 "Try Again Later": the station reconnects and replays its offline queue.
CLOSE_BACKEND_UNAVAILABLE = 1013
CLOSE_POLICY_VIOLATION = 1008
CLOSE_REPLACED = 4000


@dataclass(frozen=True)
class SessionOptions:
    frame_log: bool
    max_queued_calls: int
    check_responses: bool = True
    authorization_reuse_s: float = 0.0  # opencpms_gateway.authorizations


class OutgoingCallError(Exception):
    """The station answered a CSMS call with a CALLERROR."""

    def __init__(self, code: str, description: str, details: dict[str, Any]) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.details = details


class StationDisconnectedError(Exception):
    """The station's connection closed before it answered."""


class StationSession:
    def __init__(
        self,
        websocket: ServerConnection,
        *,
        state: StationState,
        router: ActionRouter,
        schemas: SchemaSet,
        backend: Backend,
        events: EventLog,
        options: SessionOptions,
        on_first_call: Callable[[], None] | None = None,
        on_first_answer: Callable[[bool], None] | None = None,
    ) -> None:
        self.websocket = websocket
        self.state = state
        self.connected_at = datetime.now(UTC)
        self._router = router
        self._schemas = schemas
        self._backend = backend
        self._events = events
        self._options = options
        self._calls: asyncio.Queue[rpc_frames.Call] = asyncio.Queue(options.max_queued_calls)
        self._outgoing: dict[str, tuple[str, asyncio.Future[dict[str, Any]]]] = {}
        self._outgoing_lock = asyncio.Lock()
        # Admission (admission.py): the station is starting until its first CALL is answered;
        # the argument says whether it was answered with a CALLRESULT.
        self._on_first_call = on_first_call
        self._on_first_answer = on_first_answer

    @property
    def station_id(self) -> str:
        return self.state.station_id

    async def run(self) -> None:
        """Serves the connection until it closes."""
        worker = asyncio.create_task(self._answer_calls(), name=f"calls-{self.station_id}")
        try:
            async for raw in self.websocket:
                await self._received(raw)
        except ConnectionClosed:
            pass
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            for _action, future in self._outgoing.values():
                if not future.done():
                    future.set_exception(StationDisconnectedError(self.station_id))

    async def close(self, code: int, reason: str) -> None:
        await self.websocket.close(code, reason)

    # -- frames from the station ---------------------------------------------------------------

    async def _received(self, raw: str | bytes) -> None:
        try:
            frame = rpc_frames.parse(raw)
        except rpc_frames.FrameError as exc:
            self._log_frame("in", raw, None)
            await self._send_error(exc.message_id, exc.kind, exc.description)
            return
        except rpc_frames.UnknownMessageType as exc:
            self._log_frame("in", raw, None)
            # 2.0.1 answers an unknown message type; OCPP-J 1.6 and 2.1 ignore it.
            if self.state.version == "2.0.1":
                await self._send_error(
                    exc.message_id, ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED, str(exc)
                )
            return
        self._log_frame("in", raw, frame)
        if isinstance(frame, rpc_frames.Call):
            if self._on_first_call is not None:
                self._on_first_call()
                self._on_first_call = None
            try:
                self._calls.put_nowait(frame)
            except asyncio.QueueFull:
                log.warning(
                    "%s sent %d CALLs without waiting; closing",
                    self.station_id,
                    self._options.max_queued_calls,
                )
                await self.close(CLOSE_POLICY_VIOLATION, "too many outstanding CALLs")
            return
        pending = self._outgoing.get(frame.message_id)
        if pending is None or pending[1].done():
            log.info("%s answered unknown call %s", self.station_id, frame.message_id)
            return
        _action, future = pending
        if isinstance(frame, rpc_frames.CallResult):
            future.set_result(frame.payload)
        else:
            future.set_exception(OutgoingCallError(frame.code, frame.description, frame.details))

    async def _answer_calls(self) -> None:
        while True:
            call = await self._calls.get()
            answered = await self._answer(call)
            if self._on_first_answer is not None:
                self._on_first_answer(answered)
                self._on_first_answer = None

    async def _answer(self, call: rpc_frames.Call) -> bool:
        """Answers one CALL; True when with a CALLRESULT."""
        route = self._router.routes.get(call.action)
        if route is None:
            kind = (
                ErrorKind.NOT_SUPPORTED
                if self._schemas.knows(call.action)
                else ErrorKind.NOT_IMPLEMENTED
            )
            await self._send_error(call.message_id, kind, f"{call.action} is not handled")
            return False
        if (
            self.state.registration is RegistrationStatus.REJECTED
            and call.action != "BootNotification"
        ):
            # A station Rejected at boot may send nothing but BootNotification until accepted.
            await self._send_error(
                call.message_id,
                ErrorKind.SECURITY,
                "station was Rejected at boot; send BootNotification",
            )
            return False
        try:
            self._schemas.check_request(call.action, call.payload)
        except SchemaViolation as exc:
            await self._send_error(call.message_id, schema_error_kind(exc.rule), exc.message)
            return False
        context = CallContext(
            state=self.state,
            backend=self._backend,
            events=self._events,
            received_at=datetime.now(UTC),
        )
        try:
            response = await route.handler(context, call.payload)
        except CallFailedError as exc:
            await self._send_error(call.message_id, exc.kind, exc.description)
            return False
        except TranslationError as exc:
            await self._send_error(call.message_id, ErrorKind.PROPERTY, str(exc))
            return False
        except RpcError as exc:
            if route.transactional:
                log.warning(
                    "%s %s not taken (%s); closing so the station retries",
                    self.station_id,
                    call.action,
                    exc.code,
                )
                await self.close(CLOSE_BACKEND_UNAVAILABLE, "backend unavailable, retry")
                return False
            log.warning("%s %s failed: %s", self.station_id, call.action, exc)
            await self._send_error(call.message_id, ErrorKind.INTERNAL, "service unavailable")
            return False
        except Exception:
            # A bug must cost one answer, not the worker that answers this station.
            log.exception("%s %s: handler failed", self.station_id, call.action)
            await self._send_error(call.message_id, ErrorKind.INTERNAL, "internal error")
            return False
        if self._options.check_responses:
            try:
                self._schemas.check_response(call.action, response)
            except SchemaViolation as exc:
                log.error(
                    "%s %s: our answer breaks the schema: %s",
                    self.station_id,
                    call.action,
                    exc.message,
                )
                await self._send_error(call.message_id, ErrorKind.INTERNAL, "internal error")
                return False
        await self._send(
            rpc_frames.encode_result(call.message_id, response),
            call.action,
            rpc_frames.CALLRESULT,
            call.message_id,
        )
        return True

    # -- frames to the station -----------------------------------------------------------------

    async def call(self, action: str, payload: dict[str, Any], *, timeout: float) -> dict[str, Any]:
        """Sends a CSMS-initiated CALL and returns the station's CALLRESULT payload.

        One at a time per station (OCPP-J); raises :class:`OutgoingCallError`,
        :class:`StationDisconnectedError` or ``TimeoutError``.
        """
        async with self._outgoing_lock:
            message_id = uuid.uuid4().hex
            future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._outgoing[message_id] = (action, future)
            try:
                try:
                    await self._send(
                        rpc_frames.encode_call(message_id, action, payload),
                        action,
                        rpc_frames.CALL,
                        message_id,
                    )
                except ConnectionClosed:
                    raise StationDisconnectedError(self.station_id) from None
                async with asyncio.timeout(timeout):
                    return await future
            finally:
                self._outgoing.pop(message_id, None)

    async def _send_error(self, message_id: str, kind: ErrorKind, description: str) -> None:
        code = error_code(self.state.version, kind)
        await self._send(
            rpc_frames.encode_error(message_id, code, description),
            None,
            rpc_frames.CALLERROR,
            message_id,
        )

    async def _send(
        self, text: str, action: str | None, message_type: int, message_id: str
    ) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self.websocket.send(text)
        if self._options.frame_log:
            self._record(text, "out", message_type, message_id, action)

    def _log_frame(self, direction: str, raw: str | bytes, frame: rpc_frames.Frame | None) -> None:
        if not self._options.frame_log:
            return
        text = raw if isinstance(raw, str) else raw.decode(errors="replace")
        if isinstance(frame, rpc_frames.Call):
            self._record(text, direction, rpc_frames.CALL, frame.message_id, frame.action)
        elif isinstance(frame, rpc_frames.CallResult):
            action = self._outgoing.get(frame.message_id, (None, None))[0]
            self._record(text, direction, rpc_frames.CALLRESULT, frame.message_id, action)
        elif isinstance(frame, rpc_frames.CallError):
            self._record(text, direction, rpc_frames.CALLERROR, frame.message_id, None)
        else:
            self._record(text, direction, None, None, None)

    def _record(
        self,
        text: str,
        direction: str,
        message_type: int | None,
        message_id: str | None,
        action: str | None,
    ) -> None:
        self._events.record_frame(
            StationFrame(
                station_id=self.station_id,
                connection_id=self.state.connection_id,
                direction=direction,
                message_type=message_type,
                message_id=message_id,
                action=action,
                raw=text,
                at=datetime.now(UTC),
            )
        )
