"""/admin: the page and its callbacks. Every callback checks again that its caller is an administrator.

The check takes the session cookie (with the CSRF header dashboard.api.edge
demands) or the admin token the page was opened with; the audit log records
each action under that actor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash
from dash import Input, Output, State, callback, ctx, html

from callbacks.access import page_viewer
from callbacks.context import ViewContext
from dashboard.access.admin import AdminError, AdminOps
from dashboard.access.audit import AuditRow
from dashboard.access.viewer import ANONYMOUS, AccessRefused, Viewer
from layouts.admin import (
    AUDIT_COLUMNS,
    ORG_COLUMNS,
    TOKEN_COLUMNS,
    USER_COLUMNS,
    admin_layout,
    data_table,
    result,
    user_options,
)
from layouts.i18n import normalise_lang, t
from layouts.login import refusal_layout


def audit_rows(entries: list[AuditRow]) -> list[dict[str, Any]]:
    return [
        {"ts": e.ts.strftime("%Y-%m-%d %H:%M:%S"), "actor": e.actor, "action": e.action, "target": e.target,
         "outcome": e.outcome, "address": e.address}
        for e in entries
    ]


def _admin(view: ViewContext, token: Any) -> Viewer:
    """The caller if an administrator; else AccessRefused (sign in, or not for you)."""
    viewer = page_viewer(view, token=token, purpose="admin")
    if viewer.is_admin:
        return viewer
    if viewer.role == ANONYMOUS:
        raise AccessRefused(401, "sign_in", "sign in as an administrator")
    raise AccessRefused(403, "forbidden", "administrators only")


def _guarded(view: ViewContext, token: Any, lang: Any, action: Callable[[str, str], Any], failed: Callable[[Any], Any]) -> Any:
    """Run ``action(actor, lang)`` for an administrator; a refusal or a bad input becomes ``failed(alert)``."""
    lang = normalise_lang(lang)
    try:
        viewer = _admin(view, token)
    except AccessRefused as refused:
        return failed(result(t(f"access.{refused.code}", lang), ok=False))
    try:
        return action(viewer.actor, lang)
    except AdminError as exc:
        return failed(result(str(exc), ok=False))


def register(view: ViewContext) -> None:
    rt = view.runtime
    ops = AdminOps(rt.engine, rt.audit, rt.tree)

    def layout(lang: str | None = None, token: Any = None, **_query: Any) -> html.Div:
        lang = normalise_lang(lang)
        try:
            viewer = _admin(view, token)
        except AccessRefused as refused:
            return refusal_layout(refused.code, lang, "/admin")
        users = ops.users()
        return admin_layout(viewer.actor, lang, token if isinstance(token, str) else None, users, ops.tokens(),
                            ops.find_orgs(""), audit_rows(ops.audit()))

    dash.register_page("admin", path="/admin", layout=layout, title=t("admin.title"))

    @callback(
        Output("admin-user-result", "children"),
        Output("admin-users-table", "children"),
        Output("admin-user-pick", "options"),
        Input("admin-user-create", "n_clicks"),
        Input("admin-user-activate", "n_clicks"),
        Input("admin-user-deactivate", "n_clicks"),
        Input("admin-user-reset", "n_clicks"),
        State("admin-user-name", "value"),
        State("admin-user-role", "value"),
        State("admin-user-org", "value"),
        State("admin-user-level", "value"),
        State("admin-user-password", "value"),
        State("admin-user-pick", "value"),
        State("admin-token", "data"),
        State("admin-lang", "data"),
        prevent_initial_call=True,
    )
    def users_action(_c: Any, _a: Any, _d: Any, _r: Any, name: Any, role: Any, org: Any, level: Any, password: Any,
                     picked: Any, token: Any, lang: Any) -> tuple[Any, Any, Any]:
        def act(actor: str, lang: str) -> tuple[Any, Any, Any]:
            trigger = ctx.triggered_id
            if trigger == "admin-user-create":
                username, generated = ops.create_user(actor, username=name, role=role, org_code=org, level=level, password=password)
                alert = result(f"{t('admin.user_created', lang)}: {username}", True, generated, t("admin.password_once", lang))
            elif trigger == "admin-user-reset":
                alert = result(t("admin.done", lang), True, ops.reset_password(actor, picked), t("admin.password_once", lang))
            else:
                ops.set_user_active(actor, picked, trigger == "admin-user-activate")
                alert = result(t("admin.done", lang), True)
            users = ops.users()
            return alert, data_table(users, USER_COLUMNS, lang), user_options(users, lang)

        return _guarded(view, token, lang, act, lambda alert: (alert, dash.no_update, dash.no_update))

    @callback(
        Output("admin-token-result", "children"),
        Output("admin-tokens-table", "children"),
        Input("admin-token-create", "n_clicks"),
        Input("admin-token-revoke", "n_clicks"),
        State("admin-token-role", "value"),
        State("admin-token-org", "value"),
        State("admin-token-level", "value"),
        State("admin-token-label", "value"),
        State("admin-token-days", "value"),
        State("admin-token-revoke-id", "value"),
        State("admin-token", "data"),
        State("admin-lang", "data"),
        prevent_initial_call=True,
    )
    def tokens_action(_c: Any, _r: Any, role: Any, org: Any, level: Any, label: Any, days: Any, revoke_id: Any,
                      token: Any, lang: Any) -> tuple[Any, Any]:
        def act(actor: str, lang: str) -> tuple[Any, Any]:
            if ctx.triggered_id == "admin-token-create":
                made = ops.create_token(actor, role=role, org_code=org, level=level, label=label, days=days)
                wall = html.Div([t("admin.wall_url", lang), " ", html.Code(f"/?token={made}")], className="mt-2") if role == "display" else None
                alert = result(t("admin.done", lang), True, made, t("admin.token_once", lang), wall)
            else:
                ops.revoke_token(actor, revoke_id)
                alert = result(t("admin.done", lang), True)
            return alert, data_table(ops.tokens(), TOKEN_COLUMNS, lang)

        return _guarded(view, token, lang, act, lambda alert: (alert, dash.no_update))

    @callback(
        Output("admin-org-result", "children"),
        Output("admin-orgs-table", "children"),
        Input("admin-org-find", "n_clicks"),
        Input("admin-org-rename", "n_clicks"),
        State("admin-org-search", "value"),
        State("admin-org-code", "value"),
        State("admin-org-name", "value"),
        State("admin-token", "data"),
        State("admin-lang", "data"),
        prevent_initial_call=True,
    )
    def orgs_action(_f: Any, _r: Any, search: Any, code: Any, name: Any, token: Any, lang: Any) -> tuple[Any, Any]:
        def act(actor: str, lang: str) -> tuple[Any, Any]:
            alert = None
            if ctx.triggered_id == "admin-org-rename":
                ops.rename_org(actor, code, name)
                alert = result(t("admin.done", lang), True)
            return alert, data_table(ops.find_orgs(search), ORG_COLUMNS, lang)

        return _guarded(view, token, lang, act, lambda alert: (alert, dash.no_update))

    @callback(
        Output("admin-audit-result", "children"),
        Output("admin-audit-table", "children"),
        Input("admin-audit-refresh", "n_clicks"),
        State("admin-audit-search", "value"),
        State("admin-token", "data"),
        State("admin-lang", "data"),
        prevent_initial_call=True,
    )
    def audit_action(_r: Any, search: Any, token: Any, lang: Any) -> tuple[Any, Any]:
        def act(_actor: str, lang: str) -> tuple[Any, Any]:
            return None, data_table(audit_rows(ops.audit(search)), AUDIT_COLUMNS, lang)

        return _guarded(view, token, lang, act, lambda alert: (alert, dash.no_update))
