"""The wall (大屏): a 1920×1080 composition scaled to fill the screen (assets/scale.js).

``wall_layout`` renders what it is handed — the scope's snapshot and the map's
figure — and nothing else; the live frames (issue: live screens) update the
same element ids in place.
"""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from layouts.charts import donut, funnel, hbar
from layouts.components import graph, kpi_tile, panel, ranked_list
from layouts.i18n import client_labels, fmt_count, fmt_percent, t
from layouts.theme import RED, SERIES, threshold_colour

KPI_TILES: tuple[str, ...] = (
    "members",
    "organisations",
    "active_today",
    "events_today",
    "events_per_min",
    "study_points_today",
    "three_meetings",
    "dues_rate",
)


def kpi_values(snap: dict[str, Any]) -> dict[str, float | None]:
    """The tile values of a snapshot, flat by tile name."""
    meetings = snap.get("meetings", {})
    return {
        "members": snap.get("members"),
        "organisations": snap.get("organisations"),
        "active_today": snap.get("active_today"),
        "events_today": snap.get("events_today"),
        "events_per_min": snap.get("events_per_min"),
        "study_points_today": snap.get("study_points_today"),
        "three_meetings": meetings.get("three_meetings_completion"),
        "themed_day": meetings.get("themed_day_completion"),
        "dues_rate": snap.get("dues_rate"),
    }


# Chart heights in px of the 1920×1080 design canvas.
DONUT_H, AGE_H, EDUCATION_H, OCCUPATION_H = 120, 176, 150, 226

RATE_TILES = {"three_meetings": (0.95, 0.8), "themed_day": (0.95, 0.8), "dues_rate": (0.9, 0.7)}


def kpi_tiles(snap: dict[str, Any], lang: str, names: tuple[str, ...] = KPI_TILES) -> list[html.Div]:
    values = kpi_values(snap)
    tiles = []
    for name in names:
        value = values.get(name)
        if name in RATE_TILES:
            text, colour = fmt_percent(value), threshold_colour(value, *RATE_TILES[name])
        else:
            text, colour = fmt_count(value, lang), None
        tiles.append(kpi_tile(name, t(f"kpi.{name}", lang), text, colour, value))
    return tiles


def title_bar(org_name: str, lang: str) -> html.Header:
    return html.Header(
        className="title-bar",
        children=[
            html.Div([html.Span("连心", className="logo"), html.Span(org_name, className="org-name")], className="title-left"),
            html.H1(t("app.subtitle", lang), className="title-centre"),
            html.Div(
                [
                    html.Span(id="clock", className="clock"),
                    html.Span(t("conn.static", lang), id="conn-state", className="conn-state static", **{"data-lag-ms": ""}),
                ],
                className="title-right",
            ),
        ],
    )


def structure_panel(snap: dict[str, Any], lang: str) -> html.Section:
    structure = snap.get("structure", {})
    return panel(
        t("panel.structure", lang),
        [
            html.Div(
                [
                    html.Div([html.H3(t("panel.gender", lang)), graph("chart-gender", donut(structure.get("gender", {}), "gender", lang, DONUT_H), DONUT_H)], className="chart-cell"),
                    html.Div([html.H3(t("panel.ethnicity", lang)), graph("chart-ethnicity", donut(structure.get("ethnicity", {}), "ethnicity", lang, DONUT_H), DONUT_H)], className="chart-cell"),
                    html.Div([html.H3(t("panel.status", lang)), graph("chart-status", donut(structure.get("status", {}), "status", lang, DONUT_H), DONUT_H)], className="chart-cell"),
                ],
                className="donut-row",
            ),
            html.H3(t("panel.age", lang)),
            graph("chart-age", hbar(structure.get("age_band", {}), "", lang, AGE_H, SERIES[0]), AGE_H),
            html.H3(t("panel.education", lang)),
            graph("chart-education", hbar(structure.get("education", {}), "education", lang, EDUCATION_H, SERIES[2]), EDUCATION_H),
        ],
        "structure",
    )


def occupation_panel(snap: dict[str, Any], lang: str) -> html.Section:
    structure = snap.get("structure", {})
    return panel(
        t("panel.occupation", lang),
        graph("chart-occupation", hbar(structure.get("occupation", {}), "occupation", lang, OCCUPATION_H, RED), OCCUPATION_H),
        "occupation",
    )


def leaderboard_panel(snap: dict[str, Any], lang: str) -> html.Section:
    rows = [(row["name"], f"{fmt_count(row['points'], lang)} {t('unit.points', lang)}") for row in snap.get("top_study", [])[:8]]
    return panel(t("panel.leaderboard", lang), ranked_list(rows, t("leaderboard.empty", lang), "leaderboard"), "leaderboard")


def pipeline_panel(snap: dict[str, Any], lang: str) -> html.Section:
    return panel(t("panel.pipeline", lang), graph("chart-pipeline", funnel(snap.get("pipeline", {}), lang)), "pipeline")


def alert_rows(snap: dict[str, Any], lang: str) -> list[html.Li]:
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


def alerts_panel(snap: dict[str, Any], lang: str) -> html.Section:
    rows = alert_rows(snap, lang)
    body = html.Ul(rows, className="alert-list") if rows else html.Div(t("alerts.none", lang), className="empty")
    return panel(t("panel.alerts", lang), html.Div(body, id="alerts"), "alerts", "alerts-panel")


def feed_panel(lang: str) -> html.Section:
    return panel(
        t("panel.feed", lang),
        html.Ul(id="live-feed", className="feed", children=[html.Li(t("feed.waiting", lang), className="empty")]),
        "feed",
    )


def live_stores(ticket: str, lang: str) -> list[dcc.Store]:
    """Where frames land (``live``), the page's answer to each (``live-ack``), and its signed scope."""
    return [
        dcc.Store(id="live"),
        dcc.Store(id="live-ack", data=0),
        dcc.Store(id="live-meta", data={"ticket": ticket, "lang": lang, "labels": client_labels(lang)}),
    ]


def wall_layout(snap: dict[str, Any], map_figure: dict[str, Any], topology_figure: dict[str, Any], lang: str, ticket: str) -> html.Div:
    """The whole wall for one scope's snapshot; ``ticket`` is the scope, signed, for the live stream."""
    return html.Div(
        id="wall-stage",
        children=html.Div(
            id="wall-canvas",
            className=f"wall lang-{lang}",
            children=[
                title_bar(snap.get("name", ""), lang),
                html.Div(kpi_tiles(snap, lang), className="kpi-row"),
                structure_panel(snap, lang),
                panel(t("panel.map", lang), graph("map-graph", map_figure), "map"),
                panel(t("panel.topology", lang), graph("topology-graph", topology_figure), "topology"),
                occupation_panel(snap, lang),
                leaderboard_panel(snap, lang),
                pipeline_panel(snap, lang),
                feed_panel(lang),
                alerts_panel(snap, lang),
                *live_stores(ticket, lang),
            ],
        ),
    )
