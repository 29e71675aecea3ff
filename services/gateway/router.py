"""Per-version tables of the station-initiated actions the gateway answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opencpms_contracts import authorization as auth
from opencpms_contracts.common import IdTokenInfo, RegistrationStatus
from opencpms_gateway.authorizations import RecentAuthorizations
from opencpms_gateway.backend import Backend, EventLog
from opencpms_gateway.error_codes import ErrorKind


@dataclass
class StationState:
    """What the gateway remembers of one connection: nothing that would be lost badly when
    the node restarts (ARCHITECTURE §2)."""

    station_id: str
    version: str
    connection_id: str
    registration: RegistrationStatus | None = None
    authorizations: RecentAuthorizations = field(
        default_factory=lambda: RecentAuthorizations(reuse_s=0)
    )


@dataclass(frozen=True)
class CallContext:
    state: StationState
    backend: Backend
    events: EventLog
    received_at: datetime

    @property
    def station_id(self) -> str:
        return self.state.station_id

    async def authorize(self, request: auth.AuthorizeIdToken) -> IdTokenInfo:
        """The authorization service's answer to the station's Authorize, remembered for the
        transaction message that follows (:mod:`opencpms_gateway.authorizations`)."""
        info: IdTokenInfo = await self.backend.call(auth.AUTHORIZE, request)
        self.state.authorizations.remember(request.id_token, info)
        return info

    async def token_info(self, request: auth.AuthorizeIdToken) -> IdTokenInfo:
        """The idTokenInfo a transaction message's token is answered with: what the station's
        Authorize of it was just told, or the service's answer."""
        info = self.state.authorizations.take(request.id_token)
        if info is None:
            info = await self.backend.call(auth.AUTHORIZE, request)
        return info


ActionHandler = Callable[[CallContext, dict[str, Any]], Awaitable[dict[str, Any]]]


class CallFailedError(Exception):
    """A handler's refusal, answered as a CALLERROR of ``kind``."""

    def __init__(self, kind: ErrorKind, description: str) -> None:
        super().__init__(description)
        self.kind = kind
        self.description = description


@dataclass(frozen=True)
class Route:
    handler: ActionHandler
    # The station keeps these in its offline queue and retries them: when a service cannot
    # take one, the gateway must not answer with a CALLERROR the station would count as
    # delivered; it closes the connection instead (ARCHITECTURE §2).
    transactional: bool


@dataclass
class ActionRouter:
    version: str
    routes: dict[str, Route] = field(default_factory=dict)

    def on(
        self, action: str, *, transactional: bool = False
    ) -> Callable[[ActionHandler], ActionHandler]:
        def register(handler: ActionHandler) -> ActionHandler:
            if action in self.routes:
                raise ValueError(f"{self.version} {action} handled twice")
            self.routes[action] = Route(handler, transactional)
            return handler

        return register
