"""The wall page (``/``): renders the scope's live snapshot into layouts.wall."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from callbacks.context import ViewContext, page_scope, page_ticket, scoped_snapshot
from callbacks.map import scope_map_figure
from callbacks.topology import wall_topology_figure
from dashboard.map_data import DEFAULT_KPI
from layouts.i18n import normalise_lang, t
from layouts.wall import wall_layout


def wall_page(ctx: ViewContext, lang: str, org: str | None, query: dict[str, Any]) -> html.Div:
    """The wall of one subtree (``?org=CODE``, the whole tree by default)."""
    resolved = page_scope(ctx, org, query)
    if isinstance(resolved, str):
        return html.Div(t(resolved, lang) + (f": {org}" if org else ""), className="page-error")
    _, scope = resolved
    snap = scoped_snapshot(ctx, scope)
    map_fig = scope_map_figure(ctx, scope, snap, DEFAULT_KPI, lang, drill=False)
    ticket = page_ticket(ctx, scope, query)
    return wall_layout(snap, map_fig, wall_topology_figure(ctx, scope, lang), lang, ticket)


def register(ctx: ViewContext) -> None:
    def layout(lang: str | None = None, org: str | None = None, **query: Any) -> html.Div:
        return wall_page(ctx, normalise_lang(lang), org, query)

    dash.register_page("wall", path="/", layout=layout, title=t("app.title"))
