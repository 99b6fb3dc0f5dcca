"""The organisation topology as a Plotly figure: tree edges, cross-links, nodes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from layouts.theme import GOLD, GRID, MUTED, RED, figure_layout


@dataclass(frozen=True)
class TopoNode:
    code: str
    name: str
    x: float
    y: float
    members: int
    colour: str = GOLD


def _segments(pairs: Sequence[tuple[TopoNode, TopoNode]]) -> tuple[list[float | None], list[float | None]]:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for a, b in pairs:
        xs += [a.x, b.x, None]
        ys += [a.y, b.y, None]
    return xs, ys


def topology_figure(
    nodes: Sequence[TopoNode],
    tree_edges: Sequence[tuple[TopoNode, TopoNode]],
    cross_links: Sequence[tuple[TopoNode, TopoNode]] = (),
) -> dict:
    """Tree edges thin and grey, cross-links dashed red, nodes sized by sqrt(members)."""
    top = max((n.members for n in nodes), default=1) or 1
    tx, ty = _segments(tree_edges)
    cx, cy = _segments(cross_links)
    return {
        "data": [
            {"type": "scatter", "mode": "lines", "x": tx, "y": ty, "line": {"color": GRID, "width": 1}, "hoverinfo": "skip", "name": "tree"},
            {"type": "scatter", "mode": "lines", "x": cx, "y": cy, "line": {"color": RED, "width": 1, "dash": "dot"}, "hoverinfo": "skip", "name": "links"},
            {
                "type": "scatter",
                "mode": "markers",
                "x": [n.x for n in nodes],
                "y": [n.y for n in nodes],
                "customdata": [n.code for n in nodes],
                "text": [f"{n.name}<br>{n.members:,}" for n in nodes],
                "hoverinfo": "text",
                "marker": {
                    "size": [6 + 30 * math.sqrt(n.members / top) for n in nodes],
                    "color": [n.colour for n in nodes],
                    "line": {"color": MUTED, "width": 0.5},
                },
                "name": "organisations",
            },
        ],
        "layout": figure_layout(
            margin={"l": 0, "r": 0, "t": 0, "b": 0},
            xaxis={"visible": False, "fixedrange": True},
            yaxis={"visible": False, "scaleanchor": "x", "fixedrange": True},
            dragmode=False,
            uirevision="topology",
        ),
    }
