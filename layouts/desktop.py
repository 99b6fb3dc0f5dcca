"""The shell of the desktop pages (/login, /admin): Bootstrap 5 in its dark colour mode.

Bootstrap's stylesheet lives in ``assets/desktop/``, which app.py keeps out of
Dash's automatic loading so the wall never gets it; desktop pages link it
themselves.
"""

from __future__ import annotations

from typing import Any

from dash import dcc, html

STYLESHEETS = ("/assets/desktop/bootstrap.min.css", "/assets/desktop/desktop.css")


def no_stream() -> dcc.Store:
    """The ``live-meta`` of a page without a live stream: the stream callback reads it and stops (callbacks/live.py)."""
    return dcc.Store(id="live-meta", data={"stream": False})


def desktop_page(children: Any, page_id: str) -> html.Div:
    return html.Div(
        [*(html.Link(rel="stylesheet", href=href) for href in STYLESHEETS), html.Div(children, className="container-lg py-4"), no_stream()],
        id=page_id,
        className="desktop-page",
        **{"data-bs-theme": "dark"},
    )
