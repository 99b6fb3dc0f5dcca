"""Tablet pages as a leader uses them: KPI tiles that fill their grid at every width, tables in the theme, a
search that reaches any organisation of the viewer's scope in one step (and nothing outside it, on the wire),
and a roster labelled so it is not read as the party-member total."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dashboard.access.tokens import create_token
from dashboard.store.engine import open_store
from dashboard.store.tree import OrgTree
from tests.conftest import LiveServer, wait_until
from tests.test_tablet_browser import open_tablet

WIDTHS = ((768, 1024), (1024, 768), (1366, 1024), (1920, 1080))
BOOTSTRAP_GREY = {"rgb(33, 37, 41)", "rgb(52, 58, 64)", "rgb(43, 48, 53)", "rgb(255, 255, 255)"}


@pytest.fixture(scope="module")
def tree(live_server: LiveServer) -> OrgTree:
    return OrgTree.load(open_store(live_server.db_url))


@pytest.mark.parametrize("width,height", WIDTHS)
def test_kpi_tiles_fill_their_grid_and_values_line_up(live_server: LiveServer, browser: Any, tree: OrgTree, width: int, height: int) -> None:
    assert tree.root_id is not None
    for lang in ("zh", "en"):
        page = open_tablet(browser, live_server, f"/org/{tree.nodes[tree.root_id].code}?lang={lang}", width, height)
        try:
            tiles = page.evaluate("""() => Array.from(document.querySelectorAll('.tablet-kpis .kpi')).map(k => {
                const r = k.getBoundingClientRect(), v = k.querySelector('.kpi-value').getBoundingClientRect();
                return [Math.round(r.left), Math.round(r.top), Math.round(v.top)]; })""")
            columns = len({left for left, _, _ in tiles})
            rows: dict[int, list[int]] = {}
            for _, top, value_top in tiles:
                rows.setdefault(top, []).append(value_top)
            assert len(tiles) == 9 and all(len(r) == columns for r in rows.values()), f"{lang} {width}px: rows of {[len(r) for r in rows.values()]} in {columns} columns"
            assert all(max(r) - min(r) <= 1 for r in rows.values()), f"{lang} {width}px: a wrapped label drops its value below its neighbours'"
        finally:
            page.close()


def test_comparison_and_roster_tables_wear_the_theme(live_server: LiveServer, browser: Any, tree: OrgTree) -> None:
    assert tree.root_id is not None
    province = tree.nodes[tree.children[tree.root_id][0]]
    page = open_tablet(browser, live_server, f"/org/{province.code}?token={live_server.admin_token}")
    try:
        for table in ("#tablet-siblings", "#tablet-members"):
            colours = page.evaluate(f"""() => {{
                const td = document.querySelector('{table} tbody td'), th = document.querySelector('{table} thead th');
                return [getComputedStyle(td).backgroundColor, getComputedStyle(th).backgroundColor, getComputedStyle(th).color, getComputedStyle(td).color]; }}""")
            assert not set(colours[:2]) & BOOTSTRAP_GREY, f"{table}: Bootstrap's own table colours {colours}"
            assert colours[2] == "rgb(243, 193, 75)", f"{table}: headers in the theme's gold, not {colours[2]}"
        assert page.locator("#tablet-members h2").inner_text() == "人员名册"
        assert "多于党员总数" in page.locator("#tablet-members .section-note").inner_text(), "the roster says why it counts more people"
    finally:
        page.close()


def _search(page: Any, text: str) -> list[dict[str, str]]:
    """The matches for ``text``: the box is emptied first (no matches shown), so what appears is this answer."""
    page.fill("#tablet-search", "")
    wait_until(page, "document.querySelector('#tablet-search-results').children.length === 0", timeout_s=15)
    page.fill("#tablet-search", text)
    wait_until(page, "document.querySelector('#tablet-search-results').children.length > 0", timeout_s=15)
    hits: list[dict[str, str]] = page.evaluate("""() => Array.from(document.querySelectorAll('#tablet-search-results .search-hit'))
        .map(a => ({code: a.title, name: a.querySelector('.name').textContent, href: a.getAttribute('href')}))""")
    return hits


def test_search_reaches_any_organisation_in_scope_in_one_step(live_server: LiveServer, browser: Any, tree: OrgTree) -> None:
    assert tree.root_id is not None
    deepest = max(tree.nodes.values(), key=lambda n: (n.level, n.id))
    other_province = tree.nodes[tree.children[tree.root_id][-1]]
    page = open_tablet(browser, live_server, f"/org/{deepest.code}?lang=en", 768, 1024)
    try:
        hits = _search(page, other_province.name)
        assert hits[0]["code"] == other_province.code, "from a branch page, anything in the viewer's scope"
        page.locator("#tablet-search-results .search-hit").first.click()
        page.wait_for_selector(f".org-title:text-is('{other_province.name}')", timeout=30_000)
        assert "lang=en" in page.url, "the link keeps the page's language"
        hits = _search(page, deepest.code)
        assert hits[0]["code"] == deepest.code, "an exact code first"
        assert _search(page, "无此组织XYZ") == []
        assert "No organisation you may see matches" in page.locator("#tablet-search-results").inner_text()
    finally:
        page.close()


def test_a_scoped_viewers_search_never_answers_from_outside_its_subtree(live_server: LiveServer, browser: Any, tree: OrgTree) -> None:
    assert tree.root_id is not None
    mine, other = (tree.nodes[c] for c in tree.children[tree.root_id][:2])
    token = create_token(open_store(live_server.db_url), role="display", org_code=mine.code)
    inside = max((n for n in tree.nodes.values() if tree.is_within(n.id, mine.id)), key=lambda n: (n.level, n.id))
    outside_codes = {n.code for n in tree.nodes.values() if not tree.is_within(n.id, mine.id)}
    page = open_tablet(browser, live_server, f"/org/{inside.code}?token={token}", 1024, 768)
    answers: list[str] = []
    page.on("response", lambda r: answers.append(r.text()) if "_dash-update-component" in r.url else None)
    try:
        assert _search(page, other.name) == [], "another province is not found"
        hits = _search(page, "党")  # every organisation's name holds it: the search must pick only its own
        assert hits and all(tree.is_within(tree.by_code[h["code"]], mine.id) for h in hits)
        assert all(f"token={token}" in h["href"] for h in hits), "links keep the viewer's token"
        assert _search(page, mine.code)[0]["code"] == mine.code
        wire = [json.loads(a) for a in answers if "tablet-search-results" in a]
        assert wire, "the search's answers were seen on the wire"
        leaked = {c for c in outside_codes if any(f'"{c}"' in json.dumps(w, ensure_ascii=False) for w in wire)}
        assert leaked == set(), f"answers named organisations outside the scope: {sorted(leaked)[:5]}"
    finally:
        page.close()
