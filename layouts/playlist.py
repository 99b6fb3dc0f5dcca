"""The wall's rotation: its controls, its configuration for assets/playlist.js, and the unit spotlight.

The rotation runs in the browser: playlist.js reads ``playlist_config`` from
the canvas's ``data-playlist`` and moves the focus (a class on the canvas)
from item to item. The spotlight is the focus of an ``org:CODE`` item: the
unit's figures and its rank among its siblings, filled from the ``units``
frame section by assets/wall.js.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import html

from dashboard.wall.playlist import Playlist
from dashboard.wall.units import UNIT_FIELDS
from layouts.i18n import t

# The spotlight's figures: (unit field, label key).
SPOT_FIGURES: tuple[tuple[str, str], ...] = (
    ("members", "kpi.members"),
    ("active_today", "kpi.active_today"),
    ("events_today", "kpi.events_today"),
    ("study_points_today", "kpi.study_points_today"),
    ("three_meetings", "progress.three_meetings"),
    ("themed_day", "progress.themed_day"),
    ("dues_rate", "progress.dues"),
    ("branches", "kpi.branches"),
)
SPOT_ALERTS = ("few_members", "no_secretary", "no_meeting", "transfers_overdue")


def playlist_config(playlist: Playlist, units: Sequence[tuple[str, str]], lang: str, *, kiosk: bool) -> dict[str, Any]:
    """What playlist.js needs: the items, the unit names, kiosk or not, and the labels it shows."""
    return {
        "items": [{"kind": i.kind, "seconds": i.seconds, "code": i.code} for i in playlist.items],
        "units": dict(units),
        "fields": list(UNIT_FIELDS),
        "kiosk": kiosk,
        "lang": lang,
        "labels": {
            **{f"item.{k}": t(f"playlist.item.{k}", lang) for k in ("wall", "map", "topology", "kpi", "org")},
            "pause": t("playlist.pause", lang),
            "play": t("playlist.play", lang),
            "rank": t("spotlight.rank", lang),
            "rank_gap": t("spotlight.rank_gap", lang),
            "active_share": t("spotlight.active_share", lang),
        },
    }


def playlist_controls(config: dict[str, Any], lang: str) -> html.Div:
    """Previous, pause/resume (also the space bar), next, and what has the focus; hidden when nothing rotates."""
    rotating = len(config.get("items", ())) > 1
    return html.Div(
        [
            html.Button("‹", id="rotation-prev", className="rotation-btn", title=t("playlist.prev", lang)),
            html.Button("❚❚", id="rotation-toggle", className="rotation-btn", title=t("playlist.pause", lang)),
            html.Button("›", id="rotation-next", className="rotation-btn", title=t("playlist.next", lang)),
            html.Span(id="rotation-label", className="rotation-label"),
        ],
        id="rotation-controls",
        className="rotation-controls control",
        hidden=not rotating,
    )


def spotlight(lang: str) -> html.Section:
    """The focus on one top-level unit: its figures, its alerts and the ranking of all units by share active today."""
    figures = [
        html.Div([html.Span(t(label, lang), className="label"), html.Span("—", id=f"spot-{name}", className="value")], className="spot-figure")
        for name, label in SPOT_FIGURES
    ]
    alerts = [
        html.Li([html.Span(t(f"alerts.{name}", lang), className="label"), html.Span("—", id=f"spot-{name}", className="value")])
        for name in SPOT_ALERTS
    ]
    return html.Section(
        [
            html.Div(
                [
                    html.Span(t("playlist.item.org", lang), className="spot-kicker"),
                    html.H2(id="spotlight-name", className="spot-name"),
                    html.Span(id="spotlight-rank", className="spot-rank"),
                ],
                className="spot-head",
            ),
            html.Div(
                [
                    html.Div(
                        [html.Div(figures, className="spot-figures"), html.H3(t("panel.alerts", lang)), html.Ul(alerts, className="spot-alerts")],
                        className="spot-main",
                    ),
                    html.Div([html.H3(t("spotlight.ranking", lang)), html.Ol(id="spotlight-ranking", className="spot-ranking")], className="spot-side"),
                ],
                className="spot-body",
            ),
        ],
        id="spotlight",
        className="spotlight panel",
    )
