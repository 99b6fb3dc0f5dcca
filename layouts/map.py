"""The map: regions as a Plotly figure of filled SVG polygons, and the ``/map`` page around it.

Why not a geo or MapLibre subplot: plotly's geo fetches its base topojson
from a CDN, and MapLibre needs WebGL, which a wall PC without a GPU (and
headless Chromium) may not have; MapLibre's text labels fetch glyphs from a
CDN too. Filled scatter traces on equal-scale axes draw the shipped
boundaries with no network and no GPU, and each region is one trace, so a
frame recolours a region by restyling one ``fillcolor`` (a style-only edit:
no recalculation, no geometry sent again).

Everything that moves — event flashes, transfer lines, notice pulses, a
drill-down's organisation markers — is drawn by ``assets/map.js`` on an
overlay above the plot, positioned with the figure's own axes; what the
script needs to know (colour scale, KPI labels, kind colours, centroids, the
values at render time) travels once, in ``layout.meta.map``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dash import dcc, html

from dashboard.map.frames import FLASH_KINDS, NOTICE_LEVELS
from dashboard.map.inset import Inset, load_inset, on_main_map
from dashboard.map.regions import RegionMap
from dashboard.map.view import MAP_KPIS, RATE_KPIS, KpiValues, OrgOnMap
from layouts.components import graph
from layouts.i18n import fmt_count, fmt_percent, t
from layouts.theme import BAD, GOLD, GRID, figure_layout
from layouts.wall import live_stores, title_bar

COLOUR_STOPS = ((0.0, (38, 20, 36)), (0.35, (140, 24, 44)), (0.7, (215, 38, 61)), (1.0, (243, 193, 75)))
# Equal-area-ish look for China without a projection library: shrink longitudes by cos(35°).
LON_SCALE = math.cos(math.radians(35))
# One colour per kind of activity (dashboard.map.frames.FLASH_KINDS), bright on the dark theme.
KIND_COLOURS: dict[str, str] = {
    "study": "#f3c14b",
    "interact": "#56a3f5",
    "meeting": "#ff6b6b",
    "dues": "#47c97a",
    "volunteer": "#d98cc6",
    "transfer": "#4fd1e0",
    "recruit": "#ff9f43",
    "login": "#9aa6c4",
}
NOTICE_COLOURS: dict[str, str] = {"info": "#56a3f5", "warning": GOLD, "urgent": BAD}
TRANSFER_COLOURS: dict[str, str] = {"open": "#4fd1e0", "overdue": BAD}
# How often a drilled-into region's organisations are fetched again, ms.
DRILL_REFRESH_MS = 5000


def class_breaks(values: Sequence[float | int | None]) -> list[float]:
    """The lower bounds of the colour classes above the first: the quintiles of the values, without repeats.

    Quantile classes put about as many regions in each colour, so provinces
    differ however skewed the spread (one region with ten times the others'
    members no longer paints every other one the same dark red).
    assets/map.js computes the same breaks from the live values.
    """
    ordered = sorted(v for v in values if v is not None)
    breaks: list[float] = []
    for q in range(1, CLASSES):
        if not ordered:
            break
        b = ordered[(len(ordered) * q) // CLASSES]
        if b > ordered[0] and (not breaks or b > breaks[-1]):
            breaks.append(b)
    if not breaks and ordered and ordered[-1] > ordered[0]:
        # Most regions tie at the lowest value (at dawn, all but a few at 0): the others stand apart.
        breaks.append(min(v for v in ordered if v > ordered[0]))
    return breaks


def class_colour(value: float | int | None, breaks: Sequence[float]) -> str:
    """The colour of ``value``'s class.

    A region with no value takes the first class's colour: the rules on public
    maps want Taiwan in the same thematic style as the provinces, its missing
    data stated in words (the legend's note), never set apart in a grey.
    """
    if value is None:
        return CLASS_COLOURS[0]
    index = sum(1 for b in breaks if value >= b)
    # All values equal: one class, the first, shared with the regions that have none.
    return CLASS_COLOURS[round(index * (CLASSES - 1) / len(breaks)) if breaks else 0]


def _stop_colour(fraction: float) -> str:
    for (f0, c0), (f1, c1) in zip(COLOUR_STOPS, COLOUR_STOPS[1:]):
        if fraction <= f1:
            k = (fraction - f0) / (f1 - f0) if f1 > f0 else 0.0
            r, g, b = (round(a + (b_ - a) * k) for a, b_ in zip(c0, c1))
            return f"rgb({r},{g},{b})"
    return "rgb({},{},{})".format(*COLOUR_STOPS[-1][1])


CLASSES = 5
# Five steps of the dark-red-to-gold scale, one per quintile class.
CLASS_COLOURS = tuple(_stop_colour(0.12 + 0.88 * i / (CLASSES - 1)) for i in range(CLASSES))


def region_colours(values: Mapping[str, KpiValues], codes: Sequence[str], kpi: str) -> list[str]:
    """Fill colours per region (in ``codes`` order) for one of MAP_KPIS."""
    column = MAP_KPIS.index(kpi)
    picked = [values[code][column] if code in values else None for code in codes]
    breaks = class_breaks(picked)
    return [class_colour(v, breaks) for v in picked]


def fmt_kpi(kpi: str, value: float | None, lang: str) -> str:
    if value is None:
        return "—"
    if kpi in RATE_KPIS:
        return fmt_percent(value)
    return f"{value:.2f}" if kpi == "activity" else fmt_count(value, lang)


def short_name(name: str, lang: str) -> str:
    """A region's name as a map label: 北京 for 北京市, 广西 for 广西壮族自治区; English names as they are."""
    if lang == "en":
        return name
    for suffix in SHORT_NAME_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


SHORT_NAME_SUFFIXES = ("特别行政区", "壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "省", "市")


@dataclass(frozen=True)
class MapFrame:
    """Where the main map and the inset sit on the figure's axes (x is longitude times LON_SCALE)."""

    inset: Inset
    x0: float  # the inset's lower-left corner on the axes
    y0: float
    scale: float
    main_box: tuple[float, float, float, float]  # x0, y0, x1, y1 of the main map

    @classmethod
    def fit(cls, rings: Sequence[Sequence[Sequence[float]]], inset: Inset) -> MapFrame:
        """The inset in the lower right of the main map drawn by ``rings``, INSET_HEIGHT of its height."""
        xs = [p[0] * LON_SCALE for ring in rings for p in ring]
        ys = [p[1] for ring in rings for p in ring]
        box = (min(xs), min(ys), max(xs), max(ys))
        west, south, east, north = inset.extent
        scale = INSET_HEIGHT * (box[3] - box[1]) / (north - south)
        width = (east - west) * LON_SCALE * scale
        return cls(inset, box[2] + INSET_GAP - width, box[1], scale, box)

    def to_inset(self, lon: float, lat: float) -> tuple[float, float]:
        west, south, _, _ = self.inset.extent
        return round(self.x0 + (lon - west) * LON_SCALE * self.scale, 3), round(self.y0 + (lat - south) * self.scale, 3)

    def inset_box(self) -> list[float]:
        west, south, east, north = self.inset.extent
        return [*self.to_inset(west, south), *self.to_inset(east, north)]


# The inset's height as a share of the main map's, and how far it reaches right of the main map (axis units).
INSET_HEIGHT = 0.3
INSET_GAP = 1.5
# Islands too small to see at the scale of the whole country, marked and named on the main map.
MAIN_MAP_ISLANDS = (("钓鱼岛", "Diaoyu Dao", 123.476, 25.744), ("赤尾屿", "Chiwei Yu", 124.557, 25.923))
# Divisions whose lack of data the map states in words, as the rules require for Taiwan.
NOTED_WHEN_EMPTY = ("710000", "810000", "820000")
ISLAND_COLOUR = "#c8d2ec"


def _polygons(geometry: dict[str, Any]) -> list[list[list[float]]]:
    """The exterior rings of a Polygon or MultiPolygon."""
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return [polygon[0] for polygon in polygons]


def _outline(rings: Sequence[Sequence[Sequence[float]]], frame: MapFrame) -> tuple[list[float | None], list[float | None]]:
    """A region's parts as one path: its polygons on the main map, then its parts inside the inset."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for ring in rings:
        if on_main_map([(p[0], p[1]) for p in ring]):
            kept = _thinned([(p[0], p[1]) for p in ring], MAIN_STEP)
            xs += [round(lon * LON_SCALE, 3) for lon, _ in kept] + [None]
            ys += [lat for _, lat in kept] + [None]
    for ring in rings:
        for lon, lat in _thinned(frame.inset.clip([(p[0], p[1]) for p in ring]), INSET_STEP):
            x, y = frame.to_inset(lon, lat)
            xs.append(x)
            ys.append(y)
        if xs and xs[-1] is not None:
            xs.append(None)
            ys.append(None)
    return xs, ys


def _thinned(ring: Sequence[tuple[float, float]], step: float) -> list[tuple[float, float]]:
    """The ring without points closer than ``step`` degrees to the last one kept (a sub-pixel detail at the map's scale).

    A ring that would thin to fewer than four points (a small island) keeps its bounding box, so it stays drawn.
    """
    if not ring:
        return []
    kept = [ring[0]]
    for point in ring[1:-1]:
        if max(abs(point[0] - kept[-1][0]), abs(point[1] - kept[-1][1])) >= step:
            kept.append(point)
    kept.append(ring[-1])
    if len(kept) >= 4:
        return kept
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    return [(west, south), (west, north), (east, north), (east, south), (west, south)]


# Thinning of the outlines, in degrees: about half a pixel on /map's whole-country view (some 20 px a
# degree), a few pixels in a province's drill-down; coarser in the inset, drawn at INSET_HEIGHT of the scale.
# It keeps the page's figure (~240 KB) at the size the old boundaries had.
MAIN_STEP = 0.03
INSET_STEP = 0.06


def _decoration_traces(frame: MapFrame, lang: str) -> list[dict[str, Any]]:
    """The inset's frame and dashes, and the small islands' marks: drawn, never coloured by a KPI."""
    bx0, by0, bx1, by1 = frame.inset_box()
    dash_x: list[float | None] = []
    dash_y: list[float | None] = []
    for dash in frame.inset.dashes:
        for lon, lat in dash:
            x, y = frame.to_inset(lon, lat)
            dash_x.append(x)
            dash_y.append(y)
        dash_x.append(None)
        dash_y.append(None)
    marks = [frame.to_inset(n.lon, n.lat) for n in frame.inset.names]
    marks += [(round(lon * LON_SCALE, 4), lat) for _, _, lon, lat in MAIN_MAP_ISLANDS]
    common = {"type": "scatter", "hoverinfo": "skip", "showlegend": False}
    return [
        {**common, "mode": "lines", "x": [bx0, bx1, bx1, bx0, bx0], "y": [by0, by0, by1, by1, by0],
         "line": {"color": "#5b6a92", "width": 1.2}, "fill": "toself", "fillcolor": "rgba(7,11,24,0.55)", "name": "inset"},
        {**common, "mode": "lines", "x": dash_x, "y": dash_y, "line": {"color": ISLAND_COLOUR, "width": 2}, "name": "dashes"},
        {**common, "mode": "markers", "x": [m[0] for m in marks], "y": [m[1] for m in marks],
         "marker": {"color": ISLAND_COLOUR, "size": 5, "line": {"width": 0}}, "name": "islands"},
    ]


def _island_names(frame: MapFrame, lang: str) -> list[dict[str, Any]]:
    """The names the map writes beside islands: the inset's groups and the main map's small islands."""
    names = [{"text": n.name_en if lang == "en" else n.name, "x": x, "y": y, "inset": True}
             for n in frame.inset.names for x, y in [frame.to_inset(n.lon, n.lat)]]
    names += [{"text": en if lang == "en" else zh, "x": round(lon * LON_SCALE, 4), "y": lat, "inset": False}
              for zh, en, lon, lat in MAIN_MAP_ISLANDS]
    return names


def _client_meta(
    region_map: RegionMap, frame: MapFrame, values: Mapping[str, KpiValues], kpi: str, lang: str, transfers: Mapping[str, Any], drill: bool
) -> dict[str, Any]:
    """What assets/map.js needs, sent once with the figure."""
    names = region_map.names_in(lang)
    return {
        "lonScale": LON_SCALE,
        "classColours": list(CLASS_COLOURS),
        "lang": lang,
        "kpi": kpi,
        "kpis": [{"key": k, "label": t(f"map.kpi.{k}", lang), "rate": k in RATE_KPIS} for k in MAP_KPIS],
        "values": dict(values),
        "names": names,
        "short": {code: short_name(name, lang) for code, name in names.items()},
        "centroids": {code: list(point) for code, point in region_map.centroids.items()},
        "insetBox": frame.inset_box(),
        "islands": _island_names(frame, lang),
        "notes": {code: t(f"map.no_data.{code}", lang) for code in NOTED_WHEN_EMPTY if code in region_map.names},
        "labels": {
            "in_flight": t("kpi.transfers_in_flight", lang),
            "overdue": t("kpi.transfers_overdue", lang),
            "kinds": t("map.kinds", lang),
            "classes": t("map.legend.quintiles", lang),
            "noValue": t("map.legend.no_value", lang),
        },
        "kinds": [{"label": t(f"map.kind.{k}", lang), "colour": KIND_COLOURS[k]} for k in FLASH_KINDS],
        "notice": {level: NOTICE_COLOURS[level] for level in NOTICE_LEVELS},
        "transferColours": TRANSFER_COLOURS,
        "transfers": {"in_flight": transfers.get("in_flight"), "overdue": transfers.get("overdue")},
        # Every region's label on /map; on the wall's smaller panel the leading ones.
        "labelTop": None if drill else WALL_LABELS,
        "drill": drill,
    }


# How many leading regions the wall's map names with their value.
WALL_LABELS = 6


def region_figure(
    region_map: RegionMap,
    values: Mapping[str, KpiValues],
    kpi: str,
    lang: str,
    transfers: Mapping[str, Any] | None = None,
    drill: bool = False,
) -> dict[str, Any]:
    """One filled trace per region (in ``region_map.codes`` order), coloured by ``kpi`` of ``values``, then the inset's drawing.

    ``values`` maps region codes to their KPIs in MAP_KPIS order (dashboard.map.view.region_kpis);
    ``drill`` lets a click on a region open its organisations (the ``/map`` page).
    """
    colours = region_colours(values, region_map.codes, kpi)
    rings = {f["id"]: _polygons(f["geometry"]) for f in region_map.geojson["features"]}
    main_rings = [ring for code in region_map.codes for ring in rings[code] if on_main_map([(p[0], p[1]) for p in ring])]
    frame = MapFrame.fit(main_rings, load_inset())
    names = region_map.names_in(lang)
    traces: list[dict[str, Any]] = []
    for code, colour in zip(region_map.codes, colours):
        xs, ys = _outline(rings[code], frame)
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": xs,
                "y": ys,
                "fill": "toself",
                "fillcolor": colour,
                "line": {"color": GRID, "width": 0.8},
                "hoveron": "fills",
                "hoverinfo": "none",  # assets/map.js shows the live figures itself
                "name": names[code],
                "customdata": [code],
            }
        )
    x0, y0, x1, y1 = frame.main_box
    return {
        "data": traces + _decoration_traces(frame, lang),
        "layout": figure_layout(
            margin={"l": 0, "r": 0, "t": 0, "b": 0},
            xaxis={"visible": False, "range": [x0 - 0.5, x1 + INSET_GAP + 0.5], "fixedrange": True},
            yaxis={"visible": False, "range": [y0 - 0.5, y1 + 0.5], "scaleanchor": "x", "scaleratio": 1, "fixedrange": True, "constrain": "domain"},
            dragmode=False,
            hovermode="closest",
            uirevision="map",
            showlegend=False,
            meta={"map": _client_meta(region_map, frame, values, kpi, lang, transfers or {}, drill)},
        ),
    }


# --- the /map page -----------------------------------------------------------------------------


def kpi_choice(kpi: str, lang: str) -> html.Div:
    """Buttons choosing the KPI the regions are coloured by (assets/map.js handles the clicks)."""
    return html.Div(
        [
            html.Button(t(f"map.kpi.{k}", lang), className="map-kpi-btn" + (" selected" if k == kpi else ""), **{"data-map-kpi": k})
            for k in MAP_KPIS
        ],
        className="map-kpi-choice",
        id="map-kpi-choice",
    )


def drill_hint(lang: str) -> list[Any]:
    return [html.H2(t("map.drill.title", lang), className="map-box-title"), html.Div(t("map.drill.hint", lang), className="empty")]


def drill_panel(
    title: str, orgs: Sequence[OrgOnMap], kpi: str, lang: str, link_query: str, within: str | None = None
) -> list[Any]:
    """The organisations of a drilled-into region (or of its committee ``within``), grouped by level, best first by ``kpi``.

    党委, then 党总支, then 党支部, each under its heading with its count; a
    committee or general branch can be opened in turn (its branches on the
    map), and every name links to its organisation page.
    """
    column = MAP_KPIS.index(kpi)
    groups = []
    for kind in DRILL_LEVELS:
        members = sorted((o for o in orgs if o.kind == kind), key=lambda o: (o.kpis[column] is None, -(o.kpis[column] or 0), o.code))
        if not members:
            continue
        rows = [
            html.Li(
                [
                    html.A(
                        [html.Span(o.name, className="label"), html.Span(fmt_kpi(kpi, o.kpis[column], lang), className="value")],
                        href=f"/org/{o.code}{link_query}",
                    ),
                    *([_open_button(o.code, lang)] if kind != "branch" else []),
                ]
            )
            for o in members
        ]
        level: dict[str, Any] = {"data-level": kind}
        groups.append(html.Li([html.H3(f"{t(f'topo.kind.{kind}', lang)} · {len(members)}", className="map-level-title"),
                               html.Ol(rows, className="map-org-list")], className="map-level", **level))
    back = t("map.back_region", lang) if within else t("map.back", lang)
    return [
        html.Div(
            [
                html.H2(title, className="map-box-title", id="map-drill-region"),
                html.Button("← " + back, id="map-back", className="map-back"),
            ],
            className="map-drill-head",
        ),
        html.Div(f"{t(f'map.kpi.{kpi}', lang)} · {len(orgs)} {t('map.drill.orgs', lang)}", className="map-drill-sub"),
        html.Ol(groups, className="map-levels", id="map-org-list") if groups else html.Div(t("map.drill.empty", lang), className="empty"),
    ]


def _open_button(code: str, lang: str) -> html.Button:
    """The button that opens a committee's own organisations (assets/map.js handles the click)."""
    attributes: dict[str, Any] = {"data-map-org": code}
    return html.Button("›", className="map-open", title=t("map.drill.open", lang), **attributes)


# The drill-down's groups, top down: 党小组 are parts of their branch, not listed.
DRILL_LEVELS = ("committee", "general_branch", "branch")


def orgs_for_client(orgs: Sequence[OrgOnMap], region: str, link_query: str, within: str | None = None) -> dict[str, Any]:
    """The markers of a drill-down, for assets/map.js."""
    return {
        "region": region,
        "within": within,
        "orgs": [{"code": o.code, "name": o.name, "lon": o.lon, "lat": o.lat, "v": o.kpis, "href": f"/org/{o.code}{link_query}"} for o in orgs],
    }


def map_page(org_name: str, figure: dict[str, Any], kpi: str, lang: str, ticket: str) -> html.Div:
    """The ``/map`` page: the map with its overlay, the KPI choice, and the drill-down panel."""
    return html.Div(
        id="map-page",
        className=f"page map-page lang-{lang}",
        children=[
            title_bar(org_name, lang),
            html.Main(
                className="map-main",
                children=[
                    html.Section(graph("map-graph", figure), className="panel map-panel"),
                    html.Aside(
                        className="map-side",
                        children=[
                            html.Div([html.H2(t("map.colour_by", lang), className="map-box-title"), kpi_choice(kpi, lang)], className="map-box"),
                            # the event kinds' legend and the no-data notes, put here by assets/map.js: beside the
                            # map, not over its land
                            html.Div(className="map-box map-kinds-slot"),
                            html.Div(className="map-box map-notes-slot"),
                            html.Div(drill_hint(lang), id="map-drill-panel", className="map-box map-drill"),
                        ],
                    ),
                ],
            ),
            dcc.Store(id="map-drill"),
            dcc.Store(id="map-orgs"),
            dcc.Store(id="map-orgs-shown"),
            dcc.Interval(id="map-drill-refresh", interval=DRILL_REFRESH_MS, disabled=True),
            *live_stores(ticket, lang),
        ],
    )

