"""Admin API for imports: upload files, check, apply, follow progress; reload the live state.

Every route needs an admin token (``Authorization: Bearer T`` or ``?token=T``:
``LIANXIN_ADMIN_TOKEN`` or a token created with ``--role admin``). Files are
sent as the raw request body (``PUT …/files/orgs?name=orgs.xlsx``), streamed
to disk, so a browser can show upload progress and nothing big sits in memory.

    POST   /api/admin/imports                       → {"id", "state", …}
    PUT    /api/admin/imports/{id}/files/{kind}     → {"kind", "size"}      kind: orgs | members | links
    POST   /api/admin/imports/{id}/check            → the job (state "checking", then "checked" or "failed")
    GET    /api/admin/imports/{id}                  → the job: state, stage, progress, summary, problems
    POST   /api/admin/imports/{id}/apply            → the job (state "applying", then "done" or "failed")
    DELETE /api/admin/imports/{id}
    POST   /api/admin/reload                        → rebuild the live state from the store (after a CLI import)
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from dashboard.importer.jobs import ImportJobs, JobError, jobs_for
from dashboard.runtime import Runtime
from dashboard.tokens import token_from_request, verify_token

router = APIRouter(prefix="/api/admin", tags=["admin"])


def admin_token_ok(runtime: Runtime, token: str | None) -> bool:
    info = verify_token(runtime.engine, token, runtime.settings)
    return info is not None and info.role == "admin" and info.org_id is None


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def require_admin(request: Request) -> Runtime:
    runtime = _runtime(request)
    token = token_from_request(request.headers.get("authorization"), request.query_params.get("token"))
    if not admin_token_ok(runtime, token):
        raise HTTPException(401 if token is None else 403, "an admin token for the whole tree is needed",
                            headers={"WWW-Authenticate": "Bearer"})
    return runtime


def _jobs(runtime: Runtime = Depends(require_admin)) -> ImportJobs:
    return jobs_for(runtime)


def _refused(exc: JobError) -> HTTPException:
    return HTTPException(409, str(exc))


@router.post("/imports", summary="Start an import")
def create_import(jobs: ImportJobs = Depends(_jobs)) -> dict[str, Any]:
    try:
        return jobs.create().status()
    except JobError as exc:
        raise _refused(exc) from None


@router.put("/imports/{job_id}/files/{kind}", summary="Upload one file of an import (raw body)")
async def upload_file(job_id: str, kind: str, request: Request, name: str = Query("upload", max_length=200),
                      jobs: ImportJobs = Depends(_jobs)) -> dict[str, Any]:
    try:
        upload = jobs.upload(job_id, kind, name)
    except JobError as exc:
        raise _refused(exc) from None
    try:
        async for chunk in request.stream():
            upload.write(chunk)
    except JobError as exc:
        raise HTTPException(413, str(exc)) from None
    except BaseException:
        upload.abort()
        raise
    upload.finish()
    return {"kind": kind, "size": upload.size}


@router.post("/imports/{job_id}/check", summary="Check the uploaded files (in the background)")
def check_import(job_id: str, jobs: ImportJobs = Depends(_jobs)) -> dict[str, Any]:
    try:
        return jobs.check(job_id).status()
    except JobError as exc:
        raise _refused(exc) from None


@router.get("/imports/{job_id}", summary="An import's state, progress and report")
def import_status(job_id: str, jobs: ImportJobs = Depends(_jobs)) -> dict[str, Any]:
    try:
        return jobs.get(job_id).status()
    except JobError as exc:
        raise HTTPException(404, str(exc)) from None


@router.post("/imports/{job_id}/apply", summary="Write a checked import and reload the live state")
def apply_import(job_id: str, jobs: ImportJobs = Depends(_jobs)) -> dict[str, Any]:
    try:
        return jobs.apply(job_id).status()
    except JobError as exc:
        raise _refused(exc) from None


@router.delete("/imports/{job_id}", summary="Discard an import and its files")
def discard_import(job_id: str, jobs: ImportJobs = Depends(_jobs)) -> dict[str, str]:
    jobs.discard(job_id)
    return {"id": job_id, "state": "discarded"}


@router.post("/reload", summary="Rebuild the live state from the store (after an import from the command line)")
async def reload_live_state(runtime: Runtime = Depends(require_admin)) -> dict[str, Any]:
    started = time.perf_counter()
    await run_in_threadpool(runtime.reload)
    return {"organisations": len(runtime.tree), "seconds": round(time.perf_counter() - started, 2)}
