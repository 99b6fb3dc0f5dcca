"""The shell of the desktop pages (/login, /admin and every page under it): Bootstrap 5 in its dark colour
mode, in the product's colours, under the product's brand bar.

Bootstrap's stylesheet lives in ``assets/desktop/``, which app.py keeps out of
Dash's automatic loading so the wall never gets it; desktop pages link it
themselves, then ``desktop.css``, which puts Bootstrap's variables in the
wall's red, gold and navy. A page built with ``desktop_page`` gets both, and
the brand bar, with nothing of its own to add.
"""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from layouts.i18n import t

STYLESHEETS = ("/assets/desktop/bootstrap.min.css", "/assets/desktop/desktop.css")


def no_stream() -> dcc.Store:
    """The ``live-meta`` of a page without a live stream: the stream callback reads it and stops (callbacks/live.py)."""
    return dcc.Store(id="live-meta", data={"stream": False})


def brand_bar(lang: str) -> html.Header:
    """连心 and the product's name, as on the wall's title bar, with the way to the wall."""
    return html.Header(
        html.Div(
            [
                html.A([html.Span(t("desktop.brand", lang), className="brand-mark"), html.Span(t("desktop.product", lang), className="brand-name")],
                       href="/admin" + ("?lang=en" if lang == "en" else ""), className="brand"),
                html.A(t("desktop.wall", lang), href="/" + ("?lang=en" if lang == "en" else ""), className="brand-link"),
            ],
            className="container-lg brand-inner",
        ),
        className="brand-bar",
    )


def desktop_page(children: Any, page_id: str, lang: str = "zh") -> html.Div:
    return html.Div(
        [
            *(html.Link(rel="stylesheet", href=href) for href in STYLESHEETS),
            brand_bar(lang),
            html.Div(children, className="container-lg py-4"),
            no_stream(),
        ],
        id=page_id,
        className=f"desktop-page lang-{lang}",
        **{"data-bs-theme": "dark"},
    )
