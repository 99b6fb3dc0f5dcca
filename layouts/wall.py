"""The wall (大屏): a 1920×1080 composition scaled to fill the screen (assets/scale.js).

``wall_layout`` renders what it is handed — the scope's snapshot, the map's
and the topology's figures, the rotation — and nothing else. Live frames then
update every panel in place by element id: the KPI tiles, feed, alerts and
leaderboard (assets/live.js), the structure charts, progress, pipeline and
spotlight (assets/wall.js), the map and the topology (their views' scripts).
The rotation (assets/playlist.js) moves the focus by switching a class on the
canvas; nothing is re-rendered by Dash after the first layout.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dash import dcc, html

from layouts.charts import columns, donut, hbar
from layouts.components import graph, panel, ranked_list
from layouts.i18n import client_labels, fmt_count, fmt_percent, t
from layouts.kpi import BOARD_TILES, kpi_tiles
from layouts.playlist import playlist_controls, spotlight
from layouts.theme import RED, SERIES

# The eight tiles of the wall's KPI row; the KPI board (the rotation's "kpi" focus) shows all of BOARD_TILES.
WALL_TILES: tuple[str, ...] = (
    "members",
    "organisations",
    "active_today",
    "active_15m",
    "events_today",
    "events_per_min",
    "study_points_today",
    "lost_contact",
)

# Chart heights in px of the 1920×1080 design canvas (wall.css gives their boxes the same heights).
DONUT_H, AGE_H, EDUCATION_H, OCCUPATION_H = 106, 154, 172, 200
# Occupations with a bar of their own at 22px; the others are summed into 其他 (docs/wall.md, "Text floor").
OCCUPATION_BARS = 5
PIPELINE_STAGES = ("applicant", "activist", "development_target", "probationary", "full")


@dataclass(frozen=True)
class WallOptions:
    """How this wall runs: its rotation (layouts.playlist.playlist_config), messages about bad input, links to switch language."""

    playlist: dict[str, Any] = field(default_factory=dict)
    problems: Sequence[str] = ()
    lang_links: Mapping[str, str] = field(default_factory=dict)


def lang_switch(links: Mapping[str, str], lang: str) -> html.Nav:
    """Links to this page in each language, the current one marked."""
    return html.Nav(
        [html.A(t(f"lang.{code}", lang), href=href, className="lang-link" + (" current" if code == lang else ""), lang=code) for code, href in links.items()],
        className="lang-switch control",
    )


def title_bar(org_name: str, lang: str, controls: Sequence[Any] = ()) -> html.Header:
    """Logo and organisation, the title, and clock, ``controls`` and link state on the right."""
    return html.Header(
        className="title-bar",
        children=[
            html.Div([html.Span(t("app.logo", lang), className="logo"), html.Span(org_name, className="org-name")], className="title-left"),
            html.H1(t("app.subtitle", lang), className="title-centre"),
            html.Div(
                [
                    *controls,
                    html.Span(id="clock", className="clock"),
                    conn_badge(lang),
                ],
                className="title-right",
            ),
        ],
    )


CONN_KINDS = ("connecting", "live", "reconnecting", "stale")


def conn_badge(lang: str) -> html.Span:
    """``#conn-state``: "connecting" until the first frame, carrying its words for every state
    (``data-label-<kind>``) so assets/live.js shows the page's language from the first paint."""
    words = {f"data-label-{kind}": t(f"conn.{kind}", lang) for kind in CONN_KINDS}
    return html.Span(t("conn.connecting", lang), id="conn-state", className="conn-state connecting", **{"data-lag-ms": "", **words})


def _chart_cell(title: str, graph_id: str, figure: dict[str, Any], height: int) -> html.Div:
    return html.Div([html.H3(title), graph(graph_id, figure, height)], className="chart-cell")


def structure_panel(structure: Mapping[str, Any], lang: str) -> html.Section:
    """Gender, ethnicity, full/probationary (rings) and age bands (columns)."""
    return panel(
        t("panel.structure", lang),
        [
            html.Div(
                [
                    _chart_cell(t("panel.gender", lang), "chart-gender", donut(structure.get("gender", {}), "gender", lang, DONUT_H), DONUT_H),
                    _chart_cell(t("panel.ethnicity", lang), "chart-ethnicity", donut(structure.get("ethnicity", {}), "ethnicity", lang, DONUT_H), DONUT_H),
                    _chart_cell(t("panel.status", lang), "chart-status", donut(structure.get("status", {}), "status", lang, DONUT_H), DONUT_H),
                ],
                className="donut-row",
            ),
            html.H3(t("panel.age", lang)),
            graph("chart-age", columns(structure.get("age_band", {}), AGE_H, SERIES[0], paired=True), AGE_H),
        ],
        "structure",
    )


def background_panel(structure: Mapping[str, Any], lang: str) -> html.Section:
    """Education and occupation, as bars with shares."""
    return panel(
        t("panel.background", lang),
        [
            html.H3(t("panel.education", lang)),
            graph("chart-education", hbar(structure.get("education", {}), "education", lang, EDUCATION_H, SERIES[2]), EDUCATION_H),
            html.H3(t("panel.occupation", lang)),
            graph("chart-occupation", hbar(structure.get("occupation", {}), "occupation", lang, OCCUPATION_H, RED, OCCUPATION_BARS), OCCUPATION_H),
        ],
        "background",
    )


def progress_values(snap: Mapping[str, Any]) -> dict[str, tuple[float | None, int | None, int | None]]:
    """Each progress row as (rate, done, of): branches for the meetings, members for dues."""
    meetings = snap.get("meetings", {})
    return {
        "three_meetings": (meetings.get("three_meetings_completion"), meetings.get("three_meetings_branches"), snap.get("branches")),
        "themed_day": (meetings.get("themed_day_completion"), meetings.get("themed_day_branches"), snap.get("branches")),
        "dues": (snap.get("dues_rate"), snap.get("dues_paid"), snap.get("members")),
    }


def progress_panel(snap: Mapping[str, Any], lang: str) -> html.Section:
    """三会一课, themed party day and dues this month: a bar, the rate, and done of how many."""
    rows = []
    for name, (rate, done, of) in progress_values(snap).items():
        unit = "progress.of_members" if name == "dues" else "progress.of_branches"
        rows.append(
            html.Div(
                [
                    html.Span(t(f"progress.{name}", lang), className="label"),
                    html.Span(
                        t(unit, lang).format(done=fmt_count(done, lang), of=fmt_count(of, lang)),
                        id=f"progress-{name}-sub",
                        className="progress-sub",
                        **{"data-template": t(unit, lang)},
                    ),
                    html.Span(fmt_percent(rate), id=f"progress-{name}", className="rate"),
                    html.Div(html.Div(id=f"progress-{name}-bar", className="progress-fill", style={"width": f"{min(1.0, rate or 0) * 100:.1f}%"}), className="progress-track"),
                ],
                className=f"progress-row progress-{name}",
            )
        )
    return panel(t("panel.progress", lang), rows, "progress")


def pipeline_panel(pipeline: Mapping[str, int | None], lang: str) -> html.Section:
    """The recruitment pipeline as a strip of stages, applicant to full member."""
    stages = [
        html.Div(
            [html.Span(t(f"pipeline.{s}", lang), className="label"), html.Span(fmt_count(pipeline.get(s), lang), id=f"pipeline-{s}", className="value")],
            className=f"stage stage-{i}",
        )
        for i, s in enumerate(PIPELINE_STAGES)
    ]
    return panel(t("panel.pipeline", lang), html.Div(stages, className="pipeline-strip"), "pipeline")


# Rows of the study-points leaderboard: what its panel holds at 22px (assets/live.js has the same).
LEADERBOARD_ROWS = 6


def leaderboard_panel(snap: Mapping[str, Any], lang: str) -> html.Section:
    rows = [(row["name"], f"{fmt_count(row['points'], lang)} {t('unit.points', lang)}") for row in snap.get("top_study", [])[:LEADERBOARD_ROWS]]
    return panel(t("panel.leaderboard", lang), ranked_list(rows, t("leaderboard.empty", lang), "leaderboard"), "leaderboard")


def alert_rows(snap: Mapping[str, Any], lang: str) -> list[html.Li]:
    breaks = snap.get("rule_breaks", {})
    counts = [
        ("few_members", breaks.get("few_members", 0)),
        ("no_secretary", breaks.get("no_secretary", 0)),
        ("no_meeting", breaks.get("no_meeting", 0)),
        ("transfers_overdue", snap.get("transfers", {}).get("overdue", 0)),
    ]
    return [
        html.Li([html.Span(t(f"alerts.{key}", lang), className="label"), html.Span(fmt_count(n, lang), className="value")], className="alert-rule")
        for key, n in counts
        if n
    ]


def alerts_panel(snap: Mapping[str, Any], lang: str) -> html.Section:
    rows = alert_rows(snap, lang)
    body = html.Ul(rows, className="alert-list alert-rules") if rows else html.Div(t("alerts.none", lang), className="empty")
    return panel(t("panel.alerts", lang), html.Div(body, id="alerts"), "alerts", "alerts-panel")


def feed_panel(lang: str) -> html.Section:
    return panel(
        t("panel.feed", lang),
        html.Ul(id="live-feed", className="feed", children=[html.Li(t("feed.waiting", lang), className="empty")]),
        "feed",
    )


def live_stores(ticket: str, lang: str) -> list[dcc.Store]:
    """Where frames land (``live``) and the page's signed scope (``live-meta``)."""
    return [
        dcc.Store(id="live"),
        dcc.Store(id="live-meta", data={"ticket": ticket, "lang": lang, "labels": client_labels(lang)}),
        dcc.Store(id="replay-control"),  # the replay bar's commands (assets/replay.js, callbacks/replay.py)
    ]


# Height of one line of the problems banner, and of its padding, border and margin (wall.css), in px of the canvas.
PROBLEM_LINE_PX, PROBLEMS_FRAME_PX = 23, 48


def problems_room(problems: Sequence[str]) -> dict[str, str] | None:
    """Room kept free under a focused item for the problems banner (``--problems-h``), so it covers no text."""
    return {"--problems-h": f"{PROBLEM_LINE_PX * len(problems) + PROBLEMS_FRAME_PX}px"} if problems else None


def problems_banner(problems: Sequence[str]) -> html.Div:
    """What was wrong with the page's address, on the screen; the wall runs on regardless."""
    return html.Div([html.Div(p, className="problem") for p in problems], id="wall-problems", className="wall-problems", hidden=not problems)


def kpi_row(snap: Mapping[str, Any], lang: str) -> html.Div:
    """The wall's eight tiles, then the rest of the KPI board's (shown only when the board has the focus)."""
    names = (*WALL_TILES, *(n for n in BOARD_TILES if n not in WALL_TILES))
    tiles = kpi_tiles(dict(snap), lang, names)
    for tile in tiles[len(WALL_TILES) :]:
        tile.className += " board-only"
    return html.Div(tiles, className="kpi-row", id="kpi-row")


def map_body(figure: dict[str, Any]) -> html.Div:
    """The wall's map panel: the map between two side columns that hold its legend, counter and notes.

    The panel is about 2.9 : 1 and China with its inset about 1.46 : 1, so a map
    laid over the whole panel left a wide empty band on each side with the
    legend over the land. assets/map.js moves the legend (left), the transfer
    counter and the no-data notes (right) and the event kinds (the title row,
    ``map-kinds-slot``) out of the plot into these places (docs/wall.md).
    """
    return html.Div(
        [
            html.Div(className="map-aside map-aside-left"),
            graph("map-graph", figure),
            html.Div(className="map-aside map-aside-right"),
            html.Div(className="map-kinds-slot"),
        ],
        className="map-wall",
    )


def wall_layout(
    snap: dict[str, Any], map_figure: dict[str, Any], topology_figure: dict[str, Any], lang: str, ticket: str, options: WallOptions
) -> html.Div:
    """The whole wall for one scope's snapshot; ``ticket`` is the scope, signed, for the live stream."""
    structure = snap.get("structure", {})
    controls = [playlist_controls(options.playlist, lang), lang_switch(options.lang_links, lang)] if options.lang_links else []
    return html.Div(
        id="wall-stage",
        children=html.Div(
            id="wall-canvas",
            className=f"wall lang-{lang} focus-wall",
            **{"data-playlist": json.dumps(options.playlist, ensure_ascii=False)},
            style=problems_room(options.problems),
            children=[
                title_bar(snap.get("name", ""), lang, controls),
                html.Div(className="rotation-progress", id="rotation-progress"),
                kpi_row(snap, lang),
                html.Div([structure_panel(structure, lang), background_panel(structure, lang)], className="wall-col col-left"),
                html.Div(
                    [
                        panel(t("panel.map", lang), map_body(map_figure), "map", "focusable"),
                        pipeline_panel(snap.get("pipeline", {}), lang),
                        html.Div([feed_panel(lang), alerts_panel(snap, lang)], className="wall-pair"),
                    ],
                    className="wall-col col-centre",
                ),
                html.Div(
                    [
                        panel(t("panel.topology", lang), graph("topology-graph", topology_figure), "topology", "focusable"),
                        progress_panel(snap, lang),
                        leaderboard_panel(snap, lang),
                    ],
                    className="wall-col col-right",
                ),
                spotlight(lang),
                problems_banner(options.problems),
                *live_stores(ticket, lang),
            ],
        ),
    )
