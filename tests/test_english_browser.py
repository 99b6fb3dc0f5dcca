"""English, complete: every page with ?lang=en shows no Chinese other than the names of organisations and members
(read from the store) and the free text of events (feed titles, notices); the language switch names 中文 in
Chinese, as language switches do. Tablet cards keep their figures level at 768, 1024, 1366 and 1920 px."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import pytest

from dashboard.store.engine import open_store
from dashboard.store.tree import OrgTree
from layouts.i18n import CATALOGUES
from tests.conftest import LiveServer, wait_until

CJK = re.compile(r"[\u3400-\u9fff]")
FREE_TEXT = "#live-feed .title, #alerts li.notice, .spot-feed .title, .lang-link"  # event text; the switch's own 中文
TEXTS = f"""() => {{
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {{
        const node = walker.currentNode, el = node.parentElement;
        if (!el || !node.textContent.trim() || el.closest('{FREE_TEXT}') || el.closest('title, script, style')) continue;
        const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
        if (r.width === 0 || r.height === 0 || cs.visibility === 'hidden' || cs.display === 'none') continue;
        out.push(node.textContent.trim());
    }}
    for (const el of document.querySelectorAll('input[placeholder]')) out.push(el.placeholder);
    return out;
}}"""
WIDTHS = (768, 1024, 1366, 1920)


@pytest.fixture(scope="module")
def names(live_server: LiveServer) -> list[str]:
    with sqlite3.connect(live_server.db_url.removeprefix("sqlite:///")) as conn:
        found = {n for (n,) in conn.execute("SELECT name FROM organisations")} | {n for (n,) in conn.execute("SELECT name FROM members")}
    return sorted(found, key=len, reverse=True)


def chinese_left(page: Any, names: list[str]) -> list[str]:
    """Visible texts that still hold Chinese once every organisation and member name is taken out."""
    left = []
    for text in page.evaluate(TEXTS):
        rest = text
        if CJK.search(rest):
            for name in names:
                if name in rest:
                    rest = rest.replace(name, "")
        if CJK.search(rest):
            left.append(text[:80])
    return sorted(set(left))


def test_the_english_catalogue_holds_no_chinese_but_the_name_of_chinese() -> None:
    assert [k for k, v in CATALOGUES["en"].items() if CJK.search(v) and k != "lang.zh"] == []
    assert set(CATALOGUES["en"]) == set(CATALOGUES["zh"]), "one catalogue: every key in both languages"


def test_every_page_in_english_shows_no_chinese_beyond_names_and_event_text(live_server: LiveServer, browser: Any, names: list[str]) -> None:
    tree = OrgTree.load(open_store(live_server.db_url))
    assert tree.root_id is not None
    root, province = tree.nodes[tree.root_id], tree.nodes[tree.children[tree.root_id][0]]
    token = live_server.admin_token
    pages = {
        "/": "#conn-state.live", "/map": "#conn-state.live", "/topology": "#topology-graph .scatterlayer .trace",
        "/kpi": "#conn-state.live", f"/org/{root.code}": "#conn-state.live", f"/org/{province.code}": "#conn-state.live",
        "/?mode=exhibition": "#conn-state.live", "/admin": "#admin-users-table td", "/admin/import": "#import-upload",
    }
    found: dict[str, list[str]] = {}
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    try:
        for path, ready in pages.items():
            page.goto(f"{live_server.url}{path}{'&' if '?' in path else '?'}lang=en&token={token}", wait_until="load")
            page.wait_for_selector(ready, timeout=60_000)
            left = chinese_left(page, names)
            if left:
                found[path] = left
        page.context.clear_cookies()
        page.goto(f"{live_server.url}/login?lang=en", wait_until="load")
        page.wait_for_selector("#login-username")
        if chinese_left(page, names):
            found["/login"] = chinese_left(page, names)
    finally:
        page.close()
    assert found == {}


@pytest.mark.parametrize("width", WIDTHS)
def test_tablet_cards_and_the_topology_search_fit_in_english(live_server: LiveServer, browser: Any, names: list[str], width: int) -> None:
    tree = OrgTree.load(open_store(live_server.db_url))
    assert tree.root_id is not None
    page = browser.new_page(viewport={"width": width, "height": 1024}, has_touch=True)
    try:
        page.goto(f"{live_server.url}/org/{tree.nodes[tree.root_id].code}?lang=en&token={live_server.admin_token}", wait_until="load")
        page.wait_for_selector("#conn-state.live", timeout=60_000)
        uneven = page.evaluate("""() => Array.from(document.querySelectorAll('.unit-figures')).filter(f => {
            const tops = Array.from(f.querySelectorAll('.value')).map(v => Math.round(v.getBoundingClientRect().top));
            return Math.max(...tops) - Math.min(...tops) > 1; }).length""")
        assert uneven == 0, f"{uneven} cards with a figure dropped below its neighbours at {width}px"
        page.goto(f"{live_server.url}/topology?lang=en&token={live_server.admin_token}", wait_until="load")
        page.wait_for_selector("#topology-search", timeout=60_000)
        wait_until(page, "document.fonts.status === 'loaded'")
        cut = page.evaluate("""() => { const i = document.getElementById('topology-search'), c = document.createElement('canvas').getContext('2d');
            const cs = getComputedStyle(i); c.font = cs.fontSize + ' ' + cs.fontFamily;
            return c.measureText(i.placeholder).width - (i.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight)); }""")
        assert cut <= 0, f"the search placeholder is cut by {cut:.0f}px at {width}px"
    finally:
        page.close()
