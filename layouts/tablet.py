"""Tablet pages (``/org/CODE``): one organisation for a leader's touch screen.

Its KPIs with their trend, what needs attention, its sub-organisations as
cards (each with its own sub-organisations as chips, so any branch is at most
three taps from the top), a comparison with its siblings and, at the full
level, its members. Every link is a real address, so the browser's back
gesture works; every target is at least 44 px (assets/tablet.css). The KPI
tiles, alerts, trend and cards are updated by frames (assets/live.js,
assets/tablet.js); the comparison and the members are as of the page's load.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.wall.units import UNIT_FIELDS
from layouts.components import graph
from layouts.i18n import fmt_count, fmt_date, fmt_percent, t
from layouts.kpi import kpi_tiles
from layouts.theme import GOLD, MUTED, figure_layout
from layouts.wall import conn_badge, lang_switch, live_stores

BOOTSTRAP = "/assets/desktop/bootstrap.min.css"
TABLET_TILES: tuple[str, ...] = (
    "members",
    "active_today",
    "events_today",
    "study_points_today",
    "three_meetings",
    "themed_day",
    "dues_rate",
    "transfers_in_flight",
    "lost_contact",
)
TREND_H = 220
UnitRow = Sequence[float | int | None]


@dataclass(frozen=True)
class OrgLink:
    code: str
    name: str
    kind: str
    href: str


@dataclass(frozen=True)
class ChildCard:
    org: OrgLink
    row: UnitRow
    grandchildren: Sequence[OrgLink] = ()


@dataclass(frozen=True)
class TabletPage:
    """Everything one tablet page shows, prepared by callbacks/tablet.py."""

    org: OrgLink
    snap: dict[str, Any]
    lang: str
    ticket: str
    trail: Sequence[OrgLink]  # from the top of what the viewer may see down to the parent
    children: Sequence[ChildCard]
    siblings: Sequence[tuple[OrgLink, UnitRow]] = ()  # the organisation itself among them; empty: none or not visible
    members: Mapping[str, Any] | None = None  # members_of() page, full level only
    member_pages: tuple[str | None, str | None] = (None, None)  # previous / next page addresses
    lang_links: Mapping[str, str] = field(default_factory=dict)
    wall_href: str = "/"
    problems: Sequence[str] = ()
    search_meta: Mapping[str, Any] = field(default_factory=dict)  # the viewer's signed scope and the links' query


def _field(row: UnitRow, name: str) -> float | int | None:
    return row[UNIT_FIELDS.index(name)] if row else None


def active_share(row: UnitRow) -> float | None:
    members, active = _field(row, "members"), _field(row, "active_today")
    return active / members if isinstance(members, int) and members > 0 and isinstance(active, int) else None


def attention(row: UnitRow) -> int:
    """Branches breaking a rule (few members, no secretary) and overdue transfers: what a leader should look at."""
    return sum(int(_field(row, f) or 0) for f in ("few_members", "no_secretary", "transfers_overdue"))


def kind_label(kind: str, lang: str) -> str:
    return t(f"topo.kind.{kind}", lang)


def navbar(page: TabletPage) -> dbc.Navbar:
    lang = page.lang
    crumbs = [html.A(o.name, href=o.href, className="crumb") for o in page.trail]
    return dbc.Navbar(
        dbc.Container(
            [
                html.Nav([*crumbs, html.Span(page.org.name, className="crumb current")], className="tablet-crumbs", **{"aria-label": "breadcrumb"}),
                html.Div(
                    [
                        html.A(t("tablet.wall", page.lang), href=page.wall_href, className="tablet-btn"),
                        lang_switch(page.lang_links, lang),
                        conn_badge(lang),
                    ],
                    className="tablet-tools",
                ),
            ],
            fluid=True,
            className="tablet-bar",
        ),
        color="dark",
        dark=True,
        className="tablet-navbar",
    )


def trend_figure(counts: Sequence[int], lang: str, unit: str = "unit.minutes") -> dict[str, Any]:
    """Activities per minute (last hour) or per day (last 30 days) as bars; frames replace ``y`` (assets/tablet.js).

    The last count is the current minute or day, still being counted: it is left out, so the
    right edge is never a drop. Bars, not a smoothed line: small counts stay whole numbers.
    """
    whole = list(counts)[:-1]
    return {
        "data": [
            {
                "type": "bar",
                "x": list(range(-len(whole), 0)),
                "y": whole,
                "marker": {"color": GOLD},
                "hovertemplate": "%{y:,}<extra></extra>",
            }
        ],
        "layout": figure_layout(
            height=TREND_H,
            margin={"l": 56, "r": 12, "t": 8, "b": 36},
            bargap=0.15,
            xaxis={"ticksuffix": " " + t(unit, lang), "tickfont": {"size": 13, "color": MUTED}, "zeroline": False, "gridcolor": "#1d2946"},
            yaxis={"tickfont": {"size": 13, "color": MUTED}, "rangemode": "tozero", "gridcolor": "#1d2946", "tickformat": ",d"},
        ),
    }


def unit_figures(code: str, row: UnitRow, lang: str) -> html.Div:
    """A card's live figures; assets/tablet.js finds them by data-unit and data-field."""
    share = active_share(row)
    figures = [
        ("members", t("kpi.members", lang), fmt_count(_field(row, "members"), lang)),
        ("active_share", t("spotlight.active_share", lang), fmt_percent(share)),
        ("three_meetings", t("progress.three_meetings", lang), fmt_percent(_field(row, "three_meetings"))),
        ("dues_rate", t("progress.dues", lang), fmt_percent(_field(row, "dues_rate"))),
    ]
    return html.Div(
        [html.Div([html.Span(label, className="label"), html.Span(value, className="value", **{"data-field": name})], className="figure") for name, label, value in figures],
        className="unit-figures",
        **{"data-unit": code},
    )


def child_card(card: ChildCard, lang: str) -> html.Div:
    need = attention(card.row)
    badge = html.Span(t("tablet.attention", lang).format(n=fmt_count(need, lang)), className="attention") if need else None
    chips = html.Div([html.A(g.name, href=g.href, className="chip") for g in card.grandchildren], className="chips") if card.grandchildren else None
    return html.Div(
        [
            html.A(
                [
                    html.Div([html.Span(card.org.name, className="name"), html.Span(kind_label(card.org.kind, lang), className="kind"), badge], className="card-head"),
                    unit_figures(card.org.code, card.row, lang),
                ],
                href=card.org.href,
                className="card-link",
            ),
            chips,
        ],
        className="tablet-card",
    )


def siblings_table(page: TabletPage) -> html.Section | None:
    if not page.siblings:
        return None
    lang = page.lang
    ranked = sorted(page.siblings, key=lambda s: -(active_share(s[1]) or -1.0))
    top = max((active_share(r) or 0.0 for _, r in ranked), default=0.0) or 1.0
    header = html.Thead(html.Tr([html.Th(t(f"tablet.col.{c}", lang)) for c in ("name", "members", "active", "meetings", "dues")]))
    rows = []
    for org, row in ranked:
        share = active_share(row)
        rows.append(
            html.Tr(
                [
                    html.Td(html.A(org.name, href=org.href, className="row-link")),
                    html.Td(fmt_count(_field(row, "members"), lang), className="num"),
                    html.Td([html.Span(fmt_percent(share), className="num"), html.Div(html.Div(className="fill", style={"width": f"{(share or 0) / top * 100:.0f}%"}), className="bar")]),
                    html.Td(fmt_percent(_field(row, "three_meetings")), className="num"),
                    html.Td(fmt_percent(_field(row, "dues_rate")), className="num"),
                ],
                className="current" if org.code == page.org.code else None,
            )
        )
    return html.Section(
        [html.H2(t("tablet.siblings", lang)), dbc.Table([header, html.Tbody(rows)], className="tablet-table", borderless=True)],
        className="tablet-section",
        id="tablet-siblings",
    )


def members_section(page: TabletPage) -> html.Section | None:
    if page.members is None:
        return None
    lang, data = page.lang, page.members
    columns = ("name", "code", "stage", "post", "gender", "education", "join_date")
    header = html.Thead(html.Tr([html.Th(t(f"tablet.member.{c}", lang)) for c in columns]))

    def cell(m: Mapping[str, Any], c: str) -> str:
        value = m.get(c)
        if value is None:
            return ""
        if c == "join_date":
            return fmt_date(value, lang)
        prefix = {"stage": "pipeline", "post": "post", "gender": "gender", "education": "education"}.get(c)
        return t(f"{prefix}.{value}", lang) if prefix else str(value)

    body = html.Tbody([html.Tr([html.Td(cell(m, c)) for c in columns]) for m in data["members"]])
    shown_from = data["offset"] + 1 if data["members"] else 0
    summary = t("tablet.members_count", lang).format(n=fmt_count(data["total"], lang), first=shown_from, last=data["offset"] + len(data["members"]))
    previous, following = page.member_pages
    pager = html.Div(
        [
            html.A("‹ " + t("tablet.prev", lang), href=previous, className="tablet-btn") if previous else None,
            html.Span(summary, className="pager-summary"),
            html.A(t("tablet.next", lang) + " ›", href=following, className="tablet-btn") if following else None,
        ],
        className="pager",
    )
    return html.Section(
        [html.H2(t("tablet.members", lang)), html.P(t("tablet.members_note", lang), className="section-note"), pager, html.Div(dbc.Table([header, body], className="tablet-table members", borderless=True), className="table-scroll")],
        className="tablet-section",
        id="tablet-members",
    )


def search_box(page: TabletPage) -> html.Div:
    """Any organisation the viewer may see, by name or code, one tap away (callbacks/tablet.py answers)."""
    return html.Div(
        [
            dcc.Input(id="tablet-search", type="search", placeholder=t("tablet.search", page.lang), debounce=False, autoComplete="off",
                      className="tablet-search-input"),
            html.Div(id="tablet-search-results", className="tablet-search-results", role="listbox"),
            dcc.Store(id="tablet-search-meta", data=dict(page.search_meta)),
        ],
        className="tablet-search",
    )


def search_results(found: Sequence[tuple[OrgLink, str]], query: str, lang: str) -> list[Any]:
    """The matches, best first, each a link with its parent's name to tell namesakes apart."""
    if not query.strip():
        return []
    if not found:
        return [html.Div(t("tablet.search_none", lang).format(q=query.strip()), className="search-none")]
    return [
        html.A([html.Span(org.name, className="name"), html.Small(parent, className="parent"), html.Span(kind_label(org.kind, lang), className="kind")],
               href=org.href, className="search-hit", title=org.code)
        for org, parent in found
    ]


def tablet_page(page: TabletPage) -> html.Div:
    lang, snap = page.lang, page.snap
    problems = [dbc.Alert(p, color="warning", className="tablet-problem") for p in page.problems]
    children = (
        html.Div([child_card(c, lang) for c in page.children], className="card-grid", id="tablet-children", **{"data-fields": ",".join(UNIT_FIELDS)})
        if page.children
        else html.Div(t("tablet.no_children", lang), className="empty")
    )
    return html.Div(
        [
            html.Link(rel="stylesheet", href=BOOTSTRAP),
            navbar(page),
            dbc.Container(
                [
                    *problems,
                    html.Div(
                        [html.H1(page.org.name, className="org-title"), html.Span(kind_label(page.org.kind, lang), className="kind"), search_box(page)],
                        className="tablet-head",
                    ),
                    html.Div(kpi_tiles(snap, lang, TABLET_TILES), className="tablet-kpis"),
                    html.Div(
                        [
                            html.Div(
                                [
                                    html.Section([html.H2(t("tablet.trend", lang)), graph("tablet-trend", trend_figure(snap.get("events_trend", []), lang), TREND_H)], className="tablet-section trend"),
                                    html.Section([html.H2(t("tablet.trend_days", lang)), graph("tablet-trend-days", trend_figure(snap.get("events_daily", []), lang, "unit.days"), TREND_H)], className="tablet-section trend"),
                                ],
                                className="tablet-trends",
                            ),
                            html.Section([html.H2(t("panel.alerts", lang)), html.Div(html.Div(t("alerts.none", lang), className="empty"), id="alerts")], className="tablet-section alerts"),
                        ],
                        className="tablet-pair",
                    ),
                    html.Section([html.H2(t("tablet.children", lang) + f" · {len(page.children)}"), children], className="tablet-section"),
                    siblings_table(page),
                    members_section(page),
                ],
                fluid=True,
                className="tablet-body",
            ),
            *live_stores(page.ticket, lang),
        ],
        className=f"page tablet lang-{lang}",
        **{"data-bs-theme": "dark"},
    )


def tablet_error(message: str, top_href: str, lang: str) -> html.Div:
    """An organisation that does not exist (or is not visible): say so, and offer the way back to the top."""
    return html.Div(
        [
            html.Link(rel="stylesheet", href=BOOTSTRAP),
            dbc.Container(
                [dbc.Alert(message, color="warning", className="tablet-problem", id="tablet-error"), html.A(t("tablet.back_top", lang), href=top_href, className="tablet-btn")],
                className="tablet-body",
            ),
        ],
        className=f"page tablet lang-{lang}",
        **{"data-bs-theme": "dark"},
    )
