"""Member-structure charts as Plotly figure dicts (no data access).

Each trace carries its category keys in ``customdata`` (and the i18n prefix of
their labels in ``meta``), so the page can restyle the values from a frame's
``structure`` without the figure being sent again (assets/wall.js).
"""

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
                "customdata": keys,
                "meta": prefix,
                "hole": 0.66,
                "sort": False,
                "direction": "clockwise",
                "marker": {"colors": [RED, GOLD, *SERIES[2:]], "line": {"color": "#0d1428", "width": 2}},
                "textinfo": "none",
                "hovertemplate": "%{label}: %{value:,} (%{percent})<extra></extra>",
            }
        ],
        "layout": figure_layout(
            height=height,
            annotations=[{"text": centre, "showarrow": False, "font": {"size": 15, "color": TEXT}}],
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
                "customdata": keys,
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


def columns(counts: Mapping[str, int | None], height: int, colour: str = GOLD) -> dict[str, Any]:
    """Vertical bars in the given order (age bands), the share printed above each; labels are the keys."""
    keys = list(counts)
    values = [counts[k] or 0 for k in keys]
    total = sum(values) or 1
    return {
        "data": [
            {
                "type": "bar",
                "x": keys,
                "y": values,
                "customdata": keys,
                "text": [fmt_percent(v / total) for v in values],
                "textposition": "outside",
                "cliponaxis": False,
                "textfont": {"size": 13, "color": TEXT},
                "marker": {"color": colour},
                "hovertemplate": "%{x}: %{y:,}<extra></extra>",
            }
        ],
        "layout": figure_layout(
            height=height,
            margin={"l": 4, "r": 4, "t": 22, "b": 4},
            bargap=0.3,
            yaxis={"visible": False},
            xaxis={"type": "category", "automargin": True, "tickfont": {"size": 14, "color": MUTED}},
        ),
    }
