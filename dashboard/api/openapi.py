"""The OpenAPI document says how to authenticate and every status each operation can answer.

FastAPI documents what its routes declare; the edge (dashboard.api.edge) and
the access rules answer more than that — 401 without a token, 403 for a role
that may not, 404 for an organisation outside the caller's scope, 429 from the
rate limits, 413 over a size. ``document_security`` adds them, with the three
ways a caller is known (a bearer token, ``?token=``, the sign-in cookie), so
a client generator or schemathesis sees the API as it is.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "a token: `python -m dashboard token create`"},
    "token": {"type": "apiKey", "in": "query", "name": "token", "description": "the same token in the URL (walls)"},
    "session": {"type": "apiKey", "in": "cookie", "name": "lx_session", "description": "the cookie `POST /auth/login` sets"},
}
OPEN = frozenset({"/api/health", "/api/ready", "/auth/login", "/auth/logout"})
REASONS = {
    400: "the request is malformed (not JSON, not URL-encoded, the wrong shape)",
    401: "no token and no session, or an unknown, revoked or expired token",
    403: "the caller's role or level may not do this",
    404: "no such thing within the caller's scope",
    409: "the import is not in a state that allows this",
    413: "the body is over the size accepted",
    429: "over a rate limit; wait Retry-After seconds",
    503: "the store cannot take this now; nothing was kept",
}
# Statuses beyond 401/403 (every protected operation) and 429 (every operation), by path prefix.
MORE = {
    "/api/events": (400, 413, 503),
    "/api/orgs": (404,),
    "/api/snapshot": (404,),
    "/api/members": (404,),
    "/api/admin/imports/{job_id}/files": (404, 409, 413),
    "/api/admin/imports/{job_id}": (404, 409),
    "/api/admin/imports": (409,),
    "/auth/login": (400, 403, 413),
    "/auth/logout": (403,),
}
ERROR = {"content": {"application/json": {"schema": {"type": "object", "properties": {"detail": {"type": "string"}}}}}}


def statuses(path: str) -> set[int]:
    """Every status an operation at ``path`` may answer besides its success and 422."""
    found = {429} if path not in ("/api/health", "/api/ready") else set()
    if path not in OPEN:
        found |= {401, 403}
    prefix = max((p for p in MORE if path.startswith(p)), key=len, default=None)
    return found | set(MORE.get(prefix, ())) if prefix else found


def document_security(api: FastAPI) -> None:
    """Make ``api.openapi()`` carry the security schemes and every status (computed once, then cached)."""

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            doc = get_openapi(title=api.title, version=api.version, description=api.description, routes=api.routes)
            doc.setdefault("components", {})["securitySchemes"] = SCHEMES
            for path, operations in doc.get("paths", {}).items():
                for operation in operations.values():
                    if path not in OPEN:
                        operation["security"] = [{name: []} for name in SCHEMES]
                    for status in sorted(statuses(path)):
                        operation.setdefault("responses", {}).setdefault(str(status), {"description": REASONS[status], **ERROR})
            api.openapi_schema = doc
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
