"""The sign-in page (/login) and the page shown when a screen may not see what it asked for.

The form posts straight to ``POST /auth/login`` (dashboard.api.auth): no
script is involved in handling a password.
"""

from __future__ import annotations

from urllib.parse import quote

import dash_bootstrap_components as dbc
from dash import html

from layouts.desktop import desktop_page
from layouts.i18n import t


def login_layout(lang: str, failed: bool, next_path: str, notice: str | None = None) -> html.Div:
    """The sign-in form; ``notice`` (an i18n key) says why it is shown instead of the page asked for."""
    form = html.Form(
        action="/auth/login",
        method="post",
        children=[
            dbc.Label(t("login.username", lang), html_for="login-username"),
            dbc.Input(id="login-username", name="username", type="text", autoComplete="username", maxLength=64, required=True, className="mb-3"),
            dbc.Label(t("login.password", lang), html_for="login-password"),
            dbc.Input(id="login-password", name="password", type="password", autoComplete="current-password", maxLength=256, required=True, className="mb-3"),
            dbc.Input(type="hidden", name="next", value=next_path),
            dbc.Input(type="hidden", name="lang", value=lang),
            dbc.Button(t("login.submit", lang), id="login-submit", type="submit", color="danger", className="w-100"),
        ],
    )
    body = [
        html.H1(t("login.title", lang), className="h4 mb-4"),
        dbc.Alert(t("login.failed", lang), color="warning", id="login-error") if failed else None,
        dbc.Alert(t(notice, lang), color="secondary", id="access-refused") if notice else None,
        form,
    ]
    return desktop_page(dbc.Card(dbc.CardBody([b for b in body if b is not None]), className="login-card"), "login-page", lang)


def refusal_layout(code: str, lang: str, next_path: str) -> html.Div:
    """Why nothing is shown (token refused …), with the way to sign in; with no token or session, the sign-in form."""
    if code == "sign_in":
        return login_layout(lang, False, next_path, notice="access.sign_in")
    link = html.A(t("login.go", lang), href=f"/login?lang={lang}&next={quote(next_path, safe='')}", className="btn btn-outline-light")
    card = dbc.Card(
        dbc.CardBody([html.H1(t(f"access.{code}", lang), className="h5 mb-3", id="access-refused"), link]),
        className="login-card",
    )
    return desktop_page(card, "refusal-page", lang)
