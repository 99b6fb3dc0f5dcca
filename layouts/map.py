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
from typing import Any

from dash import dcc, html

from dashboard.map.frames import FLASH_KINDS, NOTICE_LEVELS
from dashboard.map.regions import RegionMap
from dashboard.map.view import MAP_KPIS, RATE_KPIS, KpiValues, OrgOnMap
from layouts.components import graph
from layouts.i18n import fmt_count, fmt_percent, t
from layouts.theme import BAD, GOLD, GRID, figure_layout
from layouts.wall import live_stores, title_bar

COLOUR_STOPS = ((0.0, (38, 20, 36)), (0.35, (140, 24, 44)), (0.7, (215, 38, 61)), (1.0, (243, 193, 75)))
NO_DATA = "#1a2238"
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


def colour_for(fraction: float | None) -> str:
    """A colour on the red-to-gold scale for a value in [0, 1]."""
    if fraction is None or math.isnan(fraction):
        return NO_DATA
    f = min(max(fraction, 0.0), 1.0)
    for (f0, c0), (f1, c1) in zip(COLOUR_STOPS, COLOUR_STOPS[1:]):
        if f <= f1:
            k = (f - f0) / (f1 - f0) if f1 > f0 else 0.0
            r, g, b = (round(a + (b_ - a) * k) for a, b_ in zip(c0, c1))
            return f"rgb({r},{g},{b})"
    return "rgb(243,193,75)"


def scale_top(kpi: str, values: Sequence[float | None]) -> float:
    """The value the top of the colour scale stands for: 1 for a rate, else the largest value."""
    if kpi in RATE_KPIS:
        return 1.0
    return max((v for v in values if v is not None), default=0) or 1


def region_colours(values: Mapping[str, KpiValues], codes: Sequence[str], kpi: str) -> list[str]:
    """Fill colours per region (in ``codes`` order) for one of MAP_KPIS."""
    column = MAP_KPIS.index(kpi)
    picked = {code: row[column] for code, row in values.items()}
    top = scale_top(kpi, list(picked.values()))
    return [colour_for(v / top) if (v := picked.get(code)) is not None else NO_DATA for code in codes]


def fmt_kpi(kpi: str, value: float | None, lang: str) -> str:
    if value is None:
        return "—"
    if kpi in RATE_KPIS:
        return fmt_percent(value)
    return f"{value:.2f}" if kpi == "activity" else fmt_count(value, lang)


def _outline(geometry: dict[str, Any]) -> tuple[list[float | None], list[float | None]]:
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    xs: list[float | None] = []
    ys: list[float | None] = []
    for polygon in polygons:
        for lon, lat, *_ in polygon[0]:
            xs.append(round(lon * LON_SCALE, 4))
            ys.append(lat)
        xs.append(None)
        ys.append(None)
    return xs, ys


def _client_meta(region_map: RegionMap, values: Mapping[str, KpiValues], kpi: str, lang: str, transfers: Mapping[str, Any], drill: bool) -> dict[str, Any]:
    """What assets/map.js needs, sent once with the figure."""
    return {
        "lonScale": LON_SCALE,
        "stops": [[f, "rgb({},{},{})".format(*c)] for f, c in COLOUR_STOPS],
        "noData": NO_DATA,
        "lang": lang,
        "kpi": kpi,
        "kpis": [{"key": k, "label": t(f"map.kpi.{k}", lang), "rate": k in RATE_KPIS} for k in MAP_KPIS],
        "values": dict(values),
        "names": dict(region_map.names),
        "centroids": {code: list(point) for code, point in region_map.centroids.items()},
        "kinds": [{"label": t(f"map.kind.{k}", lang), "colour": KIND_COLOURS[k]} for k in FLASH_KINDS],
        "notice": {level: NOTICE_COLOURS[level] for level in NOTICE_LEVELS},
        "transferColours": TRANSFER_COLOURS,
        "transfers": {"in_flight": transfers.get("in_flight"), "overdue": transfers.get("overdue")},
        "labels": {
            "in_flight": t("kpi.transfers_in_flight", lang),
            "overdue": t("kpi.transfers_overdue", lang),
            "kinds": t("map.kinds", lang),
        },
        "drill": drill,
    }


def region_figure(
    region_map: RegionMap,
    values: Mapping[str, KpiValues],
    kpi: str,
    lang: str,
    transfers: Mapping[str, Any] | None = None,
    drill: bool = False,
) -> dict[str, Any]:
    """One filled trace per region (in ``region_map.codes`` order), coloured by ``kpi`` of ``values``.

    ``values`` maps region codes to their KPIs in MAP_KPIS order (dashboard.map.view.region_kpis);
    ``drill`` lets a click on a region open its organisations (the ``/map`` page).
    """
    colours = region_colours(values, region_map.codes, kpi)
    by_code = {f["id"]: f for f in region_map.geojson["features"]}
    traces: list[dict[str, Any]] = []
    for code, colour in zip(region_map.codes, colours):
        xs, ys = _outline(by_code[code]["geometry"])
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
                "name": region_map.names[code],
                "customdata": [code],
            }
        )
    lons = [c[0] * LON_SCALE for c in region_map.centroids.values()]
    return {
        "data": traces,
        "layout": figure_layout(
            margin={"l": 0, "r": 0, "t": 0, "b": 0},
            xaxis={"visible": False, "range": [min(lons) - 8, max(lons) + 6], "fixedrange": True},
            yaxis={"visible": False, "scaleanchor": "x", "scaleratio": 1, "fixedrange": True},
            dragmode=False,
            hovermode="closest",
            uirevision="map",
            meta={"map": _client_meta(region_map, values, kpi, lang, transfers or {}, drill)},
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


def drill_panel(region_name: str, orgs: Sequence[OrgOnMap], kpi: str, lang: str, link_query: str) -> list[Any]:
    """The organisations of a drilled-into region, best first by ``kpi``, each a link to its page."""
    column = MAP_KPIS.index(kpi)
    ranked = sorted(orgs, key=lambda o: (o.kpis[column] is None, -(o.kpis[column] or 0), o.code))
    rows = [
        html.Li(
            html.A(
                [html.Span(o.name, className="label"), html.Span(fmt_kpi(kpi, o.kpis[column], lang), className="value")],
                href=f"/org/{o.code}{link_query}",
            )
        )
        for o in ranked
    ]
    return [
        html.Div(
            [
                html.H2(region_name, className="map-box-title", id="map-drill-region"),
                html.Button("← " + t("map.back", lang), id="map-back", className="map-back"),
            ],
            className="map-drill-head",
        ),
        html.Div(f"{t(f'map.kpi.{kpi}', lang)} · {len(orgs)} {t('map.drill.orgs', lang)}", className="map-drill-sub"),
        html.Ol(rows, className="map-org-list", id="map-org-list") if rows else html.Div(t("map.drill.empty", lang), className="empty"),
    ]


def orgs_for_client(orgs: Sequence[OrgOnMap], region: str, link_query: str) -> dict[str, Any]:
    """The markers of a drill-down, for assets/map.js."""
    return {
        "region": region,
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

