"""Admin API for imports: upload files, check, apply, follow progress; reload the live state.

Every route needs an administrator of the whole tree: an admin token
(``Authorization: Bearer T`` or ``?token=T`` — ``LIANXIN_ADMIN_TOKEN`` or one
made with ``token create --role admin``) or a signed-in admin's session cookie,
which on a request that changes something must come with the ``X-CSRFToken``
header equal to the ``_csrf_token`` cookie (double submit, as Dash's own
requests do). Files go up as raw request bodies in parts of at most a few MB
(``PUT …/files/orgs?name=orgs.xlsx&offset=N``, each part continuing the file at
byte N), under the server's request-size limit, streamed to disk; a browser
shows the upload's progress part by part.

    POST   /api/admin/imports                       → {"id", "state", …}
    PUT    /api/admin/imports/{id}/files/{kind}     → {"kind", "size"}      kind: orgs | members | links; ?name=&offset=
    POST   /api/admin/imports/{id}/check            → the job (state "checking", then "checked" or "failed")
    GET    /api/admin/imports/{id}                  → the job: state, stage, progress, summary, problems
    POST   /api/admin/imports/{id}/apply            → the job (state "applying", then "done" or "failed")
    DELETE /api/admin/imports/{id}
    POST   /api/admin/reload                        → rebuild the live state from the store (after a CLI import)
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from dashboard.access.tokens import token_from_request
from dashboard.access.viewer import AccessRefused, Viewer
from dashboard.api.deps import RuntimeDep
from dashboard.api.viewer import CSRF_COOKIE, SESSION_COOKIE, client_address
from dashboard.runtime.core import Runtime
from dashboard.transfer.importer.jobs import ImportJobs, JobError, jobs_for

router = APIRouter(prefix="/api/admin", tags=["admin"])
CSRF_HEADER = "x-csrftoken"


@dataclass(frozen=True)
class Admin:
    runtime: Runtime
    actor: str


def whole_tree_admin(runtime: Runtime, viewer: Viewer) -> bool:
    return viewer.is_admin and viewer.scope.org_id == runtime.tree.root_id and viewer.scope.level == "full"


def _session(request: Request) -> str | None:
    """The session cookie, for reads, or for changes that carry the matching CSRF header."""
    session = request.cookies.get(SESSION_COOKIE)
    if session is None or request.method in ("GET", "HEAD"):
        return session
    expected = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    return session if expected and hmac.compare_digest(expected.encode(), sent.encode()) else None


def require_admin(request: Request, runtime: RuntimeDep) -> Admin:
    token = token_from_request(request.headers.get("authorization"), request.query_params.get("token"))
    try:
        viewer = runtime.access.viewer(token=token, session=None if token else _session(request),
                                       purpose=f"api {request.url.path}", address=client_address(request))
    except AccessRefused as refused:
        raise HTTPException(refused.status, refused.reason, headers={"WWW-Authenticate": "Bearer"}) from None
    if viewer.role == "anonymous":
        raise HTTPException(401, "sign in as an administrator, or send an admin token", headers={"WWW-Authenticate": "Bearer"})
    if not whole_tree_admin(runtime, viewer):
        raise HTTPException(403, "only an administrator of the whole tree may import")
    return Admin(runtime, viewer.actor)


AdminDep = Annotated[Admin, Depends(require_admin)]


def _jobs(admin: AdminDep) -> ImportJobs:
    return jobs_for(admin.runtime)


JobsDep = Annotated[ImportJobs, Depends(_jobs)]


def _refused(exc: JobError) -> HTTPException:
    return HTTPException(409, str(exc))


@router.post("/imports", summary="Start an import")
def create_import(jobs: JobsDep) -> dict[str, Any]:
    try:
        return jobs.create().status()
    except JobError as exc:
        raise _refused(exc) from None


@router.put("/imports/{job_id}/files/{kind}", summary="Upload one file of an import (raw body)")
async def upload_file(job_id: str, kind: str, request: Request, jobs: JobsDep, name: str = Query("upload", max_length=200),
                      offset: int = Query(0, ge=0)) -> dict[str, Any]:
    try:
        upload = jobs.upload(job_id, kind, name, offset)
    except JobError as exc:
        raise _refused(exc) from None
    try:
        async for chunk in request.stream():
            upload.write(chunk)
    except JobError as exc:
        raise HTTPException(413, str(exc)) from None
    except BaseException:
        upload.abort()
        job = jobs.get(job_id)
        if job.state == "new" and not job.files:  # the uploader left: its import holds nothing, free the slot now
            jobs.discard(job_id)
        raise
    upload.finish()
    jobs.share(jobs.get(job_id))
    return {"kind": kind, "size": upload.size}


@router.post("/imports/{job_id}/check", summary="Check the uploaded files (in the background)")
def check_import(job_id: str, jobs: JobsDep) -> dict[str, Any]:
    try:
        return jobs.check(job_id).status()
    except JobError as exc:
        raise _refused(exc) from None


@router.get("/imports/{job_id}", summary="An import's state, progress and report")
def import_status(job_id: str, jobs: JobsDep) -> dict[str, Any]:
    try:
        return jobs.find(job_id).status()  # in a cluster, held here or by another process
    except JobError as exc:
        raise HTTPException(404, str(exc)) from None


@router.post("/imports/{job_id}/apply", summary="Write a checked import and reload the live state")
def apply_import(job_id: str, admin: AdminDep) -> dict[str, Any]:
    try:
        return jobs_for(admin.runtime).apply(job_id, admin.actor).status()
    except JobError as exc:
        raise _refused(exc) from None


@router.delete("/imports/{job_id}", summary="Discard an import and its files")
def discard_import(job_id: str, jobs: JobsDep) -> dict[str, str]:
    jobs.discard(job_id)
    return {"id": job_id, "state": "discarded"}


@router.post("/reload", summary="Rebuild the live state from the store (after an import from the command line)")
async def reload_live_state(admin: AdminDep) -> dict[str, Any]:
    started = time.perf_counter()
    await run_in_threadpool(admin.runtime.reload)
    admin.runtime.audit.record(admin.actor, "live.reload")
    return {"organisations": len(admin.runtime.tree), "seconds": round(time.perf_counter() - started, 2)}
