"""The organisation topology: a radial tree with its cross-links, as a Plotly figure, and the /topology page.

Renderer: Plotly SVG ``scatter`` in a ``dcc.Graph``, like every chart here.
At most ~2,000 nodes are ever drawn (level of detail, dashboard/topology/lod.py),
where SVG renders in a few hundred milliseconds; ``scattergl`` pays a fixed
WebGL start-up of ~2.8 s in headless Chromium with software rendering, and
dash-cytoscape grows to seconds and hundreds of MB past a few thousand
elements (measurements in the issue and docs/topology.md). Live changes
never rebuild the figure: assets/topology.js recolours nodes with
``Plotly.restyle`` and draws pulses on a canvas laid over the plot.

Links are ``layout.shapes`` — one SVG path per kind (tree, 共建 partnerships,
member-group spokes, the highlighted path) with Bézier curves in data
coordinates — where line traces would put one DOM path per link; traces, in
drawing order: group hubs, organisations, the target ring, labels (last, so
nothing is drawn over a name; assets/topology.css gives them a dark halo).
``layout.meta.topology`` carries what the page's script needs per node.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from dash import dcc, html

from dashboard.topology.health import health_word
from dashboard.topology.picture import TopologyPicture
from layouts.components import graph
from layouts.i18n import fmt_count, fmt_percent, t
from layouts.theme import BAD, GOLD, GOOD, TEXT, WARN, figure_layout
from layouts.wall import live_stores, title_bar

# By health level (dashboard.topology.health): 0 unknown, then 1 (poor) … 10 (good), red through amber to green.
HEALTH_COLOURS = ("#5d6b8a", "#ff3b4f", BAD, "#ff6a4f", "#ff8744", "#ffa53d", WARN, "#d9cf55", "#b5d35f", "#7fcf6b", GOOD)
TREE_EDGE = "rgba(120, 150, 220, 0.34)"
PARTNER_RGB = "255, 112, 86"
GROUP_EDGE = "rgba(79, 209, 224, 0.42)"
HUB_COLOUR = "#4fd1e0"
FOLDED_RIM = "rgba(232, 236, 245, 0.92)"
OPEN_RIM = "rgba(7, 11, 24, 0.9)"
MAX_PARTNER_CURVES = 500  # the strongest; past a few hundred arcs the overview becomes a hairball
PARTNER_PULL = 0.35  # a partnership bends towards the centre by this share of its midpoint
MAX_LABELS = 60
LABEL_SIZE = 13
LABEL_PANEL_PX = 900
WALL_LABEL_SIZE = 18  # the wall's text floor (docs/wall.md), on the 1920×1080 canvas
WALL_PANEL_PX = (414.0, 262.0)  # the wall's topology graph on that canvas (it only grows when the panel takes focus)
WALL_MAX_LABELS = 12
NODE_SIZE = (6.0, 30.0)
HIT_RADIUS_PX = 22  # Plotly picks the closest node within this of its edge: a 44 px target for the smallest dot


# --- geometry: links as SVG paths in data coordinates (one shape per kind, not thousands of DOM paths) ---


def _arc_alpha(arcs: int) -> float:
    """Fewer arcs, stronger ink: a handful stand out, hundreds stay a texture behind the nodes."""
    return min(0.7, max(0.25, 9 / math.sqrt(max(arcs, 1))))


def svg_path(controls: np.ndarray) -> str:
    """Segments given by their control points (n × k × 2) as one SVG path: a line (k=2), a
    quadratic (k=3) or a cubic Bézier (k=4) per segment, each starting with its own move."""
    if not len(controls):
        return ""
    command = {2: "L", 3: "Q", 4: "C"}[controls.shape[1]]
    points = np.round(controls, 3).tolist()
    return "".join(f"M{p[0][0]},{p[0][1]}{command}" + " ".join(f"{a},{b}" for a, b in p[1:]) for p in points)


def tree_controls(x: np.ndarray, y: np.ndarray, ring: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Parent → child links of a radial tree: leave the parent along its own angle, arrive along the child's."""
    if not len(pairs):
        return np.zeros((0, 4, 2))
    p, c = pairs[:, 0], pairs[:, 1]
    angle_c = np.arctan2(y[c], x[c])
    angle_p = np.where(ring[p] == 0, angle_c, np.arctan2(y[p], x[p]))
    mid = (ring[p] + ring[c]) / 2
    return np.stack(
        [
            np.stack([x[p], y[p]], axis=1),
            np.stack([mid * np.cos(angle_p), mid * np.sin(angle_p)], axis=1),
            np.stack([mid * np.cos(angle_c), mid * np.sin(angle_c)], axis=1),
            np.stack([x[c], y[c]], axis=1),
        ],
        axis=1,
    )


def partner_controls(x: np.ndarray, y: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Partnerships as arcs bending towards the centre, so they read apart from the tree's spokes."""
    if not len(pairs):
        return np.zeros((0, 3, 2))
    a = np.stack([x[pairs[:, 0]], y[pairs[:, 0]]], axis=1)
    b = np.stack([x[pairs[:, 1]], y[pairs[:, 1]]], axis=1)
    return np.stack([a, (a + b) / 2 * PARTNER_PULL, b], axis=1)


def _links(name: str, path: str, colour: str, width: float, dash: str = "solid") -> dict[str, Any]:
    return {"type": "path", "name": name, "path": path, "xref": "x", "yref": "y", "layer": "below",
            "line": {"color": colour, "width": width, "dash": dash}, "fillcolor": "rgba(0,0,0,0)"}


# --- the figure ----------------------------------------------------------------------------------


def _figures(pic: TopologyPicture, i: int, lang: str) -> list[tuple[str, str]]:
    """What the health is made of, as a person reads it: real shares and a count of open alerts (the health
    score's "activity" and "alerts" components are indices, not figures to show)."""
    shares = [("meetings", pic.components["meetings"][i]), ("dues", pic.components["dues"][i]), ("active_today", pic.active_share[i])]
    out = [(t(f"topo.detail.{name}", lang), fmt_percent(v)) for name, v in shares if v is not None]
    out.append((t("topo.detail.open_alerts", lang), t("topo.detail.alerts_count", lang).format(n=fmt_count(pic.alerts[i], lang))))
    return out


def _hover(pic: TopologyPicture, i: int, lang: str) -> str:
    parts = [f"<b>{pic.names[i]}</b>", f"{t('topo.kind.' + pic.kinds[i], lang)} · {pic.codes[i]}"]
    members = pic.members[i]
    parts.append(f"{t('topo.detail.members', lang)} {fmt_count(members, lang) if members is not None else '<5'}")
    figures = [f"{label} {value}" for label, value in _figures(pic, i, lang)]
    if figures:
        parts.append(" · ".join(figures[:2]))
        if len(figures) > 2:
            parts.append(" · ".join(figures[2:]))
    parts.append(f"<span style='color:{HEALTH_COLOURS[pic.health[i]]}'>● {t('topo.health.' + health_word(pic.health[i]), lang)}</span>")
    action = _tap_action(pic, i, lang)
    if action:
        parts.append(action)
    return "<br>".join(parts)


def _tap_action(pic: TopologyPicture, i: int, lang: str) -> str:
    """What a tap on node ``i`` does, in words, with counts that a tap and a second tap leave unchanged:
    an open node names its drawn children (a tap folds them), a folded one everything inside it (a tap opens
    it), the centre steps out. Folded grandchildren of an open node are not "folded inside" it: a tap folds."""
    if i == 0:
        return t("topo.tap.centre", lang) if pic.parent[0] < 0 and pic.pre[0] > 0 else ""
    if pic.is_open[i]:
        children = sum(1 for p in pic.parent if p == i)
        return t("topo.tap.fold", lang).format(n=fmt_count(children, lang))
    if pic.hidden[i]:
        return t("topo.tap.open", lang).format(n=fmt_count(pic.hidden[i], lang))
    return ""


@dataclass(frozen=True)
class LabelRule:
    """Which labels a figure carries: font size, the plot height the boxes are estimated for, how many,
    and the deepest ring labelled."""

    size: float
    panel_px: float
    most: int
    rings: int
    panel_width_px: float = 0.0  # when set, labels must lie wholly inside a plot this wide (the wall's panel clips)
    keep_clear: tuple[float, float] = (0.0, 0.0)  # px at the plot's top left kept for the health key


PAGE_LABELS = LabelRule(LABEL_SIZE, LABEL_PANEL_PX, MAX_LABELS, 1_000)
WALL_LABELS = LabelRule(WALL_LABEL_SIZE, WALL_PANEL_PX[1], WALL_MAX_LABELS, 1, WALL_PANEL_PX[0], (80.0, 72.0))


def _text_px(text: str, size: float) -> float:
    """Rough width of a label in px: CJK characters are square, Latin about half."""
    return sum(size if ord(ch) >= 0x2E80 else size * 0.55 for ch in text)


def _label_indices(pic: TopologyPicture, reach: float, rule: LabelRule) -> list[int]:
    """Labels that fit: the centre, the path and the target first, then by level and size, never overlapping.

    Boxes are estimated for a plot ``rule.panel_px`` tall (what /topology, or the wall, gives the graph).
    """
    unit = rule.panel_px / (2 * reach)
    priority = (set(pic.path) | {0}) if rule.rings > 1 else set()
    candidates = [i for i in range(pic.size) if i in priority or 0 < pic.ring[i] <= rule.rings]
    order = sorted(candidates, key=lambda i: (i not in priority, pic.ring[i], -(pic.members[i] or 0), i))
    boxes: list[tuple[float, float, float, float]] = []
    half_width = rule.panel_width_px / 2 / unit if rule.panel_width_px else math.inf
    if rule.keep_clear[0]:
        boxes.append((-half_width, -half_width + rule.keep_clear[0] / unit, reach - rule.keep_clear[1] / unit, reach))
    chosen = []
    for i in order[: rule.most * 4]:
        width = (_text_px(pic.names[i], rule.size) + rule.size) / unit
        half = 0.95 * rule.size / unit  # a line of text with its halo is about 1.9 × the font size tall
        x, y = pic.x[i], pic.y[i]
        if pic.ring[i] == 0:
            box = (x - width / 2, x + width / 2, y - 3 * half, y - half / 2)
        elif x >= 0:
            box = (x, x + width, y - half, y + half)
        else:
            box = (x - width, x, y - half, y + half)
        if box[0] < -half_width or box[1] > half_width:
            continue
        if i in priority or not any(b[0] < box[1] and box[0] < b[1] and b[2] < box[3] and box[2] < b[3] for b in boxes):
            boxes.append(box)
            chosen.append(i)
        if len(chosen) == rule.most:
            break
    return sorted(chosen)


def _node_sizes(pic: TopologyPicture) -> list[float]:
    members = np.array([m or 0 for m in pic.members], dtype=np.float64)
    top = members.max(initial=0) or 1.0
    low, high = NODE_SIZE
    return np.round(low + (high - low) * np.sqrt(members / top), 1).tolist()


def health_key(lang: str) -> dict[str, Any]:
    """The wall's key to the node colours, in the panel's top left corner (the page has its own legend)."""
    lines = [f"<span style='color:{HEALTH_COLOURS[level]}'>●</span> {t('topo.key.' + word, lang)}" for level, word in ((10, "good"), (6, "fair"), (2, "poor"))]
    return {"xref": "paper", "yref": "paper", "x": 0, "y": 1, "xanchor": "left", "yanchor": "top", "align": "left",
            "showarrow": False, "text": "<br>".join(lines), "font": {"color": TEXT, "size": WALL_LABEL_SIZE}, "name": "health-key"}


def topology_graph_figure(pic: TopologyPicture, lang: str, compact: bool = False) -> dict[str, Any]:
    """The figure of one view; ``compact`` for the wall's small panel: smaller marks, only the top-level units
    named (at the wall's text floor, as many as fit inside the panel) and a key to the health colours."""
    x, y = np.array(pic.x), np.array(pic.y)
    ring = np.array(pic.ring, dtype=np.float64)
    tree_pairs = np.array([(p, i) for i, p in enumerate(pic.parent) if p >= 0], dtype=np.int64).reshape(-1, 2)
    order = np.argsort(-np.array(pic.partner_weights), kind="stable")[:MAX_PARTNER_CURVES]
    partner_pairs = np.array(pic.partner_pairs, dtype=np.int64).reshape(-1, 2)[order]
    hub_xy = np.array([(h.x, h.y) for h in pic.hubs for _ in h.spokes]).reshape(-1, 2)
    member_xy = np.array([(pic.x[m], pic.y[m]) for h in pic.hubs for m in h.spokes]).reshape(-1, 2)
    path_pairs = np.array(list(zip(pic.path[:-1], pic.path[1:])), dtype=np.int64).reshape(-1, 2)
    scale = 0.6 if compact else 1.0
    sizes = [s * scale for s in _node_sizes(pic)]
    folded = [h > 0 for h in pic.hidden]
    reach = max(float(ring.max(initial=0)), 1.0) + (0.2 if compact else 0.45)
    rule = WALL_LABELS if compact else PAGE_LABELS
    labels = _label_indices(pic, reach, rule)
    data: list[dict[str, Any]] = [
        {"type": "scatter", "mode": "markers", "name": "group-hubs", "x": [round(h.x, 3) for h in pic.hubs],
         "y": [round(h.y, 3) for h in pic.hubs], "hoverinfo": "skip" if compact else "text",
         "text": [f"<b>{t('topo.hub', lang).format(n=len(h.group_names))}</b><br>" + "<br>".join(h.group_names[:6]) for h in pic.hubs],
         "marker": {"symbol": "diamond", "size": 5 if compact else 8, "color": HUB_COLOUR, "line": {"color": "#070b18", "width": 1}}},
        {"type": "scatter", "mode": "markers", "name": "nodes", "x": pic.x, "y": pic.y, "customdata": pic.codes,
         "hoverinfo": "skip" if compact else "text",
         "text": [] if compact else [_hover(pic, i, lang) for i in range(pic.size)],
         "marker": {
             "size": sizes,
             "color": [HEALTH_COLOURS[h] for h in pic.health],
             "opacity": 0.95,
             "line": {"color": [FOLDED_RIM if f else OPEN_RIM for f in folded], "width": [1.6 * scale if f else 0.8 for f in folded]},
         }},
        {"type": "scatter", "mode": "markers", "name": "target", "hoverinfo": "skip",
         "x": [pic.x[pic.target]] if pic.target >= 0 else [], "y": [pic.y[pic.target]] if pic.target >= 0 else [],
         "marker": {"symbol": "circle-open", "size": 34 * scale, "color": TEXT, "line": {"width": 3}}},
        {"type": "scatter", "mode": "text", "name": "labels", "x": [pic.x[i] for i in labels], "y": [pic.y[i] for i in labels],
         "customdata": [pic.codes[i] for i in labels], "text": [pic.names[i] for i in labels], "hoverinfo": "skip",
         "textposition": ["bottom center" if pic.ring[i] == 0 else "middle right" if pic.x[i] >= 0 else "middle left" for i in labels],
         "textfont": {"color": TEXT, "size": rule.size}, "cliponaxis": False},
    ]
    shapes = [
        _links("tree", svg_path(tree_controls(x, y, ring, tree_pairs)), TREE_EDGE, 0.7 if compact else 1.0),
        _links("partnerships", svg_path(partner_controls(x, y, partner_pairs)),
               f"rgba({PARTNER_RGB}, {_arc_alpha(len(partner_pairs)):.2f})", 0.8 if compact else 1.3),
        _links("group-spokes", svg_path(np.stack([hub_xy, member_xy], axis=1)), GROUP_EDGE, 0.6 if compact else 0.9, "dot"),
        _links("path", svg_path(tree_controls(x, y, ring, path_pairs)), GOLD, 4.0),
    ]
    meta = {"pre": pic.pre, "end": pic.end, "parent": pic.parent, "health": pic.health, "colours": list(HEALTH_COLOURS)}
    key = [health_key(lang)] if compact else []
    return {
        "data": data,
        "layout": figure_layout(
            margin={"l": 0, "r": 0, "t": 0, "b": 0},
            # on the wall the ranges stay put and the plot's square shrinks instead ("domain"): the labels chosen
            # for the panel's size are where they were estimated, also after the panel had the whole screen
            xaxis={"visible": False, "range": [-reach, reach], "fixedrange": compact, **({"constrain": "domain"} if compact else {})},
            yaxis={"visible": False, "range": [-reach, reach], "scaleanchor": "x", "fixedrange": compact, **({"constrain": "domain"} if compact else {})},
            dragmode=False if compact else "pan",
            hovermode="closest",
            hoverdistance=HIT_RADIUS_PX,
            hoverlabel={"bgcolor": "#0d1428", "bordercolor": GOLD, "font": {"color": TEXT, "size": 14}},
            uirevision=f"topology-{pic.codes[0]}",
            shapes=[shape for shape in shapes if shape["path"]],
            annotations=key,
            meta={"topology": meta},
        ),
    }


# --- the page -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankedOrg:
    code: str
    name: str
    value: str


def ranked_box(title: str, rows: Sequence[RankedOrg] | None, box_id: str, lang: str) -> html.Div:
    """A ranked list whose rows jump to their organisation when tapped."""
    if rows is None:
        body: Any = html.Div(t("topo.analysing", lang), className="empty")
    elif not rows:
        body = html.Div(t("topo.empty", lang), className="empty")
    else:
        body = html.Ol(
            [
                html.Li(
                    html.Button(
                        [html.Span(str(k), className="rank"), html.Span(r.name, className="label"), html.Span(r.value, className="value")],
                        id={"type": "topo-jump", "code": r.code},
                        className="topo-row",
                        title=r.code,
                    )
                )
                for k, r in enumerate(rows, start=1)
            ],
            className="ranked topo-ranked",
        )
    return html.Div([html.H2(title, className="topo-box-title"), body], className="topo-box", id=box_id)


def legend(lang: str) -> html.Div:
    scale = f"linear-gradient(90deg, {', '.join(HEALTH_COLOURS[1:])})"
    health = [
        html.Span(t("topo.health.poor", lang), className="topo-key"),
        html.Span(className="topo-scale", style={"background": scale}),
        html.Span(t("topo.health.good", lang), className="topo-key"),
        html.Span([html.I(style={"background": HEALTH_COLOURS[0]}), t("topo.health.unknown", lang)], className="topo-key"),
    ]
    edges = [
        html.Span([html.B(className="edge tree"), t("topo.legend.tree", lang)], className="topo-key"),
        html.Span([html.B(className="edge partner"), t("topo.legend.partnership", lang)], className="topo-key"),
        html.Span([html.B(className="edge group"), t("topo.legend.group", lang)], className="topo-key"),
        html.Span([html.I(className="pulse"), t("topo.legend.pulse", lang)], className="topo-key"),
    ]
    return html.Div([html.Div(health, className="topo-keys"), html.Div(edges, className="topo-keys")], className="topo-legend")


def crumbs(path: Sequence[tuple[str, str]]) -> list[Any]:
    """The path from the top to the organisation in view, each step a way back out."""
    out: list[Any] = []
    for k, (code, name) in enumerate(path):
        if k:
            out.append(html.Span("›", className="sep"))
        out.append(html.Button(name, id={"type": "topo-crumb", "code": code}, className="crumb" + (" last" if k == len(path) - 1 else "")))
    return out


def detail_card(pic: TopologyPicture, i: int, lang: str) -> list[Any]:
    """What a leader reads about the organisation they tapped or found."""
    members = pic.members[i]
    rows = [
        (t("topo.detail.members", lang), fmt_count(members, lang) if members is not None else "<5"),
        (t("topo.detail.orgs", lang), fmt_count(pic.end[i] - pic.pre[i] - 1, lang)),
        *_figures(pic, i, lang),
    ]
    return [
        html.Div([html.I(style={"background": HEALTH_COLOURS[pic.health[i]]}), pic.names[i]], className="topo-detail-name"),
        html.Div(f"{t('topo.kind.' + pic.kinds[i], lang)} · {pic.codes[i]} · {t('topo.health.' + health_word(pic.health[i]), lang)}", className="topo-detail-sub"),
        html.Dl([item for label, value in rows for item in (html.Dt(label), html.Dd(value))], className="topo-detail-grid"),
    ]


def warnings_banner(problems: Sequence[str], lang: str) -> html.Div | None:
    if not problems:
        return None
    return html.Div(
        [html.B("⚠ " + t("topo.warnings", lang)), html.Ul([html.Li(p) for p in problems])],
        className="topo-warnings",
        id="topology-warnings",
        role="alert",
    )


def topology_page(
    org_name: str,
    figure: dict[str, Any],
    lang: str,
    ticket: str,
    view: dict[str, Any],
    side: Sequence[Any],
    problems: Sequence[str],
    path: Sequence[tuple[str, str]],
    drawn_text: str,
) -> html.Div:
    """/topology: search and the way back out above, the graph, and the analysis beside it."""
    toolbar = html.Div(
        [
            dcc.Input(id="topology-search", type="search", placeholder=t("topo.search.placeholder", lang), debounce=False, className="topo-search"),
            html.Button(t("topo.search.button", lang), id="topology-find", className="topo-btn primary"),
            html.Button(t("topo.reset", lang), id="topology-reset", className="topo-btn"),
            html.Button(t("topo.focus", lang), id="topology-focus", className="topo-btn"),
            html.Nav(crumbs(path), id="topology-crumbs", className="topo-crumbs"),
        ],
        className="topo-toolbar",
    )
    return html.Div(
        className=f"page topology-page lang-{lang}",
        children=[
            title_bar(org_name, lang),
            toolbar,
            html.Div(id="topology-message", className="topo-message", role="status"),
            warnings_banner(problems, lang),
            html.Div(
                className="topo-main",
                children=[
                    html.Section(
                        [graph("topology-graph", figure), legend(lang), html.Div(drawn_text, id="topology-drawn", className="topo-drawn")],
                        className="panel topo-panel",
                    ),
                    html.Aside(list(side), className="topo-side", id="topology-side"),
                ],
            ),
            dcc.Store(id="topology-view", data=view),
            dcc.Interval(id="topology-refresh", interval=15_000),
            *live_stores(ticket, lang),
        ],
    )
