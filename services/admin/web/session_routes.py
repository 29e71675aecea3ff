"""Signing in and out of the web UI."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from opencpms_admin import users
from opencpms_admin.api.auth import SESSION_COOKIE, browser_session
from opencpms_admin.api.context import AdminContext, Context
from opencpms_admin.domain import same_secret
from opencpms_admin.web.templating import check_form_csrf, render

router = APIRouter(prefix="/ui", include_in_schema=False)

# Before sign-in there is no session to hold a CSRF token: the form's token is also set as a
# cookie and both must match (double submit), so another site cannot sign a browser in.
LOGIN_CSRF_COOKIE = "opencpms_login_csrf"


@router.get("/login")
async def login_page(request: Request, next: str = "/ui/") -> HTMLResponse:
    return _login_form(request, next)


@router.post("/login")
async def login(
    request: Request,
    context: Context,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/ui/",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not same_secret(csrf_token, expected):
        return _login_failed(request, "The sign-in form expired; please try again.", next)
    signed_in = await users.sign_in(
        username,
        password,
        lifetime=context.session_lifetime,
        uow=context.uow,
        clock=context.clock,
    )
    if signed_in is None:
        return _login_failed(request, "Wrong user name or password.", next)
    response = RedirectResponse(_safe(next), status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        SESSION_COOKIE,
        signed_in.token,
        max_age=int(context.session_lifetime.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=_secure(request, context),
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/ui/login")
    return response


@router.post("/logout")
async def logout(
    request: Request, context: Context, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    session = await browser_session(request, context)
    if session is not None:
        check_form_csrf(session, csrf_token)
        await users.sign_out(request.cookies[SESSION_COOKIE], uow=context.uow)
    response = RedirectResponse("/ui/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _login_failed(request: Request, message: str, next: str) -> HTMLResponse:
    response = _login_form(request, next, error=message)
    response.status_code = status.HTTP_401_UNAUTHORIZED
    return response


def _login_form(request: Request, next: str, *, error: str | None = None) -> HTMLResponse:
    """The sign-in page with a fresh CSRF token, in the form and in its cookie."""
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", None, login_csrf=token, next=_safe(next), error=error)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/ui/login",
        secure=request.url.scheme == "https",
    )
    return response


def _safe(next_path: str) -> str:
    """Only pages of the UI itself: never an open redirect to another site."""
    if next_path.startswith("/ui") and not next_path.startswith("//"):
        return next_path
    return "/ui/"


def _secure(request: Request, context: AdminContext) -> bool:
    if context.secure_cookies is not None:
        return context.secure_cookies
    return request.url.scheme == "https"
