"""/login: the sign-in form (it posts to /auth/login; no callback handles a password)."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from callbacks.context import ViewContext
from layouts.i18n import normalise_lang, t
from layouts.login import login_layout


def register(_view: ViewContext) -> None:
    def layout(lang: str | None = None, error: Any = None, next: Any = None, **_query: Any) -> html.Div:
        return login_layout(normalise_lang(lang), error == "1", next if isinstance(next, str) else "")

    dash.register_page("login", path="/login", layout=layout, title=t("login.title"))
