"""The admin pages as an administrator sees them: the product's brand and colours (shared by every page built
on layouts/desktop.py), coded values in words in Chinese and English, no repository paths, no console noise."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.test_admin_browser import admin_password, sign_in

RAW_VALUES = {"leader", "staff", "full", "public", "committee", "login", "ok", "refused", "token.use", "user:admin"}  # "admin" is also a user name
CHINESE = re.compile(r"[\u3400-\u9fff]")


def _cells(page: Any, table: str) -> list[str]:
    return [c.strip() for c in page.locator(f"{table} td").all_inner_texts()]


def _show_tab(page: Any, index: int) -> None:
    page.locator("#admin-tabs .nav-link").nth(index).click()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_admin_pages_wear_the_brand_and_say_every_value_in_words(live_server: LiveServer, browser: Any, lang: str) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    messages: list[str] = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}") if m.type in ("warning", "error") else None)
    try:
        sign_in(page, live_server, admin_password(live_server))
        page.wait_for_selector("#admin-page")
        page.goto(f"{live_server.url}/admin?lang={lang}", wait_until="load")
        page.wait_for_selector("#admin-page #admin-users-table td")
        brand = page.locator(".brand-bar .brand").inner_text()
        assert ("连心" if lang == "zh" else "Lianxin") in brand
        look = page.evaluate("""() => {
            const th = document.querySelector('#admin-users-table th'), td = document.querySelector('#admin-users-table td');
            const page = getComputedStyle(document.querySelector('#admin-page'));
            return [getComputedStyle(th).color, getComputedStyle(td).backgroundColor, page.backgroundImage,
                    getComputedStyle(document.querySelector('.brand-mark')).color]; }""")
        assert look[0] == "rgb(243, 193, 75)" and look[3] == "rgb(243, 193, 75)", f"gold headers and brand: {look}"
        assert look[1] in ("rgba(0, 0, 0, 0)", "transparent") and "gradient" in look[2], f"the navy theme, not Bootstrap's grey: {look}"
        who = page.inner_text("#admin-who")
        assert who.endswith("用户 admin" if lang == "zh" else "user admin"), who
        users = _cells(page, "#admin-users-table")
        assert ("管理员" if lang == "zh" else "Administrator") in users and ("完整" if lang == "zh" else "Full") in users
        roles = set(page.locator("#admin-users-table td:nth-child(3)").all_inner_texts())
        assert roles and roles <= ({"领导", "工作人员", "管理员"} if lang == "zh" else {"Leader", "Staff", "Administrator"}), roles
        options = [o for o in page.locator("#admin-user-role option").all_inner_texts() if o.strip()]
        assert options == (["领导", "工作人员", "管理员"] if lang == "zh" else ["Leader", "Staff", "Administrator"])
        _show_tab(page, 2)
        orgs = _cells(page, "#admin-orgs-table")
        assert ("党委" if lang == "zh" else "Committee") in orgs
        _show_tab(page, 3)
        page.click("#admin-audit-refresh")
        page.locator("#admin-audit-table td", has_text="登录" if lang == "zh" else "Sign in").first.wait_for()
        audit = _cells(page, "#admin-audit-table")
        assert ("成功" if lang == "zh" else "OK") in audit
        shown = set(users) | set(orgs) | set(audit) | {who.split(": ", 1)[-1]}
        assert not shown & RAW_VALUES, f"raw values left: {shown & RAW_VALUES}"
        if lang == "en":
            # names (organisations) may be Chinese; every other cell is English
            names = set(page.locator("#admin-orgs-table td:nth-child(2), #admin-orgs-table td:nth-child(5)").all_inner_texts())
            assert [c for c in orgs if CHINESE.search(c) and c not in names] == []

        page.goto(f"{live_server.url}/admin/import?lang={lang}", wait_until="load")
        page.wait_for_selector("#import-upload")
        text = page.inner_text("#import-page")
        assert "data/samples" not in text and "docs/" not in text and ".md" not in text, "no repository paths on the import page"
        assert page.locator("#import-page .brand-bar").count() == 1
        assert [m for m in messages if "not found in layout" in m or "live-meta" in m] == []
    finally:
        context.close()
