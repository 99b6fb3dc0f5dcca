"""The access rules of dashboard.access.viewer applied to HTTP requests: cookies, tokens, addresses.

``request_viewer`` is the FastAPI dependency every read route takes; it turns
``AccessRefused`` into 401/403 with a one-line reason.
"""

from __future__ import annotations

from fastapi import HTTPException, Request

from dashboard.access.tokens import token_from_request
from dashboard.access.viewer import AccessRefused, Viewer
from dashboard.runtime.core import Runtime

SESSION_COOKIE = "lx_session"
# Read by Dash's renderer and sent back as X-CSRFToken with each callback (double submit, see dashboard.api.edge).
CSRF_COOKIE = "_csrf_token"
# The CSRF token is ScopeSigner.derive(CSRF_PURPOSE, session secret): the edge recomputes it from the session cookie.
CSRF_PURPOSE = "csrf"


def client_address(request: Request) -> str | None:
    """The caller's address (the proxy's X-Forwarded-For only when the proxy is trusted: uvicorn decides)."""
    return request.client.host if request.client else None


def request_viewer(request: Request) -> Viewer:
    runtime: Runtime = request.app.state.runtime
    token = token_from_request(request.headers.get("authorization"), request.query_params.get("token"))
    try:
        return runtime.access.viewer(
            token=token,
            session=request.cookies.get(SESSION_COOKIE),
            purpose=f"api {request.url.path}",
            address=client_address(request),
        )
    except AccessRefused as refused:
        headers = {"WWW-Authenticate": "Bearer"} if refused.status == 401 else None
        raise HTTPException(refused.status, refused.reason, headers=headers) from None
