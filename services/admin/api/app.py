"""The FastAPI application: the REST API under ``/api/v1`` and the health probe."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from opencpms_admin.api import access, billing, commands, id_tokens, stations, transactions
from opencpms_admin.api.context import AdminContext
from opencpms_admin.api.errors import install_error_handlers

API_PREFIX = "/api/v1"

DESCRIPTION = """
The operator's API of OpenCPMS: stations and their live state, id tokens, charging sessions,
tariffs and CDRs, and commands to stations.

Every endpoint needs an API key, sent as `Authorization: Bearer <key>` or `X-API-Key: <key>`.
Roles: `viewer` reads, `operator` also commands stations and manages id tokens, `admin` also
registers stations, sets tariffs and manages API keys. Errors answer
`{"code", "message", "details"}`.
"""


def create_app(context: AdminContext) -> FastAPI:
    app = FastAPI(
        title="OpenCPMS admin API",
        version="1",
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.context = context
    install_error_handlers(app)
    api = APIRouter(prefix=API_PREFIX)
    for module in (stations, commands, id_tokens, transactions, billing, access):
        api.include_router(module.router)
    app.include_router(api)

    @app.get("/healthz", tags=["health"], include_in_schema=False)
    async def healthz() -> dict[str, str]:
        """Liveness, without authentication: the process serves HTTP."""
        return {"status": "ok"}

    return app
