"""Member-structure and progress charts as Plotly figure dicts (no data access)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from layouts.i18n import fmt_percent, t
from layouts.theme import GOLD, GRID, MUTED, RED, SERIES, TEXT, figure_layout


def _labels(prefix: str, keys: list[str], lang: str) -> list[str]:
    return [t(f"{prefix}.{k}", lang) if prefix else k for k in keys]


def donut(counts: Mapping[str, int | None], prefix: str, lang: str, height: int) -> dict[str, Any]:
    """A ring chart of shares, e.g. gender; the first share is printed in the middle."""
    keys = list(counts)
    values = [counts[k] or 0 for k in keys]  # None: hidden at the public level (fewer than 5)
    total = sum(values) or 1
    centre = f"{t(f'{prefix}.{keys[0]}', lang)}<br>{fmt_percent(values[0] / total)}" if keys else ""
    return {
        "data": [
            {
                "type": "pie",
                "labels": _labels(prefix, keys, lang),
                "values": values,
                "hole": 0.62,
                "sort": False,
                "direction": "clockwise",
                "marker": {"colors": [RED, GOLD, *SERIES[2:]], "line": {"color": "#0d1428", "width": 2}},
                "textinfo": "none",
                "hovertemplate": "%{label}: %{value:,} (%{percent})<extra></extra>",
            }
        ],
        "layout": figure_layout(
            height=height,
            annotations=[{"text": centre, "showarrow": False, "font": {"size": 16, "color": TEXT}}],
        ),
    }


def hbar(counts: Mapping[str, int | None], prefix: str, lang: str, height: int, colour: str = GOLD) -> dict[str, Any]:
    """Horizontal bars with the share printed at each bar's end, first category on top."""
    keys = list(counts)
    values = [counts[k] or 0 for k in keys]  # None: hidden at the public level (fewer than 5)
    total = sum(values) or 1
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": _labels(prefix, keys, lang),
                "x": values,
                "text": [fmt_percent(v / total) for v in values],
                "textposition": "outside",
                "cliponaxis": False,
                "textfont": {"size": 14, "color": TEXT},
                "marker": {"color": colour},
                "hovertemplate": "%{y}: %{x:,}<extra></extra>",
            }
        ],
        "layout": figure_layout(
            height=height,
            margin={"l": 8, "r": 56, "t": 4, "b": 4},
            bargap=0.28,
            xaxis={"visible": False},
            yaxis={"autorange": "reversed", "automargin": True, "tickfont": {"size": 14, "color": MUTED}, "gridcolor": GRID},
        ),
    }


def funnel(counts: Mapping[str, int | None], lang: str) -> dict[str, Any]:
    """The recruitment pipeline, applicant to full member."""
    keys = list(counts)
    return {
        "data": [
            {
                "type": "funnel",
                "y": _labels("pipeline", keys, lang),
                "x": [counts[k] or 0 for k in keys],
                "textinfo": "value",
                "textfont": {"size": 14},
                "marker": {"color": [SERIES[i % len(SERIES)] for i in range(len(keys))]},
                "connector": {"line": {"color": GRID}},
                "hovertemplate": "%{y}: %{x:,}<extra></extra>",
            }
        ],
        "layout": figure_layout(margin={"l": 8, "r": 8, "t": 4, "b": 4}, yaxis={"automargin": True, "tickfont": {"size": 14}}),
    }
