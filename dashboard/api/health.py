"""Liveness, readiness and the honest answer to a store failure.

- ``GET /api/health`` — liveness: 200 while the process serves requests,
  with a few vital signs. It asks nothing of the store, so a load balancer
  never restarts a healthy process because its database is away.
- ``GET /api/ready`` — readiness: 200 when the store answers (within
  ``STORE_TIMEOUT_S``), the live state is built (no reload in progress) and
  the aggregator is current (it has counted every stored event, allowing
  ``CATCH_UP_S`` for the ones in flight); else 503 with ``Retry-After`` and a
  body naming what is not ready. Never hangs: each check has a deadline.
- A store that fails (connection refused, dropped, pool exhausted) answers
  503 with ``Retry-After`` and ``{"detail", "error": "store_unavailable"}`` on
  every HTTP endpoint; the log keeps the database's own message, the client
  gets none of it (no host, port, user or database name). The ingest
  websocket closes with 1013 (try again later).

The server only starts listening once the live state is built (app.py), so
before that a connection is refused at once; docs/deploy.md says how a load
balancer should use the two.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from dashboard.api.deps import RuntimeDep
from dashboard.runtime.core import Runtime
from dashboard.store.models import Event

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api", tags=["health"])

STORE_TIMEOUT_S = 2.0
CATCH_UP_S = 5.0
RETRY_AFTER_S = 1
CLOSE_TRY_AGAIN = 1013
STORE_UNAVAILABLE = "the store is unavailable at the moment; nothing was changed — try again shortly"

# The failures of a store that is away (refused, dropped, timed out), not of a wrong query.
STORE_FAILURES: tuple[type[Exception], ...] = (OperationalError, InterfaceError, DisconnectionError, PoolTimeoutError)


def store_unavailable_response() -> JSONResponse:
    return JSONResponse(
        {"detail": STORE_UNAVAILABLE, "error": "store_unavailable"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


async def _store_failed(request: Request, exc: Exception) -> JSONResponse:
    log.error("store failure on %s %s: %s", request.method, request.url.path, exc)
    return store_unavailable_response()


def install(api: FastAPI, runtime: Runtime) -> None:
    """The health routes, the readiness checks, and the 503 for every store failure inside a route
    (or a Dash callback on the same app)."""
    api.state.readiness = Readiness(runtime)
    api.include_router(router)
    for kind in STORE_FAILURES:
        api.add_exception_handler(kind, _store_failed)


@dataclass
class CatchUp:
    """Whether the aggregator keeps up with the store: behind is fine, behind the same events for long is not."""

    target: int = 0
    since: float = 0.0

    def lagging(self, stored: int, counted: int, now: float) -> int:
        """Events the aggregator has been missing for more than CATCH_UP_S (0 when current)."""
        if counted >= self.target:
            self.target, self.since = stored, now
        if counted >= stored:
            return 0
        return stored - counted if now - self.since > CATCH_UP_S else 0


def _stored_max_seq(runtime: Runtime) -> int:
    with runtime.engine.connect() as conn:
        return int(conn.execute(select(func.max(Event.seq))).scalar() or 0)


class Readiness:
    """The readiness checks of one server. At most one store probe runs at a time: a store that
    hangs holds one worker thread, not one per load-balancer poll."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.catch_up = CatchUp()
        self._probe: asyncio.Future[int] | None = None

    async def _stored_seq(self) -> int:
        if self._probe is None or self._probe.done():
            self._probe = asyncio.ensure_future(asyncio.to_thread(_stored_max_seq, self.runtime))
        return await asyncio.wait_for(asyncio.shield(self._probe), STORE_TIMEOUT_S)

    async def problems(self) -> dict[str, str]:
        """What is not ready, by part (empty when ready)."""
        problems: dict[str, str] = {}
        stored: int | None = None
        try:
            stored = await self._stored_seq()
        except TimeoutError:
            problems["store"] = f"no answer within {STORE_TIMEOUT_S:g} s"
        except STORE_FAILURES as exc:
            log.warning("readiness: store unreachable: %s", exc)
            problems["store"] = "unreachable"
        if self.runtime.reloading:
            problems["live_state"] = "being rebuilt from the store"
        elif stored is not None:
            missing = self.catch_up.lagging(stored, self.runtime.aggregator.last_seq, time.monotonic())
            if missing:
                problems["aggregator"] = f"{missing:,} stored events not counted after {CATCH_UP_S:g} s"
        return problems


@router.get("/health", summary="Liveness: the process serves requests (asks nothing of the store)")
async def health(rt: RuntimeDep) -> dict[str, Any]:
    return {
        "status": "ok",
        "pid": os.getpid(),  # which worker answered (--workers: one port, several processes)
        "organisations": len(rt.tree),
        "uptime_s": round(time.time() - rt.started_at, 1),
        "tree_problems": len(rt.tree.problems),
        "screens": rt.publisher.screen_count(),
        "scopes": len(rt.publisher.channels),
        "tasks": len(asyncio.all_tasks()),
        "frames": dict(rt.publisher.stats),
    }


@router.get(
    "/ready",
    summary="Readiness: the store answers, the live state is built and current",
    responses={503: {"description": "not ready; the body names what is not", "content": {"application/json": {}}}},
)
async def ready(request: Request, rt: RuntimeDep) -> JSONResponse:
    checks: Readiness = request.app.state.readiness
    problems = await checks.problems()
    body = {"status": "ready" if not problems else "not ready", "not_ready": problems, "counted_seq": rt.aggregator.last_seq}
    if problems:
        return JSONResponse(body, status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})
    return JSONResponse(body)
