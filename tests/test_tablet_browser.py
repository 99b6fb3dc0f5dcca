"""Tablet pages in headless Chromium at tablet sizes: fitting text, touch targets, taps, back, languages, members."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any
from urllib.parse import unquote, urlparse

import httpx
import pytest

from callbacks.tablet import tap_targets
from dashboard.store.engine import open_store
from dashboard.store.tree import OrgTree
from layouts.i18n import fmt_count
from tests.conftest import LiveServer, wait_until
from tests.wall_checks import layout_report

TABLETS = [(768, 1024, "zh"), (1024, 768, "en"), (1366, 1024, "zh"), (1024, 1366, "en"), (768, 1024, "en"), (1366, 1024, "en")]
MIN_TOUCH = 44

TOUCH_JS = """(min) => Array.from(document.querySelectorAll('a[href], button')).filter(e => {
    const r = e.getBoundingClientRect(), cs = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden';
}).map(e => { const r = e.getBoundingClientRect(); return [e.textContent.trim().slice(0, 30), Math.round(r.width), Math.round(r.height)]; })
  .filter(([, w, h]) => w < min || h < min)"""
ORG_LINKS_JS = """() => Array.from(document.querySelectorAll('a[href^="/org/"]')).filter(a => !a.closest('.lang-switch')).map(a => a.getAttribute('href'))"""


@pytest.fixture(scope="module")
def tree(live_server: LiveServer) -> OrgTree:
    return OrgTree.load(open_store(live_server.db_url))


def open_tablet(browser: Any, server: LiveServer, path: str, width: int = 1366, height: int = 1024) -> Any:
    page = browser.new_page(viewport={"width": width, "height": height}, has_touch=True)
    page.goto(server.url + path, wait_until="load")
    page.wait_for_selector("#conn-state.live", timeout=60_000)
    return page


def codes_linked(page: Any) -> set[str]:
    return {unquote(urlparse(h).path.removeprefix("/org/")) for h in page.evaluate(ORG_LINKS_JS)}


@pytest.mark.parametrize("width,height,lang", TABLETS)
def test_a_tablet_page_fits_every_size_with_touch_sized_targets(live_server: LiveServer, browser, tree: OrgTree, width: int, height: int, lang: str) -> None:  # type: ignore[no-untyped-def]
    assert tree.root_id is not None
    province = tree.nodes[tree.children[tree.root_id][0]]
    page = open_tablet(browser, live_server, f"/org/{province.code}?lang={lang}", width, height)
    try:
        assert page.locator(".org-title").inner_text() == province.name
        assert page.locator("#tablet-children .tablet-card").count() == len(tree.children[province.id])
        assert page.locator("#tablet-siblings tbody tr").count() == len(tree.children[tree.root_id])
        total = page.evaluate("document.documentElement.scrollHeight")
        assert page.evaluate("document.documentElement.scrollWidth") == width
        problems: list[str] = []
        for top in range(0, total, height):
            page.evaluate(f"window.scrollTo(0, {top})")
            page.wait_for_timeout(100)
            problems += layout_report(page, 12 / height)["problems"]
            problems += [f"small target {t}" for t in page.evaluate(TOUCH_JS, MIN_TOUCH)]
        assert problems == []
    finally:
        page.close()


def test_three_taps_from_the_top_to_a_branch_and_back_with_the_back_gesture(live_server: LiveServer, browser, tree: OrgTree) -> None:  # type: ignore[no-untyped-def]
    assert tree.root_id is not None
    root = tree.nodes[tree.root_id]
    page = open_tablet(browser, live_server, f"/org/{root.code}", 1024, 768)
    try:
        assert codes_linked(page) == {tree.nodes[i].code for i in tap_targets(tree, root.id, root.id)}
        # the deepest organisation: reach it by its ancestors, never more than three taps
        deepest = max(tree.nodes.values(), key=lambda n: (n.level, n.code))
        chain = [tree.nodes[a] for a in reversed(tree.ancestors[deepest.id])][1:]
        visited = [page.url]
        here = root
        while here.id != deepest.id:
            step = max((n for n in chain if n.code in codes_linked(page)), key=lambda n: n.level)
            page.locator(f'a[href^="/org/{step.code}"]').first.click()
            page.wait_for_url(f"**/org/{step.code}", timeout=30_000)
            page.wait_for_selector("#conn-state.live", timeout=60_000)
            assert page.locator(".org-title").inner_text() == step.name
            visited.append(page.url)
            here = step
        assert 2 <= len(visited) - 1 <= 3, visited
        assert codes_linked(page) - {deepest.code} == {tree.nodes[i].code for i in tap_targets(tree, deepest.id, root.id)}
        for url in reversed(visited[:-1]):
            page.go_back()
            page.wait_for_url(url, timeout=30_000)
            page.wait_for_selector(".org-title", timeout=30_000)
        assert page.locator(".org-title").inner_text() == root.name
    finally:
        page.close()


def test_english_switch_keeps_the_page_and_formats_numbers(live_server: LiveServer, browser, tree: OrgTree) -> None:  # type: ignore[no-untyped-def]
    assert tree.root_id is not None
    root = tree.nodes[tree.root_id]
    members = httpx.get(f"{live_server.url}/api/snapshot", timeout=30).json()["members"]
    page = open_tablet(browser, live_server, f"/org/{root.code}", 768, 1024)
    try:
        assert page.locator("#kpi-members").inner_text() == fmt_count(members, "zh")
        page.locator(".lang-link[lang=en]").click()
        page.wait_for_url(f"**/org/{root.code}?lang=en", timeout=30_000)
        page.wait_for_selector("#conn-state.live", timeout=60_000)
        assert page.locator("#tablet-children").evaluate("e => e.previousElementSibling.textContent").startswith("Organisations below")
        assert page.locator("#kpi-members").inner_text() == fmt_count(members, "en")
        first_card = page.locator("#tablet-children a.card-link").first.get_attribute("href")
        assert first_card.endswith("?lang=en")
    finally:
        page.close()


def test_members_are_listed_only_at_the_full_level_and_page_on(live_server: LiveServer, browser, tree: OrgTree) -> None:  # type: ignore[no-untyped-def]
    assert tree.root_id is not None
    root = tree.nodes[tree.root_id]
    page = open_tablet(browser, live_server, f"/org/{root.code}")
    try:
        assert page.locator("#tablet-members").count() == 0
    finally:
        page.close()
    page = open_tablet(browser, live_server, f"/org/{root.code}?token={live_server.admin_token}&lang=en")
    try:
        rows = page.locator("#tablet-members tbody tr")
        assert rows.count() == 50
        first_page = rows.first.inner_text()
        page.locator("#tablet-members a", has_text="Next").click()
        page.wait_for_url("**page=2", timeout=30_000)
        page.wait_for_selector("#tablet-members tbody tr", timeout=30_000)
        assert page.locator("#tablet-members tbody tr").first.inner_text() != first_page
        assert "51–100 of" in page.locator(".pager-summary").inner_text()
    finally:
        page.close()


def test_bad_addresses_say_what_is_wrong(live_server: LiveServer, browser, tree: OrgTree) -> None:  # type: ignore[no-untyped-def]
    assert tree.root_id is not None
    root = tree.nodes[tree.root_id]
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    try:
        page.goto(f"{live_server.url}/org/NOPE-{uuid.uuid4().hex[:6]}?lang=en", wait_until="load")
        page.wait_for_selector("#tablet-error", timeout=30_000)
        assert "NOPE-" in page.locator("#tablet-error").inner_text()
        page.locator("a.tablet-btn").click()
        page.wait_for_url(f"**/org/{root.code}?lang=en", timeout=30_000)
        page.wait_for_selector(".org-title", timeout=30_000)
        page.goto(f"{live_server.url}/org/{root.code}?token={live_server.admin_token}&page=abc&lang=xx", wait_until="load")
        page.wait_for_selector(".tablet-problem", timeout=30_000)
        problems = page.locator(".tablet-problem").all_inner_texts()
        assert any("“abc”" in p for p in problems) and any("“xx”" in p for p in problems), problems
        assert page.locator("#tablet-members tbody tr").count() == 50
        assert "Traceback" not in page.content()
    finally:
        page.close()


def test_cards_and_trend_follow_events(live_server: LiveServer, browser, tree: OrgTree) -> None:  # type: ignore[no-untyped-def]
    assert tree.root_id is not None
    root = tree.nodes[tree.root_id]
    card = tree.nodes[tree.children[root.id][0]]
    subtree = set(tree.walk(card.id))
    with sqlite3.connect(live_server.db_url.removeprefix("sqlite:///")) as conn:
        members = [(code, org) for code, org in conn.execute("SELECT code, org_id FROM members WHERE stage = 'full' ORDER BY id DESC") if org in subtree][:8]
    # Full level (an admin token) on the page and the API: the exact rate, not the public one from rounded counts.
    page = open_tablet(browser, live_server, f"/org/{root.code}?token={live_server.admin_token}")
    try:
        dues = page.locator(f'[data-unit="{card.code}"] [data-field="dues_rate"]')
        before = dues.inner_text()
        month = page.evaluate("() => new Date().toISOString().slice(0, 7)")
        events = [
            {"id": f"tab-{uuid.uuid4().hex}", "type": "dues_paid", "org": tree.nodes[org].code, "member": code, "data": {"amount": 20, "month": month}}
            for code, org in members
        ]
        r = httpx.post(f"{live_server.url}/api/events", json=events, headers={"Authorization": f"Bearer {live_server.token}"}, timeout=30)
        assert r.json()["accepted"] == len(events) == 8
        wait_until(page, f"document.querySelector('[data-unit=\"{card.code}\"] [data-field=\"dues_rate\"]').textContent !== {before!r}", timeout_s=30)
        wait_until(page, "window.lianxinTablet.trendUpdates >= 1", timeout_s=30)
        snap = httpx.get(f"{live_server.url}/api/snapshot?org={card.code}", headers={"Authorization": f"Bearer {live_server.admin_token}"}, timeout=30).json()
        assert dues.inner_text() == f"{snap['dues_rate'] * 100:.1f}%"
    finally:
        page.close()
