"""Building blocks shared by the views: panels, KPI tiles, ranked lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import dcc, html

from layouts.theme import GRAPH_CONFIG


def panel(title: str, children: Any, panel_id: str, class_name: str = "") -> html.Section:
    """A titled panel of the wall; ``panel_id`` names its grid area in wall.css."""
    return html.Section(
        className=f"panel {class_name}".strip(),
        id=f"panel-{panel_id}",
        children=[html.H2(title, className="panel-title"), html.Div(children, className="panel-body")],
    )


def kpi_tile(
    name: str, label: str, value: str, colour: str | None = None, raw: float | None = None, trend: tuple[str, str] | None = None
) -> html.Div:
    """A KPI tile; the value carries the stable id ``kpi-<name>`` and its raw number for count-up.

    ``trend`` is (the frame key of its series, what the series shows): assets/live.js draws it as bars.
    """
    style = {"color": colour} if colour else None
    series, title = trend if trend else (None, None)
    data: dict[str, Any] = {"data-series": series}
    return html.Div(
        className="kpi",
        id=f"tile-{name}",
        children=[
            html.Div(label, className="kpi-label"),
            html.Div(value, id=f"kpi-{name}", className="kpi-value", style=style, **{"data-value": raw}),
            html.Div(className="kpi-trend", id=f"trend-{name}", title=title, **data),
        ],
    )


def graph(graph_id: str, figure: dict[str, Any], height: int | None = None) -> dcc.Graph:
    """A chart; with ``height`` it keeps that height (px in the design canvas), else it fills its box."""
    sized = {"style": {"height": f"{height}px", "flex": "none"}} if height else {}
    return dcc.Graph(id=graph_id, figure=figure, config=GRAPH_CONFIG, className="graph", **sized)


def ranked_list(rows: Sequence[tuple[str, str]], empty_text: str, list_id: str) -> html.Ol | html.Div:
    """An ordered list of (label, value) rows, or a quiet placeholder when there are none."""
    if not rows:
        return html.Div(empty_text, className="empty", id=list_id)
    return html.Ol(
        id=list_id,
        className="ranked",
        children=[
            html.Li([html.Span(str(i), className="rank"), html.Span(label, className="label"), html.Span(value, className="value")])
            for i, (label, value) in enumerate(rows, start=1)
        ],
    )
