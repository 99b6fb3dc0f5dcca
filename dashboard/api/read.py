"""Read API: the organisation tree, live snapshots, members (health and readiness: health.py).

Every answer but the member list comes from the runtime (tree and
aggregator), never from a query per request, so these stay cheap under load.
Each route answers within the caller's scope (dashboard.access.viewer): its subtree,
with small counts hidden at the public level; members need the full level.
Each answer has a response model (dashboard/api/models.py, and the snapshot's
wire contract in dashboard/live/contracts.py), validated on the way out.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query

from dashboard.access.scopes import mask_snapshot
from dashboard.access.viewer import Viewer
from dashboard.api.deps import RuntimeDep, ViewerDep
from dashboard.api.models import MembersPage, OrgOut
from dashboard.live.contracts import FullSnapshot, PublicSnapshot
from dashboard.runtime.core import Runtime
from dashboard.store.roster import MAX_PAGE, members_of

router = APIRouter(prefix="/api", tags=["read"])


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


@router.get(
    "/orgs",
    summary="The organisation tree (the caller's subtree), or the children of one organisation",
    response_model=list[OrgOut],
)
def orgs(rt: RuntimeDep, viewer: ViewerDep, parent: str | None = Query(None, max_length=64)) -> list[dict[str, Any]]:
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


@router.get(
    "/snapshot",
    summary="Live KPIs of a subtree (the caller's own if org is absent); small counts hidden at the public level",
    response_model=FullSnapshot | PublicSnapshot,
)
def snapshot(rt: RuntimeDep, viewer: ViewerDep, org: str | None = Query(None, max_length=64)) -> dict[str, Any]:
    return mask_snapshot(rt.aggregator.snapshot(scoped_org(rt, viewer, org)), viewer.scope)


@router.get(
    "/members",
    summary="Members of a subtree with names: admins and full-level tokens or users only",
    response_model=MembersPage,
    response_model_exclude_unset=True,  # no "phone": null for callers who may not see phones
)
def members(
    rt: RuntimeDep,
    viewer: ViewerDep,
    org: str = Query(..., max_length=64),
    limit: int = Query(100, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0, le=100_000_000),
) -> dict[str, Any]:
    if not viewer.may_read_members:
        raise HTTPException(403, "member data needs an admin or a full-level token")
    return members_of(rt.engine, scoped_org(rt, viewer, org), limit=limit, offset=offset, with_phone=viewer.is_admin)
