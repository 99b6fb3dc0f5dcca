"""Read API: health, the organisation tree, live snapshots.

Every answer comes from the runtime (tree and aggregator), never from a
query per request, so these stay cheap under load.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request

from dashboard.runtime import Runtime

router = APIRouter(prefix="/api", tags=["read"])


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


@router.get("/health", summary="Liveness and a few vital signs")
async def health(request: Request) -> dict[str, Any]:
    rt = runtime_of(request)
    return {
        "status": "ok",
        "organisations": len(rt.tree),
        "uptime_s": round(time.time() - rt.started_at, 1),
        "tree_problems": len(rt.tree.problems),
        "screens": rt.publisher.screen_count(),
        "scopes": len(rt.publisher.channels),
        "tasks": len(asyncio.all_tasks()),
    }


@router.get("/orgs", summary="The organisation tree, or the children of one organisation")
def orgs(request: Request, parent: str | None = Query(None, max_length=64)) -> list[dict[str, Any]]:
    tree = runtime_of(request).tree
    if parent is None:
        ids = sorted(tree.nodes, key=lambda i: (tree.nodes[i].level, i))
    else:
        node = tree.get(parent)
        if node is None:
            raise HTTPException(404, f"unknown organisation {parent!r}")
        ids = tree.children.get(node.id, [])
    out = []
    for i in ids:
        n = tree.nodes[i]
        parent_code = tree.nodes[n.parent_id].code if n.parent_id in tree.nodes else None
        out.append({**n.public_dict(), "parent": parent_code})
    return out


@router.get("/snapshot", summary="Live KPIs of a subtree (the top organisation if org is absent)")
def snapshot(request: Request, org: str | None = Query(None, max_length=64)) -> dict[str, Any]:
    rt = runtime_of(request)
    node = rt.tree.get(org) if org is not None else rt.tree.root
    if node is None:
        raise HTTPException(404, f"unknown organisation {org!r}" if org else "no organisation yet: run the seed")
    return rt.aggregator.snapshot(node.id)
