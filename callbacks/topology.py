"""/topology: the organisation network, its level of detail, search, and the analysis beside it.

The page's view (centre, what was opened or folded, the organisation found
or tapped) lives in the ``topology-view`` store as organisation codes; the
scope comes from the page's signed ticket, never from the store, so a page
cannot widen what it sees by editing it. A change of view is the only time
the figure is sent again; live pulses and health colours arrive in frames
(dashboard/topology/frames.py) and are applied by assets/topology.js.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, ctx, html, no_update

from callbacks.context import ViewContext, page_scope, page_ticket, scope_from_ticket
from dashboard.access.scopes import Scope
from dashboard.topology.lod import MAX_DRAWN, ViewSpec
from dashboard.topology.picture import TopologyPicture
from dashboard.topology.service import Topology
from layouts.i18n import fmt_count, fmt_percent, normalise_lang, t
from layouts.topology import RankedOrg, crumbs, detail_card, ranked_box, topology_graph_figure, topology_page

RANKED_ROWS = 10


# --- the view in the page's store ------------------------------------------------------------------


def spec_from(topology: Topology, scope: int, data: dict[str, Any] | None) -> tuple[ViewSpec, int | None]:
    """The view a page asked for, with every code checked to lie inside its scope."""
    data = data or {}
    stop = int(topology.index.end[scope])

    def inside(code: Any) -> int | None:
        p = topology.pre_of_code(code) if isinstance(code, str) else None
        return p if p is not None and scope <= p < stop else None

    def many(codes: Any) -> tuple[int, ...]:
        found = (inside(c) for c in (codes if isinstance(codes, list) else []))
        return tuple(p for p in found if p is not None)

    focus = inside(data.get("focus"))
    return ViewSpec(scope, focus if focus is not None else scope, many(data.get("opened")), many(data.get("folded"))), inside(data.get("target"))


def spec_data(topology: Topology, spec: ViewSpec, target: int | None) -> dict[str, Any]:
    return {
        "focus": topology.code_of(spec.focus),
        "opened": [topology.code_of(p) for p in spec.opened],
        "folded": [topology.code_of(p) for p in spec.folded],
        "target": topology.code_of(target) if target is not None else None,
    }


def path_to(topology: Topology, scope: int, p: int) -> list[tuple[str, str]]:
    chain = topology.index.chain(p)
    return [(topology.code_of(q), topology.name_of(q)) for q in chain[chain.index(scope) :]]


def drawn_text(pic: TopologyPicture, lang: str) -> str:
    return t("topo.drawn", lang).format(n=fmt_count(pic.size + len(pic.hubs), lang), max=fmt_count(MAX_DRAWN, lang))


# --- the analysis beside the graph ------------------------------------------------------------------


def analysis_boxes(topology: Topology, scope: int, lang: str, public: bool) -> list[Any]:
    """The ranked boxes; at the public level an isolated branch's share active is the public health's (from shown counts)."""
    report = topology.report
    stop = int(topology.index.end[scope])

    def rows(entries: Sequence[tuple[int, float | None]], text: str, as_percent: bool) -> list[RankedOrg]:
        return [
            RankedOrg(topology.code_of(p), topology.name_of(p),
                      text.format(p=fmt_percent(v), n=fmt_count(v, lang)) if as_percent else text.format(n=fmt_count(v, lang)))
            for p, v in entries
        ]

    if report is None:
        return [ranked_box(t(f"topo.{k}", lang), None, f"topology-{k}", lang) for k in ("isolated", "bridges", "connected")]
    links = report.links
    isolated: list[tuple[int, float | None]] = list(report.isolated.within(scope, stop, RANKED_ROWS))
    if public:
        shares = topology.health.current(public=True).active_share
        isolated = [(p, share if math.isfinite(share := float(shares[p])) else None) for p, _ in isolated]
    stats = t("topo.stats", lang).format(linked=fmt_count(links.linked_orgs, lang), components=fmt_count(links.components, lang))
    return [
        ranked_box(t("topo.isolated", lang), rows(isolated, t("topo.isolated.value", lang), True), "topology-isolated", lang),
        ranked_box(t("topo.bridges", lang), rows(links.bridges.within(scope, stop, RANKED_ROWS), t("topo.bridges.value", lang), False), "topology-bridges", lang),
        ranked_box(t("topo.connected", lang), rows(links.connected.within(scope, stop, RANKED_ROWS), t("topo.connected.value", lang), False), "topology-connected", lang),
        html.Div(stats, className="topo-stats", id="topology-stats"),
    ]


def side_panel(topology: Topology, pic: TopologyPicture, scope: int, lang: str, public: bool) -> list[Any]:
    detail = detail_card(pic, pic.target if pic.target >= 0 else 0, lang)
    return [
        html.Div(detail, className="topo-box topo-detail", id="topology-detail"),
        html.Div(t("topo.hint", lang), className="topo-hint"),
        html.Div(analysis_boxes(topology, scope, lang, public), id="topology-analysis"),
    ]


def wall_topology_figure(view: ViewContext, scope: Scope, lang: str) -> dict[str, Any]:
    """The wall's topology panel: the scope's overview, compact; frames pulse and recolour it."""
    topology = view.runtime.topology
    return topology_graph_figure(topology.picture(topology.default_spec(scope.org_id), scope.public), lang, compact=True)


# --- the page and its callbacks ------------------------------------------------------------------------


def topology_view_page(view: ViewContext, lang: str, org: str | None, query: dict[str, Any]) -> html.Div:
    topology = view.runtime.topology
    resolved = page_scope(view, org, query)
    if isinstance(resolved, str):
        return html.Div(t(resolved, lang) + (f": {org}" if org else ""), className="page-error")
    root, scope = resolved
    top = topology.scope_pre(scope.org_id)
    spec = topology.default_spec(scope.org_id)
    pic = topology.picture(spec, scope.public)
    return topology_page(
        root.name,
        topology_graph_figure(pic, lang),
        lang,
        page_ticket(view, scope, query),
        spec_data(topology, spec, None),
        side_panel(topology, pic, top, lang, scope.public),
        topology.problems,
        path_to(topology, top, top),
        drawn_text(pic, lang),
    )


def register(view: ViewContext) -> None:
    topology = view.runtime.topology

    def page_scope_of(meta: Any) -> tuple[Scope, int, str] | None:
        """The scope in the page's signed ticket, while the token or session it was granted by holds."""
        ticket = scope_from_ticket(view, meta)
        if ticket is None:
            return None
        scope = ticket.scope
        return scope, topology.scope_pre(scope.org_id), normalise_lang(meta.get("lang"))

    def layout(lang: str | None = None, org: str | None = None, **query: Any) -> html.Div:
        return topology_view_page(view, normalise_lang(lang), org, query)

    dash.register_page("topology", path="/topology", layout=layout, title=t("topo.title"))

    @callback(
        Output("topology-view", "data"),
        Output("topology-message", "children"),
        Output("topology-graph", "clickData"),
        Input("topology-graph", "clickData"),
        Input("topology-find", "n_clicks"),
        Input("topology-search", "n_submit"),
        Input("topology-reset", "n_clicks"),
        Input("topology-focus", "n_clicks"),
        Input({"type": "topo-jump", "code": ALL}, "n_clicks"),
        Input({"type": "topo-crumb", "code": ALL}, "n_clicks"),
        State("topology-search", "value"),
        State("topology-view", "data"),
        State("live-meta", "data"),
        prevent_initial_call=True,
    )
    def act(click: Any, _find: Any, _submit: Any, _reset: Any, _focus: Any, _jumps: Any, _crumbs: Any,
            query: str | None, data: dict[str, Any] | None, meta: Any) -> tuple[Any, Any, Any]:
        """Every change of view. A tap's clickData is cleared once taken, so tapping the same node
        again (to fold what was just opened) is a change Dash passes on."""
        known = page_scope_of(meta)
        if known is None or not ctx.triggered or ctx.triggered[0]["value"] in (None, 0, []):
            return no_update, no_update, no_update
        if ctx.triggered_id == "topology-graph":
            view, message = _tap(known[1], data, click)
            return view, message, None
        return (*_command(known[1], known[2], data, query), no_update)

    def _tap(scope: int, data: dict[str, Any] | None, click: Any) -> tuple[Any, Any]:
        point = (click or {}).get("points", [{}])[0]
        p = topology.pre_of_code(point.get("customdata")) if isinstance(point.get("customdata"), str) else None
        if p is None or not scope <= p < topology.index.end[scope]:
            return no_update, no_update
        spec, _ = spec_from(topology, scope, data)
        centre = spec.focus
        spec = topology.detail.toggle(spec, p)
        return spec_data(topology, spec, spec.focus if p == centre else p), ""

    def _command(scope: int, lang: str, data: dict[str, Any] | None, query: str | None) -> tuple[Any, Any]:
        spec, target = spec_from(topology, scope, data)
        trigger = ctx.triggered_id
        detail = topology.detail
        if trigger in ("topology-find", "topology-search"):
            found = topology.find(query or "", scope)
            if not found:
                return no_update, html.Span(t("topo.no_match", lang).format(q=(query or "").strip()), className="topo-no-match")
            spec = detail.reveal(spec, found[0])
            return spec_data(topology, spec, found[0]), _matches(topology, found, lang)
        if trigger == "topology-reset":
            return spec_data(topology, ViewSpec(scope, scope), None), ""
        if trigger == "topology-focus":
            if target is None:
                return no_update, no_update
            return spec_data(topology, detail.refocus(spec, target), target), ""
        if isinstance(trigger, dict) and trigger.get("type") in ("topo-jump", "topo-crumb"):
            p = topology.pre_of_code(trigger.get("code"))
            if p is None or not scope <= p < topology.index.end[scope]:
                return no_update, no_update
            spec = detail.reveal(spec, p) if trigger["type"] == "topo-jump" else detail.refocus(spec, p)
            return spec_data(topology, spec, p), ""
        return no_update, no_update

    @callback(
        Output("topology-graph", "figure"),
        Output("topology-crumbs", "children"),
        Output("topology-drawn", "children"),
        Output("topology-detail", "children"),
        Input("topology-view", "data"),
        State("live-meta", "data"),
        prevent_initial_call=True,
    )
    def render(data: dict[str, Any] | None, meta: Any) -> tuple[Any, ...]:
        known = page_scope_of(meta)
        if known is None:
            return no_update, no_update, no_update, no_update
        scope_obj, scope, lang = known
        spec, target = spec_from(topology, scope, data)
        pic = topology.picture(spec, scope_obj.public, target)
        shown = target if target is not None else spec.focus
        return (
            topology_graph_figure(pic, lang),
            crumbs(path_to(topology, scope, shown)),
            drawn_text(pic, lang),
            detail_card(pic, pic.target if pic.target >= 0 else 0, lang),
        )

    @callback(
        Output("topology-analysis", "children"),
        Input("topology-refresh", "n_intervals"),
        State("live-meta", "data"),
        prevent_initial_call=True,
    )
    def refresh(_n: Any, meta: Any) -> Any:
        known = page_scope_of(meta)
        if known is None:
            return no_update
        scope, top, lang = known
        return analysis_boxes(topology, top, lang, scope.public)


def _matches(topology: Topology, found: list[int], lang: str) -> Any:
    """When several organisations match, name them all (each a jump); one match needs no words."""
    if len(found) == 1:
        return ""
    tree = topology.tree
    names = []
    for p in found:
        node = tree.nodes[int(topology.index.ids[p])]
        parent = tree.nodes.get(node.parent_id) if node.parent_id is not None else None
        label = [node.name, html.Small(parent.name)] if parent is not None else [node.name]
        names.append(html.Button(label, id={"type": "topo-jump", "code": node.code}, className="topo-match", title=node.code))
    return [html.Span(t("topo.matches", lang).format(n=len(found))), *names]
