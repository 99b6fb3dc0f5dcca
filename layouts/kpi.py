"""KPI tiles and the KPI board (``/kpi``): every number committees watch, each with its trend."""

from __future__ import annotations

from typing import Any

from dash import html

from layouts.components import kpi_tile
from layouts.i18n import fmt_count, fmt_percent, t
from layouts.theme import threshold_colour

# Rates and the thresholds at which they turn gold (warn) and green (good).
RATE_TILES: dict[str, tuple[float, float]] = {"three_meetings": (0.95, 0.8), "themed_day": (0.95, 0.8), "dues_rate": (0.9, 0.7)}
# Counts where more is worse: shown red when above zero.
ALARM_TILES = frozenset({"transfers_overdue", "lost_contact"})

BOARD_TILES: tuple[str, ...] = (
    "members",
    "full_members",
    "probationary",
    "organisations",
    "active_today",
    "active_15m",
    "events_today",
    "events_per_min",
    "study_points_today",
    "three_meetings",
    "themed_day",
    "dues_rate",
    "transfers_in_flight",
    "transfers_overdue",
    "lost_contact",
    "branches",
)


# Each tile's trend: the frame key of its series ("daily.<name>" is a series of the snapshot's ``daily``,
# docs/aggregates.md). A tile whose KPI is a state (members, organisations) shows the flow that moves it
# or the activity behind it; every series ends with the current, partly counted day or minute, drawn
# marked as partial (assets/live.js, drawTrend).
TILE_TRENDS: dict[str, str] = {
    "members": "daily.joined",
    "full_members": "daily.became_full",
    "probationary": "daily.joined",
    "organisations": "daily.active_orgs",
    "branches": "daily.active_branches",
    "active_today": "daily.active",
    "active_15m": "events_trend",
    "events_today": "events_daily",
    "events_per_min": "events_trend",
    "study_points_today": "daily.study_points",
    "three_meetings": "daily.meetings",
    "themed_day": "daily.themed_days",
    "dues_rate": "daily.dues",
    "transfers_in_flight": "daily.transfers",
    "transfers_overdue": "daily.transfers",
    "lost_contact": "daily.active",
}


def trend_of(name: str, lang: str) -> tuple[str, str]:
    """A tile's trend series and the words that say what it shows (the tile's title)."""
    series = TILE_TRENDS[name]
    return series, t(f"trend.{series.removeprefix('daily.')}", lang)


def kpi_values(snap: dict[str, Any]) -> dict[str, float | None]:
    """The tile values of a snapshot, flat by tile name (assets/live.js mirrors this for frames)."""
    meetings = snap.get("meetings", {})
    transfers = snap.get("transfers", {})
    return {
        "members": snap.get("members"),
        "full_members": snap.get("full_members"),
        "probationary": snap.get("probationary"),
        "organisations": snap.get("organisations"),
        "branches": snap.get("branches"),
        "active_today": snap.get("active_today"),
        "active_15m": snap.get("active_15m"),
        "events_today": snap.get("events_today"),
        "events_per_min": snap.get("events_per_min"),
        "study_points_today": snap.get("study_points_today"),
        "three_meetings": meetings.get("three_meetings_completion"),
        "themed_day": meetings.get("themed_day_completion"),
        "dues_rate": snap.get("dues_rate"),
        "transfers_in_flight": transfers.get("in_flight"),
        "transfers_overdue": transfers.get("overdue"),
        "lost_contact": snap.get("lost_contact"),
    }


def kpi_tiles(snap: dict[str, Any], lang: str, names: tuple[str, ...]) -> list[html.Div]:
    values = kpi_values(snap)
    tiles = []
    for name in names:
        value = values.get(name)
        if name in RATE_TILES:
            text, colour = fmt_percent(value), threshold_colour(value, *RATE_TILES[name])
        else:
            text = fmt_count(value, lang)
            colour = "#ff4d5e" if name in ALARM_TILES and value else None
        tiles.append(kpi_tile(name, t(f"kpi.{name}", lang), text, colour, value, trend_of(name, lang)))
    return tiles


def kpi_board(snap: dict[str, Any], lang: str, header: html.Header, stores: list[Any]) -> html.Div:
    """The KPI board page: a title bar and a 4×4 grid of large tiles, live from frames."""
    return html.Div(
        id="wall-stage",
        children=html.Div(
            id="wall-canvas",
            className=f"wall kpi-board lang-{lang}",
            children=[header, html.Div(kpi_tiles(snap, lang, BOARD_TILES), className="board-grid"), *stores],
        ),
    )
