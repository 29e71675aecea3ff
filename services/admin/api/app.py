"""The FastAPI application: the REST API under ``/api/v1`` and the health probe."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from opencpms_admin.api import access, billing, commands, id_tokens, stations, transactions
from opencpms_admin.api.context import AdminContext
from opencpms_admin.api.errors import install_error_handlers
from opencpms_admin.web import exports, pages, session_routes
from opencpms_admin.web.live import LiveFeed
from opencpms_admin.web.templating import SignInRequired, sign_in_location

WEB = Path(__file__).parents[1] / "web"
# Installed from the npm registry by `make install` (services/admin/web/package-lock.json).
CHART_JS = WEB / "node_modules" / "chart.js" / "dist"

API_PREFIX = "/api/v1"

DESCRIPTION = """
The operator's API of OpenCPMS: stations and their live state, id tokens, charging sessions,
tariffs and CDRs, and commands to stations.

Every endpoint needs an API key, sent as `Authorization: Bearer <key>` or `X-API-Key: <key>`.
Roles: `viewer` reads, `operator` also commands stations and manages id tokens, `admin` also
registers stations, sets tariffs and manages API keys. Errors answer
`{"code", "message", "details"}`.
"""


def create_app(context: AdminContext, live: LiveFeed | None = None) -> FastAPI:
    app = FastAPI(
        title="OpenCPMS admin API",
        version="1",
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.context = context
    app.state.live = live or LiveFeed()
    install_error_handlers(app)
    api = APIRouter(prefix=API_PREFIX)
    for module in (stations, commands, id_tokens, transactions, billing, access):
        api.include_router(module.router)
    app.include_router(api)
    for module in (session_routes, pages, exports):
        app.include_router(module.router)
    app.mount("/ui/static", StaticFiles(directory=WEB / "static"), name="static")
    if CHART_JS.is_dir():
        app.mount("/ui/vendor/chart.js", StaticFiles(directory=CHART_JS), name="chart.js")

    async def on_sign_in_required(request: Request, exc: Exception) -> RedirectResponse:
        assert isinstance(exc, SignInRequired)
        return RedirectResponse(sign_in_location(exc.next_path), status_code=303)

    app.add_exception_handler(SignInRequired, on_sign_in_required)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=303)

    @app.get("/healthz", tags=["health"], include_in_schema=False)
    async def healthz() -> dict[str, str]:
        """Liveness, without authentication: the process serves HTTP."""
        return {"status": "ok"}

    return app
