"""What every view's wiring gets: the runtime and the region boundaries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from callbacks.access import narrowed_scope, page_viewer
from dashboard.access.scopes import Scope, mask_snapshot
from dashboard.access.viewer import AccessRefused
from dashboard.map.regions import RegionMap
from dashboard.runtime.core import Runtime
from dashboard.store.tree import OrgNode


@dataclass(frozen=True)
class ViewContext:
    runtime: Runtime
    regions: RegionMap


def page_scope(ctx: ViewContext, org: str | None, query: dict[str, Any]) -> tuple[OrgNode, Scope] | str:
    """The organisation a screen page shows and the scope it streams, or an i18n error key.

    The viewer is the page's ``?token=``, else the signed-in user, else the
    anonymous demo viewer (public level of the whole tree); ``?org=CODE``
    narrows to a subtree inside what the viewer may see (see
    docs/security.md and callbacks.access).
    """
    try:
        viewer = page_viewer(ctx, token=query.get("token"), mode=query.get("mode"))
        scope = narrowed_scope(ctx, viewer, org)
    except AccessRefused as refused:
        return f"access.{refused.code}"
    return ctx.runtime.tree.nodes[scope.org_id], scope


def page_ticket(ctx: ViewContext, scope: Scope, query: dict[str, Any]) -> str:
    """The signed ticket of ``scope`` for the live stream, naming the token or session it must keep checking."""
    viewer = page_viewer(ctx, token=query.get("token"), mode=query.get("mode"))
    return ctx.runtime.signer.sign(scope, grant=viewer.grant)


class TicketScope(NamedTuple):
    """What a page's signed ticket grants: the scope, and the token or session it must keep checking."""

    scope: Scope
    grant: str | None


def scope_from_ticket(ctx: ViewContext, meta: Any) -> TicketScope | None:
    """The scope in a page's ``live-meta`` ticket, or None: not signed by this server, expired, its
    organisation no longer in the tree (an import removed it), or the token or session behind it revoked.

    The one way a callback turns a ticket into a scope, so no copy can forget a
    check (the map's drill-down once lacked the tree check and raised KeyError
    after an import). Blocking (the grant is read from the store): coroutines
    call it in a thread.
    """
    runtime = ctx.runtime
    checked = runtime.signer.verify_grant(meta.get("ticket")) if isinstance(meta, dict) else None
    if checked is None:
        return None
    scope, grant = checked
    if scope.org_id not in runtime.tree or not runtime.access.grant_valid(grant):
        return None
    return TicketScope(scope, grant)


def scoped_snapshot(ctx: ViewContext, scope: Scope) -> dict[str, Any]:
    """The scope's live snapshot as the page may show it (small counts hidden at the public level)."""
    return mask_snapshot(ctx.runtime.aggregator.snapshot(scope.org_id), scope)
