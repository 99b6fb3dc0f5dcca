"""The FastAPI application that carries the HTTP API, the ingest websocket and, on top, Dash.

``create_api`` builds the FastAPI app with Lianxin's own routes; ``app.py``
then mounts Dash on the same app (Dash's FastAPI backend) so one uvicorn
process serves both. Lianxin's routes are registered first, so Dash's
catch-all page route never shadows them.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI

from dashboard import __version__
from dashboard.api import health
from dashboard.api.auth import router as auth_router
from dashboard.api.docs import docs_router
from dashboard.api.imports import router as import_router
from dashboard.api.ingest import router as ingest_router
from dashboard.api.openapi import document_security
from dashboard.api.read import router as api_router
from dashboard.api.reports import router as reports_router
from dashboard.runtime.core import Runtime

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_api(runtime: Runtime, lifespan: Lifespan | None = None) -> FastAPI:
    api = FastAPI(
        lifespan=lifespan,
        title="Lianxin 连心 API",
        version=__version__,
        description="Live ingest and read API of Lianxin. See docs/api.md and docs/events.md.",
        docs_url=None,  # served by dashboard/api/docs.py from vendored assets, under the CSP
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    api.state.runtime = runtime
    api.state.login_throttle = runtime.login_throttle  # in Redis for a cluster (dashboard/runtime/membership.py)
    health.install(api, runtime)
    api.include_router(api_router)
    api.include_router(ingest_router)
    api.include_router(import_router)
    api.include_router(reports_router)
    api.include_router(auth_router)
    document_security(api)
    api.include_router(docs_router(api.title, api.openapi_url or "/api/openapi.json"))
    return api
