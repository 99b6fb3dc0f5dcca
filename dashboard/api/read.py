"""Read API: the organisation tree, live snapshots, members (health and readiness: health.py).

Every answer but the member list comes from the runtime (tree and
aggregator), never from a query per request, so these stay cheap under load.
Each route answers within the caller's scope (dashboard.access.viewer): its subtree,
with small counts hidden at the public level; members need the full level.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from dashboard.access.scopes import mask_snapshot
from dashboard.access.viewer import Viewer
from dashboard.api.viewer import request_viewer
from dashboard.runtime.core import Runtime
from dashboard.store.roster import MAX_PAGE, members_of

router = APIRouter(prefix="/api", tags=["read"])


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


def scoped_org(rt: Runtime, viewer: Viewer, code: str | None) -> int:
    """The organisation ``code`` names (the viewer's own if None); 404 if unknown or outside the viewer's subtree.

    Outside the subtree answers exactly like unknown, so a scoped caller cannot
    even learn which codes exist elsewhere.
    """
    if code is None:
        return viewer.scope.org_id
    node = rt.tree.get(code)
    if node is None or not rt.access.within(viewer, node.id):
        raise HTTPException(404, f"unknown organisation {code!r}")
    return node.id


@router.get("/orgs", summary="The organisation tree (the caller's subtree), or the children of one organisation")
def orgs(
    request: Request, parent: str | None = Query(None, max_length=64), viewer: Viewer = Depends(request_viewer)
) -> list[dict[str, Any]]:
    rt = runtime_of(request)
    tree = rt.tree
    if parent is None:
        ids = sorted(tree.walk(viewer.scope.org_id), key=lambda i: (tree.nodes[i].level, i))
    else:
        ids = tree.children.get(scoped_org(rt, viewer, parent), [])
    out = []
    for i in ids:
        n = tree.nodes[i]
        parent_code = tree.nodes[n.parent_id].code if n.parent_id in tree.nodes else None
        out.append({**n.public_dict(), "parent": parent_code})
    return out


@router.get("/snapshot", summary="Live KPIs of a subtree (the caller's own if org is absent); small counts hidden at the public level")
def snapshot(
    request: Request, org: str | None = Query(None, max_length=64), viewer: Viewer = Depends(request_viewer)
) -> dict[str, Any]:
    rt = runtime_of(request)
    return mask_snapshot(rt.aggregator.snapshot(scoped_org(rt, viewer, org)), viewer.scope)


@router.get("/members", summary="Members of a subtree with names: admins and full-level tokens or users only")
def members(
    request: Request,
    org: str = Query(..., max_length=64),
    limit: int = Query(100, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0, le=100_000_000),
    viewer: Viewer = Depends(request_viewer),
) -> dict[str, Any]:
    if not viewer.may_read_members:
        raise HTTPException(403, "member data needs an admin or a full-level token")
    rt = runtime_of(request)
    org_id = scoped_org(rt, viewer, org)
    return members_of(rt.engine, org_id, limit=limit, offset=offset, with_phone=viewer.is_admin)
