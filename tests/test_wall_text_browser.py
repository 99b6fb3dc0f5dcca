"""The wall's text floor and its longest texts, in headless Chromium at 1080p, 1440p and 4K.

docs/wall.md, "Text floor": no text under 18 px of the 1920×1080 canvas (1/60
of the screen's height at any resolution), the feed, alerts, leaderboard and
structure labels at 22 px or more; nothing outside its box while the feed and
the alerts show the demo's longest organisation names, article titles and
notice titles; standing alerts keep their place under notices, which take one
line each, name their issuer once and turn pages when there are more.

The server runs without its simulator, so what the feed and the alerts show is
what the test sent.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from dashboard.demo.texts import ARTICLE_TITLES, CAMPAIGN_TITLES, NOTICE_TITLES
from tests.conftest import LiveServer, wait_until
from tests.wall_checks import WALL_FLOOR, floor_report, layout_report

# In px of the 1920×1080 canvas (the page's scale is applied in the browser).
LIST_FLOORS = {
    "#live-feed": 22,
    "#alerts": 22,
    "#leaderboard": 22,
    "#chart-education .ytick": 22,
    "#chart-occupation .ytick": 22,
}
NOTICE_LINES = 3


@pytest.fixture(scope="module")
def text_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("walltext") / "wall.db").start()
    yield server
    server.stop()


def db_rows(server: LiveServer, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.db_url.removeprefix("sqlite:///")) as conn:
        return conn.execute(sql).fetchall()


def longest(texts: Any, n: int) -> list[str]:
    return sorted(set(texts), key=len, reverse=True)[:n]


@pytest.fixture(scope="module")
def longest_texts(text_server: LiveServer) -> dict[str, Any]:
    """Feed items at the demo's longest-named organisation with the longest titles; five of the longest notices from two issuers.

    Notices reach the screens of their issuer's subtree: the issuers are the top and the province above that
    organisation, whose wall (``?org=``) shows both.
    """
    (org_code, org_name, path), *_ = db_rows(text_server, "SELECT code, name, path FROM organisations ORDER BY length(name) DESC, code LIMIT 1")
    top_id, province_id = (int(x) for x in path.strip("/").split("/")[:2])
    issuers = [db_rows(text_server, f"SELECT code, name FROM organisations WHERE id = {i}")[0] for i in (top_id, province_id)]
    members = [r[0] for r in db_rows(text_server, f"SELECT m.code FROM members m JOIN organisations o ON o.id = m.org_id WHERE o.code = '{org_code}' LIMIT 4")]
    campaign_notices = [f"关于开展“{title}”活动的通知" for title in CAMPAIGN_TITLES]  # the simulator's own wording
    notice_titles = longest([*(t.format(m=12, q=4) for ts in NOTICE_TITLES.values() for t in ts), *campaign_notices], 5)
    levels = ("urgent", "warning", "info", "info", "warning")
    ingest(
        text_server,
        [
            {"id": f"t-{uuid.uuid4().hex[:8]}-n{i}", "type": "notice", "org": issuers[i % 2][0], "data": {"title": title, "level": levels[i], "ttl_s": 3600}}
            for i, title in enumerate(notice_titles)
        ],
    )
    feed = [
        {"type": "article_read", "org": org_code, **({"member": members[i % len(members)]} if members else {}), "data": {"title": title}}
        for i, title in enumerate(longest(ARTICLE_TITLES, 4))
    ]
    return {
        "org": org_name,
        "province": issuers[1][0],
        "province_name": issuers[1][1],
        "notices": notice_titles,
        "issuer_of": {title: issuers[i % 2][1] for i, title in enumerate(notice_titles)},
        "feed": feed,
    }


def ingest(server: LiveServer, events: list[dict[str, Any]]) -> None:
    r = httpx.post(f"{server.url}/api/events", json=events, headers={"Authorization": f"Bearer {server.token}"}, timeout=30)
    assert r.status_code == 200 and r.json()["accepted"] == len(events), r.text


def open_wall(browser: Any, server: LiveServer, texts: dict[str, Any], path: str, width: int, height: int) -> Any:
    """The wall at ``path``, its feed showing the longest texts (sent once the page is live: the feed shows what comes after)."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(server.url + path, wait_until="load")
    page.wait_for_selector("#conn-state.live", timeout=60_000)
    ingest(server, texts["feed"])
    wait_until(page, f"document.querySelectorAll('#live-feed .feed-item').length >= {len(texts['feed'])}", timeout_s=60)
    page.wait_for_selector("#alerts .alert-notices .notice", timeout=60_000)
    return page


def notice_lines(page: Any) -> list[dict[str, Any]]:
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('#alerts .alert-notices li.notice')).map((li) => ({
              height: li.getBoundingClientRect().height,
              font: parseFloat(getComputedStyle(li).fontSize),
              issuer: li.querySelector('.issuer') ? li.querySelector('.issuer').title : null,
              title: li.querySelector('.label').title,
           }))"""
    )


@pytest.mark.parametrize("path,width,height", [("/", 1920, 1080), ("/", 2560, 1440), ("/", 3840, 2160), ("/?lang=en", 1920, 1080)])
def test_text_floor_and_the_longest_texts_fit(text_server: LiveServer, longest_texts: dict[str, Any], browser, path: str, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    page = open_wall(browser, text_server, longest_texts, path, width, height)
    try:
        assert page.locator("#live-feed .org", has_text=longest_texts["org"]).count() >= 1
        report = layout_report(page, WALL_FLOOR)
        assert report["minPx"] == pytest.approx(height / 60)
        assert report["checked"] > 100 and report["problems"] == [], report["problems"]
        floors = floor_report(page, LIST_FLOORS)
        assert floors["checked"] > 30 and floors["problems"] == [], floors["problems"]
        # The longest organisation name (a 党小组 named with its branch) is whole in the feed, or ends in
        # an ellipsis with the whole name in its title (docs/wall.md) — never spilled or lost.
        org = page.locator("#live-feed .org", has_text=longest_texts["org"]).first
        whole = org.evaluate("(e) => e.scrollWidth <= e.clientWidth")
        titled = org.evaluate("(e) => getComputedStyle(e).textOverflow === 'ellipsis' && (e.closest('[title]') || {}).title || ''")
        assert whole or longest_texts["org"] in titled, titled
    finally:
        page.close()


def test_standing_alerts_keep_their_place_and_notices_take_one_line_each(text_server: LiveServer, longest_texts: dict[str, Any], browser) -> None:  # type: ignore[no-untyped-def]
    page = open_wall(browser, text_server, longest_texts, f"/?org={longest_texts['province']}", 1920, 1080)
    try:
        rules = page.locator("#alerts .alert-rules .alert-rule")
        assert rules.count() >= 1, "the demo has branches breaking a rule"
        panel = page.locator("#panel-alerts").bounding_box()
        for i in range(rules.count()):
            box = rules.nth(i).bounding_box()
            assert box["y"] >= panel["y"] and box["y"] + box["height"] <= panel["y"] + panel["height"], "a standing alert was pushed out of view"
        first = notice_lines(page)
        assert 1 <= len(first) <= NOTICE_LINES
        for line in first:
            assert line["height"] < 2 * line["font"], line  # one line (two would be 2 × 1.3 em and more), however long the title
        # The issuer is written once for a run of its notices, and not at all for the screen's own organisation.
        previous = longest_texts["province_name"]
        for line in first:
            issuer = longest_texts["issuer_of"][line["title"]]
            assert line["issuer"] == (issuer if issuer != previous else None), (line, previous)
            previous = issuer
        assert any(line["issuer"] for line in first) or all(longest_texts["issuer_of"][line["title"]] == longest_texts["province_name"] for line in first)
        # Five notices: the page turns, and every notice is shown on some page.
        pager = page.locator("#alerts .notice-pager")
        assert pager.inner_text().strip() == "1 / 2"
        wait_until(page, "(document.querySelector('#alerts .notice-pager') || {}).textContent === '2 / 2'", timeout_s=30)
        seen = {line["title"] for line in first} | {line["title"] for line in notice_lines(page)}
        assert seen == set(longest_texts["notices"])
        assert rules.count() >= 1
        # Urgent first.
        assert page.evaluate("() => document.querySelector('#alerts .alert-notices li.notice') !== null")
        wait_until(page, "(document.querySelector('#alerts .notice-pager') || {}).textContent === '1 / 2'", timeout_s=30)
        assert "level-urgent" in (page.locator("#alerts .alert-notices li.notice").first.get_attribute("class") or "")
    finally:
        page.close()


def test_the_spotlight_fills_the_screen_and_marks_the_gap_in_its_ranking(text_server: LiveServer, longest_texts: dict[str, Any], browser) -> None:  # type: ignore[no-untyped-def]
    units = [o["code"] for o in httpx.get(f"{text_server.url}/api/orgs?parent=LX", timeout=30).json()]
    assert len(units) > 20, "the demo has more top-level units than the ranking has rows"
    page = open_wall(browser, text_server, longest_texts, f"/?playlist=org:{units[0]}", 1920, 1080)
    try:
        wait_until(page, "window.lianxinWall.units !== null && document.querySelectorAll('#spotlight-ranking li').length > 0", timeout_s=60)
        # a unit ranked below the rows shown: the top rows, a gap marker, then the unit
        low = page.evaluate(
            """(codes) => codes.find((code) => { window.lianxinWall.showUnit(code);
                 const cur = document.querySelector('#spotlight-ranking li.current .n');
                 return cur && +cur.textContent > 20; })""",
            units,
        )
        assert low, "some unit ranks below 20"
        rows = page.evaluate(
            """() => Array.from(document.querySelectorAll('#spotlight-ranking li')).map((li) =>
                 ({cls: li.className, n: li.querySelector('.n') ? +li.querySelector('.n').textContent : null}))"""
        )
        assert [r["cls"] for r in rows[-2:]] == ["gap", "current"], rows
        ranks = [r["n"] for r in rows if r["n"] is not None]
        assert ranks[:-1] == list(range(1, len(ranks))) and ranks[-1] > len(ranks), ranks
        # the ranking reaches the bottom of the spotlight: no empty quarter
        bottoms = page.evaluate(
            """() => { const s = document.getElementById('spotlight').getBoundingClientRect();
                       const pad = parseFloat(getComputedStyle(document.getElementById('spotlight')).paddingBottom);
                       return [document.getElementById('spotlight-ranking').getBoundingClientRect().bottom, s.bottom - pad]; }"""
        )
        assert abs(bottoms[0] - bottoms[1]) < 2, bottoms
        report = layout_report(page, WALL_FLOOR)
        assert report["problems"] == [], report["problems"]
    finally:
        page.close()
