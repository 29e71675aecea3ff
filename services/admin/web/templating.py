"""Rendering pages, and who may see them: a page needs a signed-in user whose role allows it;
anyone else is sent to the sign-in page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from opencpms_admin.api.auth import browser_session, check_role
from opencpms_admin.api.context import Context
from opencpms_admin.domain import Role, same_secret
from opencpms_admin.users import BrowserSession

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


class SignInRequired(Exception):
    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


def page_user(role: Role) -> Callable[..., Awaitable[BrowserSession]]:
    async def dependency(request: Request, context: Context) -> BrowserSession:
        session = await browser_session(request, context)
        if session is None:
            raise SignInRequired(request.url.path)
        check_role(session.principal, role)
        return session

    return dependency


PageViewer = Annotated[BrowserSession, Depends(page_user(Role.VIEWER))]
PageOperator = Annotated[BrowserSession, Depends(page_user(Role.OPERATOR))]


def render(
    request: Request, template: str, session: BrowserSession | None, **context: Any
) -> HTMLResponse:
    principal = session.principal if session else None
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "user": principal,
            "can_operate": principal is not None and principal.role.allows(Role.OPERATOR),
            "csrf_token": session.csrf_token if session else "",
            **context,
        },
    )


def check_form_csrf(session: BrowserSession, presented: str) -> None:
    if not presented or not same_secret(presented, session.csrf_token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")


def sign_in_location(next_path: str) -> str:
    return f"/ui/login?next={quote(next_path)}"


def _when(value: datetime | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def _kwh(wh: int | None) -> str:
    return "—" if wh is None else f"{wh / 1000:,.2f} kWh"


TEMPLATES.env.filters["when"] = _when
TEMPLATES.env.filters["kwh"] = _kwh
