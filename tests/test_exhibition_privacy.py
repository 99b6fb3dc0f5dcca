"""Exhibition mode: a self-running show at the public level, checked on what reaches the browser.

``python app.py --exhibition`` (and ``/?mode=exhibition`` on an ordinary
server): the rotation runs by itself with every control and the cursor
hidden, and nothing sent to the page — HTTP bodies, the websocket frames of
Dash's SharedWorker (tests/page_traffic.py) and the server's stream for the
page's ticket from its first, full frame — holds a member's name, id or
phone, a birth year field, or a count of people under 5.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from dashboard.access.scopes import PEOPLE_KEYS, PUBLIC_MIN_COUNT
from dashboard.demo import texts as simulator_texts
from dashboard.live.screen_client import ScreenClient, find_ticket, page_layout, stream_callback_id
from dashboard.wall.units import PEOPLE_FIELDS, UNIT_FIELDS
from layouts.i18n import ZH
from tests.conftest import LiveServer, wait_until
from tests.page_traffic import PageTraffic, readable

CJK_RUN = re.compile(r"[\u3400-\u9fff]{2,}")
MEMBER_CODE = re.compile(r"M\d{7}")
PHONE = re.compile(r"1\d{10}")


@pytest.fixture(scope="module")
def show(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("show") / "show.db", extra_args=["--exhibition", "--rate", "60"]).start()
    yield server
    server.stop()


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings_in(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from strings_in(v)


def own_words(conn: sqlite3.Connection) -> str:
    """All the Chinese the pages show of their own: labels, organisation names, the simulator's titles.

    A generated name that is also such a word (a member called 高中 beside the
    education label 高中/中专) cannot be told from it in page text, so it is not
    looked for; every other name is.
    """
    texts = [text for name in dir(simulator_texts) if name.isupper() for text in strings_in(getattr(simulator_texts, name))]
    orgs = [name for (name,) in conn.execute("SELECT name FROM organisations")]
    return "\n".join([*ZH.values(), *texts, *orgs])


class Personal:
    """Every name, member code and phone in the store: the roll, and names given with applications."""

    def __init__(self, server: LiveServer) -> None:
        with sqlite3.connect(server.db_url.removeprefix("sqlite:///")) as conn:
            rows = conn.execute("SELECT name, code, phone FROM members").fetchall()
            applicants = [json.loads(d).get("name") for (d,) in conn.execute("SELECT data FROM events WHERE type = 'recruit_applied'")]
            words = own_words(conn)
        self.names = {n for n in {r[0] for r in rows} | {n for n in applicants if n} if n not in words}
        self.codes = {r[1] for r in rows}
        self.phones = {r[2] for r in rows if r[2]}
        assert len(self.names) > 1000 and len(self.codes) >= 2000

    def found_in(self, text: str) -> list[str]:
        """Names (as substrings of any run of Chinese characters), member codes and phone numbers in ``text``."""
        found = {m for m in MEMBER_CODE.findall(text) if m in self.codes} | {p for p in PHONE.findall(text) if p in self.phones}
        for run in CJK_RUN.findall(text):
            found |= {run[i : i + n] for n in (2, 3, 4) for i in range(len(run) - n + 1)} & self.names
        return sorted(found)


def small_counts(value: Any) -> list[int]:
    """Counts of people in a frame value that the public level should have hidden (1 to 4)."""
    if isinstance(value, dict):
        return [n for v in value.values() for n in small_counts(v)]
    if isinstance(value, list):
        return [n for v in value for n in small_counts(v)]
    return [value] if isinstance(value, int) and not isinstance(value, bool) and 0 < value < PUBLIC_MIN_COUNT else []


def check_frames(frames: list[dict[str, Any]]) -> None:
    for frame in frames:
        kpi = frame.get("kpi", {})
        for key in PEOPLE_KEYS & kpi.keys():
            assert small_counts(kpi[key]) == [], (key, kpi[key])
        for row in (kpi.get("units") or {}).values():
            assert small_counts([row[UNIT_FIELDS.index(f)] for f in PEOPLE_FIELDS]) == [], row
        for item in frame.get("feed", []):
            assert "who" not in item, item


def capture(browser: Any, url: str, wait_ms: int, ready: str = "#conn-state.live") -> tuple[PageTraffic, Any]:
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    traffic = PageTraffic()
    traffic.attach(browser, page)
    page.goto(url, wait_until="load")
    page.wait_for_selector(ready, timeout=60_000)
    page.wait_for_timeout(wait_ms)
    return traffic, page


def server_frames(server: LiveServer, path: str, search: str, seconds: float) -> list[dict[str, Any]]:
    """The frames the server streams to that page's scope, from the first (full) one: a headless screen
    with the page's own ticket. (The browser's capture may start a moment after its first frame.)"""

    async def run() -> list[dict[str, Any]]:
        layout = await page_layout(server.url, path, search)
        screen = ScreenClient(server.url, find_ticket(layout), await stream_callback_id(server.url))
        return (await screen.run(seconds)).frames

    return asyncio.run(run())


def close(traffic: PageTraffic, page: Any) -> None:
    traffic.read_bodies()
    traffic.detach()
    page.context.close()


def assert_nothing_personal(traffic: PageTraffic, personal: Personal) -> None:
    texts = [readable(t) for t in traffic.read_bodies()] + [readable(t) for t in traffic.ws_frames]
    assert sum(len(t) for t in texts) > 50_000, "too little captured to mean anything"
    leaks = {leak for t in texts for leak in personal.found_in(t)}
    assert leaks == set(), sorted(leaks)[:20]
    assert not any('"birth' in t for t in texts)


def test_the_exhibition_wall_runs_by_itself_and_sends_nothing_personal(show: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    traffic, page = capture(browser, show.url + "/", 1_000)
    try:
        assert page.evaluate("document.documentElement.classList.contains('kiosk')")
        assert not page.locator("#rotation-controls").is_visible()
        assert page.evaluate("window.lianxinPlaylist.items.length") > 4
        wait_until(page, "window.lianxinPlaylist.changes >= 2", timeout_s=60)
        page.wait_for_selector("#live-feed .feed-item", timeout=30_000)
        frames = traffic.live_frames()
        assert len(frames) >= 10
        check_frames(frames)
        streamed = server_frames(show, "/", "", 6)
        assert streamed[0]["full"] and len(streamed) >= 5
        check_frames(streamed)
        traffic.ws_frames.extend(json.dumps(f, ensure_ascii=False) for f in streamed)
        assert_nothing_personal(traffic, Personal(show))
    finally:
        close(traffic, page)


def test_exhibition_tablet_pages_are_public_too(show: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    with sqlite3.connect(show.db_url.removeprefix("sqlite:///")) as conn:
        branch = conn.execute(
            "SELECT o.code FROM organisations o JOIN members m ON m.org_id = o.id WHERE o.kind = 'branch' GROUP BY o.id ORDER BY COUNT(*) DESC LIMIT 1"
        ).fetchone()[0]
    traffic, page = capture(browser, f"{show.url}/org/{branch}", 3_000)
    try:
        assert page.locator("#tablet-members").count() == 0
        streamed = server_frames(show, f"/org/{branch}", "", 4)
        assert streamed[0]["full"]
        check_frames(traffic.live_frames() + streamed)
        traffic.ws_frames.extend(json.dumps(f, ensure_ascii=False) for f in streamed)
        assert_nothing_personal(traffic, Personal(show))
    finally:
        close(traffic, page)


def test_mode_exhibition_lowers_even_an_admin_token_to_public(live_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    branch = next(o["code"] for o in httpx.get(f"{live_server.url}/api/orgs", timeout=30).json() if o["kind"] == "branch")
    full, page = capture(browser, f"{live_server.url}/org/{branch}?token={live_server.admin_token}", 500)
    try:
        assert page.locator("#tablet-members tbody tr").count() >= 1  # the same page at the full level lists members
        assert Personal(live_server).found_in(" ".join(readable(t) for t in full.read_bodies()))
    finally:
        close(full, page)
    for path, search in ((f"/org/{branch}", f"?token={live_server.admin_token}&mode=exhibition"), ("/", f"?token={live_server.admin_token}&mode=exhibition")):
        traffic, page = capture(browser, live_server.url + path + search, 500)
        try:
            assert page.locator("#tablet-members").count() == 0
            streamed = server_frames(live_server, path, search, 2)
            assert streamed[0]["full"]
            check_frames(traffic.live_frames() + streamed)
            texts = " ".join(readable(t) for t in [*traffic.read_bodies(), *traffic.ws_frames, json.dumps(streamed, ensure_ascii=False)])
            assert Personal(live_server).found_in(texts) == [], path
        finally:
            close(traffic, page)
