"""The region map as a Plotly figure of filled SVG polygons on plain axes.

Why not a geo or MapLibre subplot: plotly's geo fetches its base topojson
from a CDN, and MapLibre needs WebGL, which a wall PC without a GPU (and
headless Chromium) may not have. Filled scatter traces on equal-scale axes
draw the shipped boundaries with no network and no GPU, and each region is
one trace, so a frame recolours a region by patching one ``fillcolor``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from dashboard.regions import RegionMap
from layouts.theme import GRID, MUTED, TEXT, figure_layout

COLOUR_STOPS = ((0.0, (38, 20, 36)), (0.35, (140, 24, 44)), (0.7, (215, 38, 61)), (1.0, (243, 193, 75)))
NO_DATA = "#1a2238"
# Equal-area-ish look for China without a projection library: shrink longitudes by cos(35°).
LON_SCALE = math.cos(math.radians(35))


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


def region_colours(values: Mapping[str, float], codes: tuple[str, ...]) -> list[str]:
    """Fill colours per region, scaled to the largest value."""
    top = max((v for v in values.values() if v is not None), default=0) or 1
    return [colour_for(values[c] / top) if values.get(c) is not None else NO_DATA for c in codes]


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


def region_figure(region_map: RegionMap, values: Mapping[str, float], value_label: str, fmt: str = ",.0f") -> dict[str, Any]:
    """One filled trace per region (in ``region_map.codes`` order), coloured by ``values``."""
    colours = region_colours(values, region_map.codes)
    by_code = {f["id"]: f for f in region_map.geojson["features"]}
    traces: list[dict[str, Any]] = []
    for code, colour in zip(region_map.codes, colours):
        xs, ys = _outline(by_code[code]["geometry"])
        value = values.get(code)
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
                "name": region_map.names[code],
                "customdata": [code],
                "text": f"{region_map.names[code]}<br>{value_label}: {format(value, fmt) if value is not None else '—'}",
                "hoverinfo": "text",
            }
        )
    lons = [c[0] * LON_SCALE for c in region_map.centroids.values()]
    lats = [c[1] for c in region_map.centroids.values()]
    return {
        "data": traces,
        "layout": figure_layout(
            margin={"l": 0, "r": 0, "t": 0, "b": 0},
            xaxis={"visible": False, "range": [min(lons) - 8, max(lons) + 6], "fixedrange": True},
            yaxis={"visible": False, "scaleanchor": "x", "scaleratio": 1, "fixedrange": True},
            dragmode=False,
            hoverlabel={"bgcolor": "#0d1428", "font": {"color": TEXT}, "bordercolor": MUTED},
            uirevision="map",
        ),
    }
