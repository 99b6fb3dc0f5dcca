"""The shell of the desktop pages (/login, /admin): Bootstrap 5 in its dark colour mode.

Bootstrap's stylesheet lives in ``assets/desktop/``, which app.py keeps out of
Dash's automatic loading so the wall never gets it; desktop pages link it
themselves.
"""

from __future__ import annotations

from typing import Any

from dash import html

STYLESHEETS = ("/assets/desktop/bootstrap.min.css", "/assets/desktop/desktop.css")


def desktop_page(children: Any, page_id: str) -> html.Div:
    return html.Div(
        [*(html.Link(rel="stylesheet", href=href) for href in STYLESHEETS), html.Div(children, className="container-lg py-4")],
        id=page_id,
        className="desktop-page",
        **{"data-bs-theme": "dark"},
    )
