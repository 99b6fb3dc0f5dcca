"""The dark big-screen theme: colours and the base of every Plotly figure."""

from __future__ import annotations

from typing import Any

BACKGROUND = "#070b18"
PANEL = "#0d1428"
GRID = "#1d2946"
TEXT = "#e8ecf5"
MUTED = "#8d98b3"
RED = "#d7263d"
GOLD = "#f3c14b"
SERIES = ("#f3c14b", "#e4573d", "#4fb3bf", "#7b8cde", "#9bd37a", "#d98cc6", "#f2994a", "#56a3f5")
GOOD, WARN, BAD = "#47c97a", "#f3c14b", "#ff4d5e"
FONT_FAMILY = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'


def figure_layout(**overrides: Any) -> dict[str, Any]:
    """Layout defaults for a chart on a dark panel: transparent, no mode bar clutter, large type."""
    base: dict[str, Any] = {
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": FONT_FAMILY, "color": TEXT, "size": 15},
        "margin": {"l": 8, "r": 8, "t": 8, "b": 8},
        "showlegend": False,
        "xaxis": {"gridcolor": GRID, "zeroline": False, "showline": False},
        "yaxis": {"gridcolor": GRID, "zeroline": False, "showline": False},
        "hoverlabel": {"font": {"family": FONT_FAMILY, "size": 15}},
    }
    base.update(overrides)
    return base


GRAPH_CONFIG: dict[str, Any] = {"displayModeBar": False, "responsive": True}


def threshold_colour(value: float | None, good: float, warn: float) -> str:
    """Colour of a rate: green at or above ``good``, gold at or above ``warn``, red below."""
    if value is None:
        return MUTED
    if value >= good:
        return GOOD
    return WARN if value >= warn else BAD
