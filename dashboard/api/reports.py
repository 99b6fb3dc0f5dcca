"""Reports for download: the list a caller may see and the files themselves, scope checked on every request.

The reports page (/admin/reports) links here. Each download asks the library again whether the caller's
scope may have that report (an organisation in its subtree; at the public level a public edition only),
so a link passed on, or a name guessed, gives another scope nothing: not yours answers exactly like
unknown (404). Reports are for committees: an anonymous caller gets 401 even where pages are open.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import FileResponse

from dashboard.access.viewer import ANONYMOUS, Viewer
from dashboard.api.viewer import request_viewer
from dashboard.report.jobs import reports_for
from dashboard.report.library import ReportFile

router = APIRouter(prefix="/api", tags=["reports"])
MEDIA = {"pdf": "application/pdf", "png": "image/png"}


def report_url(report: ReportFile) -> str:
    return f"/api/reports/{quote(report.name)}"


def _signed_in(viewer: Viewer) -> Viewer:
    if viewer.role == ANONYMOUS:
        raise HTTPException(401, "sign in or give a token to download reports", headers={"WWW-Authenticate": "Bearer"})
    return viewer


@router.get("/reports", summary="The reports the caller may download (made on demand and scheduled), newest period first")
def reports(request: Request, viewer: Viewer = Depends(request_viewer)) -> list[dict[str, Any]]:
    runtime = request.app.state.runtime
    visible = reports_for(runtime).library.visible(runtime.tree, _signed_in(viewer).scope)
    return [{"name": r.name, "org": r.org, "period": r.period, "lang": r.lang, "level": r.level, "format": r.fmt,
             "made": r.made, "url": report_url(r)} for r in visible]


@router.get("/reports/{name}", summary="One report file, if the caller's scope may have it (else 404)")
def report_file(request: Request, name: str = Path(..., max_length=200), viewer: Viewer = Depends(request_viewer)) -> FileResponse:
    runtime = request.app.state.runtime
    report = reports_for(runtime).library.find(name, runtime.tree, _signed_in(viewer).scope)
    if report is None:
        raise HTTPException(404, "no such report")
    return FileResponse(report.path, media_type=MEDIA[report.fmt], filename=report.name)
