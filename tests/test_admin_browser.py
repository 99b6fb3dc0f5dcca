"""/login and /admin in Chromium: signing in, managing users and tokens, and hostile input in every text field.

The pages run under the app's Content-Security-Policy (no eval), so the tests
wait with Playwright's locators, never with ``wait_for_function``.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import httpx

from tests.conftest import LiveServer

HOSTILE = ["'; DROP TABLE users; --", "' OR '1'='1", "<script>alert(1)</script>", "x" * 5000, "\u0000null", "%_\\"]
ADMIN_FIELDS = (
    ("admin-user-name", "admin-user-create", "admin-user-result", "users"),
    ("admin-user-org", "admin-user-create", "admin-user-result", "users"),
    ("admin-user-password", "admin-user-create", "admin-user-result", "users"),
    ("admin-token-org", "admin-token-create", "admin-token-result", "tokens"),
    ("admin-token-label", "admin-token-create", "admin-token-result", "tokens"),
    ("admin-token-days", "admin-token-create", "admin-token-result", "tokens"),
    ("admin-token-revoke-id", "admin-token-revoke", "admin-token-result", "tokens"),
    ("admin-org-search", "admin-org-find", "admin-orgs-table", "orgs"),
    ("admin-org-code", "admin-org-rename", "admin-org-result", "orgs"),
    ("admin-org-name", "admin-org-rename", "admin-org-result", "orgs"),
    ("admin-audit-search", "admin-audit-refresh", "admin-audit-table", "audit"),
)
TAB_LABELS = {"users": "Users", "tokens": "Tokens", "orgs": "Organisations", "audit": "Audit log"}


def db(server: LiveServer, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.db_url.removeprefix("sqlite:///")) as conn:
        return conn.execute(sql).fetchall()


def admin_password(server: LiveServer) -> str:
    return re.findall(r"with the password (\S+) ", server.log_path.read_text())[0]


def sign_in(page, server: LiveServer, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}/login?lang=en", wait_until="load")
    page.wait_for_selector("#login-username")
    page.fill("#login-username", "admin")
    page.fill("#login-password", password)
    page.click("#login-submit")


def test_signing_in_and_managing_users_and_tokens(live_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, "not the password at all")
    page.wait_for_selector("#login-error")
    sign_in(page, live_server, admin_password(live_server))
    page.wait_for_selector("#admin-page")
    assert "admin" in page.inner_text("#admin-who")

    page.fill("#admin-user-name", "wall-keeper")
    page.fill("#admin-user-org", db(live_server, "SELECT code FROM organisations WHERE level = 1 LIMIT 1")[0][0])
    page.click("#admin-user-create")
    page.wait_for_selector("#admin-user-result #admin-secret")
    password = page.inner_text("#admin-user-result #admin-secret").strip()
    assert db(live_server, "SELECT role, level FROM users WHERE username = 'wall-keeper'") == [("leader", "full")]
    assert password not in str(db(live_server, "SELECT * FROM users"))

    page.click(f"#admin-tabs >> text={TAB_LABELS['tokens']}")
    page.fill("#admin-token-label", "lobby screen")
    page.fill("#admin-token-days", "30")
    page.click("#admin-token-create")
    page.wait_for_selector("#admin-token-result #admin-secret")
    token = page.inner_text("#admin-token-result #admin-secret").strip()
    assert httpx.get(f"{live_server.url}/api/snapshot", params={"token": token}).status_code == 200
    token_id = db(live_server, "SELECT id FROM tokens WHERE label = 'lobby screen'")[0][0]
    page.fill("#admin-token-revoke-id", str(token_id))
    page.click("#admin-token-revoke")
    page.locator("#admin-tokens-table tr", has_text="lobby screen").locator("td", has_text="✓").wait_for()
    assert db(live_server, f"SELECT revoked FROM tokens WHERE id = {token_id}") == [(1,)]

    page.click(f"#admin-tabs >> text={TAB_LABELS['audit']}")
    page.click("#admin-audit-refresh")
    page.locator("#admin-audit-table td", has_text="Token revoked").first.wait_for()  # token.revoke, in English
    context.close()


def test_hostile_input_in_every_admin_text_field_harms_nothing(live_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    before = db(live_server, "SELECT (SELECT count(*) FROM members), (SELECT count(*) FROM organisations), (SELECT group_concat(name) FROM organisations)")
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    failures: list[str] = []
    page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    sign_in(page, live_server, admin_password(live_server))
    page.wait_for_selector("#admin-page")
    for field, button, answer, tab in ADMIN_FIELDS:
        page.click(f"#admin-tabs >> text={TAB_LABELS[tab]}")
        for value in HOSTILE:
            page.evaluate(  # past the input's maxLength, as a hand-made request would be
                "([id, v]) => { const el = document.getElementById(id); el.removeAttribute('maxlength');"
                " const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;"
                " set.call(el, v); el.dispatchEvent(new Event('input', {bubbles: true})); }",
                [field, value],
            )
            with page.expect_response(lambda r: "_dash-update-component" in r.url) as answered:
                page.click(f"#{button}")
            assert answered.value.status == 200, (field, value[:20], answered.value.status)
            page.wait_for_selector(f"#{answer}")
    assert failures == [] and dialogs == []
    after = db(live_server, "SELECT (SELECT count(*) FROM members), (SELECT count(*) FROM organisations), (SELECT group_concat(name) FROM organisations)")
    assert after == before
    # Every hostile value was refused or stored as plain text: the users table holds no script and no quote trick.
    names = [n for (n,) in db(live_server, "SELECT username FROM users")]
    assert all(re.fullmatch(r"[\w.@-]+", n) for n in names)
    labels = [label for (label,) in db(live_server, "SELECT label FROM tokens WHERE label IS NOT NULL")]
    assert all(len(label) <= 200 for label in labels)
    assert httpx.get(f"{live_server.url}/api/health").status_code == 200
    context.close()
