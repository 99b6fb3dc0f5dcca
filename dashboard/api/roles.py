"""``--role``: what one process of a cluster serves (docs/scale.md, "Processes and roles").

- ``all`` (the default): everything — the one process of the embedded demo, or identical cluster members.
- ``web``: pages, screens and the read API; it refuses ingest (send events to an ``ingest`` or ``all`` process).
- ``ingest``: ``POST /api/events`` and ``/ws/ingest``, plus health; no pages.
- ``aggregate``: health and ``/api/snapshot`` only: a process that keeps the live state and competes
  for the cluster's snapshot lease without serving screens or producers.

Every role keeps its own aggregator fed by the cluster's stream (docs/scale.md says why), so any one of
them dying darkens nothing that another serves. The gate is an ASGI wrapper: what a role does not serve
is answered 404 (a websocket: closed at the handshake) with one line saying which role it is.
"""

from __future__ import annotations

from typing import Any

import orjson

ROLES = ("all", "web", "ingest", "aggregate")
HEALTH_PATHS = frozenset({"/api/health", "/api/ready"})
INGEST_PATHS = frozenset({"/api/events", "/ws/ingest"})
AGGREGATE_PATHS = HEALTH_PATHS | {"/api/snapshot"}


def serves(role: str, path: str) -> bool:
    """Whether a process of ``role`` answers ``path``."""
    if role == "all":
        return True
    if role == "web":
        return path not in INGEST_PATHS
    if role == "ingest":
        return path in HEALTH_PATHS or path in INGEST_PATHS
    return path in AGGREGATE_PATHS


class RoleGate:
    """Answers what the process's role does not serve with a 404 naming the role; passes the rest to ``app``."""

    def __init__(self, app: Any, role: str) -> None:
        self.app = app
        self.role = role

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket") or serves(self.role, scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": f"not served by a --role {self.role} process"})
            return
        body = orjson.dumps({"detail": f"this process runs --role {self.role} and does not serve {scope.get('path', '')} (docs/scale.md)",
                             "error": "not_this_role"})
        await send({"type": "http.response.start", "status": 404,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
