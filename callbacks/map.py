"""The map page (``/map``) and its drill-down; ``scope_map_figure`` also draws the wall's map panel.

The page is rendered once with the scope's region KPIs; the live frames
(dashboard/map/frames.py, whose sections the Runtime hands to the publisher
for every screen — the wall's map panel too) then recolour it and draw on it
in the browser (assets/map.js). A click on a region sets the ``map-drill`` store; the
callback here answers with that region's organisations for the page's own
scope — taken from its signed ticket, never from what the page claims — and
refreshes them every few seconds while the region stays open.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, html

from callbacks.context import ViewContext, page_scope, page_ticket, scope_from_ticket, scoped_snapshot
from dashboard.access.scopes import Scope
from dashboard.map.view import DEFAULT_KPI, MAP_KPIS, drill_down, region_kpis
from layouts.i18n import normalise_lang, t
from layouts.map import drill_hint, drill_panel, map_page, orgs_for_client, region_figure


def scope_map_figure(ctx: ViewContext, scope: Scope, snap: dict[str, Any], kpi: str, lang: str, drill: bool) -> dict[str, Any]:
    """The region figure of a scope as it is now, coloured by ``kpi``; ``snap`` is its scoped snapshot."""
    values = region_kpis(ctx.runtime.tree, ctx.runtime.aggregator, scope, ctx.regions.names)
    return region_figure(ctx.regions, values, kpi, lang, snap.get("transfers"), drill)


def map_view(ctx: ViewContext, lang: str, org: str | None, kpi: str | None, query: dict[str, Any]) -> html.Div:
    resolved = page_scope(ctx, org, query)
    if isinstance(resolved, str):
        return html.Div(t(resolved, lang) + (f": {org}" if org else ""), className="page-error")
    node, scope = resolved
    kpi = kpi if kpi in MAP_KPIS else DEFAULT_KPI
    figure = scope_map_figure(ctx, scope, scoped_snapshot(ctx, scope), kpi, lang, drill=True)
    return map_page(node.name, figure, kpi, lang, page_ticket(ctx, scope, query))


def register(ctx: ViewContext) -> None:
    runtime = ctx.runtime

    def layout(lang: str | None = None, org: str | None = None, kpi: str | None = None, **query: Any) -> html.Div:
        return map_view(ctx, normalise_lang(lang), org, kpi, query)

    dash.register_page("map", path="/map", layout=layout, title=t("map.title"))

    @callback(
        Output("map-orgs", "data"),
        Output("map-drill-panel", "children"),
        Output("map-drill-refresh", "disabled"),
        Input("map-drill", "data"),
        Input("map-drill-refresh", "n_intervals"),
        State("live-meta", "data"),
        prevent_initial_call=True,
    )
    def drill(selection: Any, _refresh: int | None, meta: Any) -> tuple[Any, list[Any], bool]:
        lang = normalise_lang(meta.get("lang") if isinstance(meta, dict) else None)
        region = selection.get("region") if isinstance(selection, dict) else None
        if region not in ctx.regions.names or (ticket := scope_from_ticket(ctx, meta)) is None:
            return None, drill_hint(lang), True
        scope = ticket.scope
        kpi = selection.get("kpi") if selection.get("kpi") in MAP_KPIS else DEFAULT_KPI
        within = selection.get("org") if isinstance(selection.get("org"), str) else None
        orgs = drill_down(runtime.tree, runtime.aggregator, ctx.regions, scope, region, within)
        link_query = "?lang=en" if lang == "en" else ""
        names = ctx.regions.names_in(lang)
        title = names[region]
        if within is not None and within in runtime.tree.by_code:
            title = f"{names[region]} · {runtime.tree.nodes[runtime.tree.by_code[within]].name}"
        panel = drill_panel(title, orgs, kpi, lang, link_query, within)
        return orgs_for_client(orgs, region, link_query, within), panel, False

    clientside_callback(
        ClientsideFunction(namespace="lianxinMap", function_name="showOrgs"),
        Output("map-orgs-shown", "data"),
        Input("map-orgs", "data"),
        prevent_initial_call=True,
    )
