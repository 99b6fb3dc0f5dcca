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
        tiles.append(kpi_tile(name, t(f"kpi.{name}", lang), text, colour, value))
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
