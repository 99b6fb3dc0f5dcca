"""/admin: users, tokens, organisation names and the audit log (desktop, Bootstrap).

Pure functions of the data they are handed; callbacks/admin.py fetches the
data (dashboard.access.admin) and checks, on every request, that the caller is
an administrator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts.desktop import desktop_page
from layouts.i18n import t

USER_COLUMNS = ("id", "username", "role", "org", "level", "active", "created", "last_login")
TOKEN_COLUMNS = ("id", "role", "org", "level", "label", "created", "expires", "revoked")
ORG_COLUMNS = ("code", "name", "kind", "level", "parent")
AUDIT_COLUMNS = ("ts", "actor", "action", "target", "outcome", "address")

USER_ROLES = ("leader", "staff", "admin")
TOKEN_ROLES = ("display", "ingest", "admin")
LEVELS = ("public", "full")


def data_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], lang: str) -> dbc.Table:
    """A plain table; every value is rendered as text (never as markup), coded values in the page's language."""
    head = html.Thead(html.Tr([html.Th(t(f"admin.col.{c}", lang)) for c in columns]))
    body = html.Tbody([
        html.Tr([html.Td(shown(c, row.get(c), lang), title=_cell(row.get(c)) if c in CODED else None) for c in columns],
                className="audit-refused" if row.get("outcome") == "refused" else None)
        for row in rows
    ])
    return dbc.Table([head, body], size="sm", striped=True, hover=True, className="mb-0 admin-table")


def table_box(rows: Sequence[dict[str, Any]], columns: Sequence[str], lang: str, table_id: str) -> html.Div:
    """Where a table lives on the page; callbacks replace its children with a fresh ``data_table``."""
    return html.Div(data_table(rows, columns, lang), id=table_id, className="table-wrap")


CODED = ("role", "level", "kind", "outcome", "action", "actor", "target", "org")


def who(actor: str, lang: str) -> str:
    """An audit actor (``user:NAME``, ``token:ID``, ``address:IP``, ``session``, ``env-ROLE-token``) in words."""
    kind, _, rest = actor.partition(":")
    if rest and kind in ("user", "token", "address"):
        return t(f"admin.actor.{kind}", lang).format(x=rest)
    if actor == "session":
        return t("admin.actor.session", lang)
    if actor.startswith("env-") and actor.endswith("-token"):
        return t("admin.actor.env", lang).format(role=shown("role", actor[4:-6], lang))
    return actor


def action_words(action: str, lang: str) -> str:
    """An audit action in words; ``login.rate_limited.REASON`` keeps its reason, an unknown action shows as stored."""
    if action.startswith("login.rate_limited."):
        return t("admin.action.login.rate_limited", lang).format(reason=action.removeprefix("login.rate_limited."))
    words = t(f"admin.action.{action}", lang)
    return action if words == f"admin.action.{action}" else words


PURPOSES = ("page", "read", "admin", "admin import")
PURPOSE_PREFIXES = ("api ", "ingest ")


def purpose_words(target: str, lang: str) -> str:
    """What a token was used for (the target of ``token.use``): a page, the API or ingest, with its address."""
    if target in PURPOSES:
        return t(f"admin.purpose.{target}", lang)
    for prefix in PURPOSE_PREFIXES:
        if target.startswith(prefix):
            return t(f"admin.purpose.{prefix.strip()}", lang).format(x=target.removeprefix(prefix))
    return target


def shown(column: str, value: Any, lang: str) -> str:
    """A cell as a person reads it: roles, levels, kinds, outcomes, actions and actors translated."""
    text = _cell(value)
    if not text or column not in CODED:
        return text
    if column == "action":
        return action_words(text, lang)
    if column == "actor":
        return who(text, lang)
    if column == "target":
        return purpose_words(text, lang) if who(text, lang) == text else who(text, lang)
    if column == "org" and text == "*":
        return t("admin.value.all", lang)
    if column == "org":
        return text
    key = {"role": "admin.value.role.", "level": "admin.value.level.", "kind": "topo.kind.", "outcome": "admin.value.outcome."}[column] + text
    words = t(key, lang)
    return text if words == key else words


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "✓" if value else ""
    return "" if value is None else str(value)


def _field(label: str, control: Any) -> dbc.Col:
    return dbc.Col([dbc.Label(label, className="small mb-1"), control], md=True)


def _select(control_id: str, values: Sequence[str], value: str, column: str, lang: str) -> dbc.Select:
    return dbc.Select(id=control_id, options=[{"label": shown(column, v, lang), "value": v} for v in values], value=value)


def _input(control_id: str, max_length: int, kind: str = "text") -> dbc.Input:
    # maxLength is a convenience only: the server checks every length again.
    return dbc.Input(id=control_id, type=kind, maxLength=max_length, debounce=False)


def user_options(users: Sequence[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    return [
        {"label": f"{u['username']} ({shown('role', u['role'], lang)}{'' if u['active'] else ', ' + t('admin.value.inactive', lang)})", "value": str(u["id"])}
        for u in users
    ]


def users_tab(users: Sequence[dict[str, Any]], lang: str) -> html.Div:
    create = dbc.Row([
        _field(t("admin.username", lang), _input("admin-user-name", 64)),
        _field(t("admin.role", lang), _select("admin-user-role", USER_ROLES, "leader", "role", lang)),
        _field(t("admin.org", lang), _input("admin-user-org", 64)),
        _field(t("admin.level", lang), _select("admin-user-level", ("full", "public"), "full", "level", lang)),
        _field(t("admin.password_optional", lang), _input("admin-user-password", 256, "password")),
        dbc.Col(dbc.Button(t("admin.create", lang), id="admin-user-create", color="primary", className="mt-4"), md="auto"),
    ], className="g-2 mb-3")
    manage = dbc.Row([
        _field(t("admin.pick_user", lang), dbc.Select(id="admin-user-pick", options=user_options(users, lang))),
        dbc.Col(dbc.ButtonGroup([
            dbc.Button(t("admin.activate", lang), id="admin-user-activate", color="secondary"),
            dbc.Button(t("admin.deactivate", lang), id="admin-user-deactivate", color="secondary"),
            dbc.Button(t("admin.reset_password", lang), id="admin-user-reset", color="warning"),
        ], className="mt-4"), md="auto"),
    ], className="g-2 mb-3")
    return html.Div([create, manage, html.Div(id="admin-user-result"), table_box(users, USER_COLUMNS, lang, "admin-users-table")], className="pt-3")


def tokens_tab(tokens: Sequence[dict[str, Any]], lang: str) -> html.Div:
    create = dbc.Row([
        _field(t("admin.role", lang), _select("admin-token-role", TOKEN_ROLES, "display", "role", lang)),
        _field(t("admin.org", lang), _input("admin-token-org", 64)),
        _field(t("admin.level", lang), _select("admin-token-level", LEVELS, "public", "level", lang)),
        _field(t("admin.label", lang), _input("admin-token-label", 200)),
        _field(t("admin.days", lang), _input("admin-token-days", 5)),
        dbc.Col(dbc.Button(t("admin.create", lang), id="admin-token-create", color="primary", className="mt-4"), md="auto"),
    ], className="g-2 mb-3")
    revoke = dbc.Row([
        _field(t("admin.token_id", lang), _input("admin-token-revoke-id", 12)),
        dbc.Col(dbc.Button(t("admin.revoke", lang), id="admin-token-revoke", color="danger", className="mt-4"), md="auto"),
    ], className="g-2 mb-3")
    return html.Div([create, revoke, html.Div(id="admin-token-result"), table_box(tokens, TOKEN_COLUMNS, lang, "admin-tokens-table")], className="pt-3")


def orgs_tab(orgs: Sequence[dict[str, Any]], lang: str) -> html.Div:
    search = dbc.Row([
        _field(t("admin.search", lang), _input("admin-org-search", 100)),
        dbc.Col(dbc.Button(t("admin.find", lang), id="admin-org-find", color="secondary", className="mt-4"), md="auto"),
    ], className="g-2 mb-3")
    rename = dbc.Row([
        _field(t("admin.col.code", lang), _input("admin-org-code", 64)),
        _field(t("admin.new_name", lang), _input("admin-org-name", 200)),
        dbc.Col(dbc.Button(t("admin.rename", lang), id="admin-org-rename", color="primary", className="mt-4"), md="auto"),
    ], className="g-2 mb-3")
    return html.Div([search, rename, html.Div(id="admin-org-result"), table_box(orgs, ORG_COLUMNS, lang, "admin-orgs-table")], className="pt-3")


def audit_tab(entries: Sequence[dict[str, Any]], lang: str) -> html.Div:
    search = dbc.Row([
        _field(t("admin.search", lang), _input("admin-audit-search", 100)),
        dbc.Col(dbc.Button(t("admin.refresh", lang), id="admin-audit-refresh", color="secondary", className="mt-4"), md="auto"),
    ], className="g-2 mb-3")
    return html.Div([search, html.Div(id="admin-audit-result"), table_box(entries, AUDIT_COLUMNS, lang, "admin-audit-table")], className="pt-3")


def result(message: str, ok: bool, secret: str | None = None, secret_label: str | None = None, extra: Any = None) -> dbc.Alert:
    """What an action did; a secret (a new password or token) is shown once, selectable, and never again."""
    children: list[Any] = [html.Div(message)]
    if secret is not None:
        children += [html.Div(secret_label or "", className="mt-2"), html.Div(secret, className="secret-once", id="admin-secret")]
    if extra is not None:
        children.append(extra)
    return dbc.Alert(children, color="success" if ok else "danger", className="py-2")


def admin_layout(
    actor: str,
    lang: str,
    token: str | None,
    users: Sequence[dict[str, Any]],
    tokens: Sequence[dict[str, Any]],
    orgs: Sequence[dict[str, Any]],
    entries: Sequence[dict[str, Any]],
) -> html.Div:
    header = dbc.Row([
        dbc.Col(html.H1(t("admin.title", lang), className="h3"), md=True),
        dbc.Col([
            html.A(t("import.title", lang), id="admin-import-link", className="btn btn-sm btn-outline-info me-3",
                   href="/admin/import" + (f"?token={token}&lang={lang}" if token else f"?lang={lang}")),
            html.Span(f"{t('login.signed_in_as', lang)}: {who(actor, lang)}", className="me-3 small", id="admin-who"),
            html.Form(dbc.Button(t("login.logout", lang), type="submit", size="sm", color="outline-light"),
                      action="/auth/logout", method="post", className="d-inline"),
        ], md="auto", className="text-end"),
    ], className="mb-3 align-items-center")
    tabs = dbc.Tabs([
        dbc.Tab(users_tab(users, lang), label=t("admin.tab.users", lang), tab_id="users"),
        dbc.Tab(tokens_tab(tokens, lang), label=t("admin.tab.tokens", lang), tab_id="tokens"),
        dbc.Tab(orgs_tab(orgs, lang), label=t("admin.tab.orgs", lang), tab_id="orgs"),
        dbc.Tab(audit_tab(entries, lang), label=t("admin.tab.audit", lang), tab_id="audit"),
    ], id="admin-tabs", active_tab="users")
    # The admin token (when the page was opened with ?token=) stays in this page's memory for its callbacks.
    stores = [dcc.Store(id="admin-token", data=token), dcc.Store(id="admin-lang", data=lang)]
    return desktop_page([header, tabs, *stores], "admin-page", lang)
