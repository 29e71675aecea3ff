"""Authentication of every request but ``/healthz``.

Programs send an API key (``Authorization: Bearer <key>`` or ``X-API-Key: <key>``); the web UI
sends its session cookie, and with every state-changing request the session's CSRF token (form
field ``csrf_token`` or header ``X-CSRF-Token``). The key's or the user's role must allow the
endpoint.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from opencpms_admin import handlers, users
from opencpms_admin.api.context import AdminContext, Context
from opencpms_admin.domain import Principal, Role, same_secret

SESSION_COOKIE = "opencpms_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="opencpms"'}


def presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key") or None


async def browser_session(request: Request, context: AdminContext) -> users.BrowserSession | None:
    """The signed-in web UI user of this request, looked up once per request."""
    if "browser_session" not in request.scope:
        token = request.cookies.get(SESSION_COOKIE)
        found = (
            await users.session_of(token, uow=context.uow, clock=context.clock) if token else None
        )
        request.scope["browser_session"] = found
    session: users.BrowserSession | None = request.scope["browser_session"]
    return session


async def authenticate(request: Request, context: AdminContext) -> Principal:
    """The caller, or 401. A browser's state-changing request without its CSRF token: 403."""
    key = presented_key(request)
    if key is not None:
        principal = await handlers.authenticate(
            key, bootstrap_key=context.bootstrap_key, uow=context.uow
        )
        if principal is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, "unknown or revoked API key", headers=_CHALLENGE
            )
        return principal
    session = await browser_session(request, context)
    if session is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "an API key or a signed-in session is required",
            headers=_CHALLENGE,
        )
    if request.method not in SAFE_METHODS:
        presented = request.headers.get(CSRF_HEADER) or await _form_token(request)
        if not presented or not same_secret(presented, session.csrf_token):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")
    return session.principal


def check_role(principal: Principal, role: Role) -> None:
    if not principal.role.allows(role):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"the {principal.role} role may not do this; it needs {role}",
        )


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    async def dependency(request: Request, context: Context) -> Principal:
        principal = await authenticate(request, context)
        check_role(principal, role)
        return principal

    return dependency


async def _form_token(request: Request) -> str | None:
    if not request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        return None
    form = await request.form()
    value = form.get("csrf_token")
    return value if isinstance(value, str) else None


Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
