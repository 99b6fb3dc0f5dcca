"""The wall page (``/``): renders the scope's live snapshot into layouts.wall."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from callbacks.context import ViewContext
from dashboard.scopes import Scope
from dashboard.viewdata import region_values, topology_nodes
from layouts.i18n import normalise_lang, t
from layouts.map import region_figure
from layouts.topology import TopoNode, topology_figure
from layouts.wall import wall_layout


def wall_page(ctx: ViewContext, lang: str, org: str | None = None) -> html.Div:
    """The wall of one subtree (``?org=CODE``, the whole tree by default)."""
    tree, aggregator = ctx.runtime.tree, ctx.runtime.aggregator
    if tree.root is None:
        return html.Div(t("error.no_data", lang), className="page-error")
    root = tree.get(org) if org else tree.root
    if root is None:
        return html.Div(f"{t('error.unknown_org', lang)}: {org}", className="page-error")
    snap = aggregator.snapshot(root.id)
    map_fig = region_figure(ctx.regions, region_values(tree, aggregator, root.id), t("kpi.members", lang))
    nodes = {n.org_id: TopoNode(n.code, n.name, n.x, n.y, n.members) for n in topology_nodes(tree, aggregator, root.id)}
    edges = [(nodes[tree.nodes[i].parent_id], node) for i, node in nodes.items() if tree.nodes[i].parent_id in nodes]
    ticket = ctx.runtime.signer.sign(Scope(root.id, "public"))
    return wall_layout(snap, map_fig, topology_figure(list(nodes.values()), edges), lang, ticket)


def register(ctx: ViewContext) -> None:
    def layout(lang: str | None = None, org: str | None = None, **_query: Any) -> html.Div:
        return wall_page(ctx, normalise_lang(lang), org)

    dash.register_page("wall", path="/", layout=layout, title=t("app.title"))
