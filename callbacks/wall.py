"""The wall page (``/``): renders the scope's live snapshot into layouts.wall."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from callbacks.context import ViewContext, page_scope, page_ticket, scoped_snapshot
from callbacks.map import scope_map_figure
from dashboard.map_data import DEFAULT_KPI
from dashboard.viewdata import topology_nodes
from layouts.i18n import normalise_lang, t
from layouts.topology import TopoNode, topology_figure
from layouts.wall import wall_layout


def wall_page(ctx: ViewContext, lang: str, org: str | None, query: dict[str, Any]) -> html.Div:
    """The wall of one subtree (``?org=CODE``, the whole tree by default)."""
    tree, aggregator = ctx.runtime.tree, ctx.runtime.aggregator
    resolved = page_scope(ctx, org, query)
    if isinstance(resolved, str):
        return html.Div(t(resolved, lang) + (f": {org}" if org else ""), className="page-error")
    root, scope = resolved
    snap = scoped_snapshot(ctx, scope)
    map_fig = scope_map_figure(ctx, scope, snap, DEFAULT_KPI, lang, drill=False)
    nodes = {n.org_id: TopoNode(n.code, n.name, n.x, n.y, n.members) for n in topology_nodes(tree, aggregator, root.id)}
    edges = [(nodes[tree.nodes[i].parent_id], node) for i, node in nodes.items() if tree.nodes[i].parent_id in nodes]
    ticket = page_ticket(ctx, scope, query)
    return wall_layout(snap, map_fig, topology_figure(list(nodes.values()), edges), lang, ticket)


def register(ctx: ViewContext) -> None:
    def layout(lang: str | None = None, org: str | None = None, **query: Any) -> html.Div:
        return wall_page(ctx, normalise_lang(lang), org, query)

    dash.register_page("wall", path="/", layout=layout, title=t("app.title"))
