"""The KPI board (``/kpi``): every KPI of the scope as a large live tile with its trend."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from callbacks.context import ViewContext, page_scope, page_ticket, scoped_snapshot
from layouts.i18n import normalise_lang, t
from layouts.kpi import kpi_board
from layouts.wall import live_stores, title_bar


def kpi_page(ctx: ViewContext, lang: str, org: str | None, query: dict[str, Any]) -> html.Div:
    resolved = page_scope(ctx, org, query)
    if isinstance(resolved, str):
        return html.Div(t(resolved, lang) + (f": {org}" if org else ""), className="page-error")
    node, scope = resolved
    snap = scoped_snapshot(ctx, scope)
    ticket = page_ticket(ctx, scope, query)
    return kpi_board(snap, lang, title_bar(snap.get("name", ""), lang), live_stores(ticket, lang))


def register(ctx: ViewContext) -> None:
    def layout(lang: str | None = None, org: str | None = None, **query: Any) -> html.Div:
        return kpi_page(ctx, normalise_lang(lang), org, query)

    dash.register_page("kpi", path="/kpi", layout=layout, title=t("app.title"))
