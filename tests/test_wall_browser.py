"""The wall in headless Chromium: what a person in the duty room sees, at each screen size.

One server for the module (2,000-member demo, the simulator at a modest
rate, so every panel has live values). Each test opens one page of the
session's Chromium.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from layouts.i18n import fmt_count
from tests.conftest import LiveServer, wait_until
from tests.wall_checks import WALL_FLOOR, layout_report

PANELS = ("structure", "background", "map", "pipeline", "feed", "alerts", "topology", "progress", "leaderboard")
TILES = ("members", "organisations", "active_today", "active_15m", "events_today", "events_per_min", "study_points_today", "lost_contact")
CHARTS = ("chart-gender", "chart-ethnicity", "chart-status", "chart-age", "chart-education", "chart-occupation")


@pytest.fixture(scope="module")
def wall_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("wall") / "wall.db", extra_args=["--rate", "40"]).start()
    yield server
    server.stop()


def open_wall(browser: Any, server: LiveServer, path: str, width: int = 1920, height: int = 1080) -> Any:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(server.url + path, wait_until="load")
    page.wait_for_selector("#conn-state.live", timeout=60_000)
    return page


def wait_for_live_panels(page: Any) -> None:
    """Frames have filled the feed, the leaderboard, the progress and the spotlight's data."""
    page.wait_for_selector("#live-feed .feed-item", timeout=60_000)
    wait_until(page, "window.lianxinLive.frames >= 3 && window.lianxinWall.units !== null", timeout_s=60)


def db_rows(server: LiveServer, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.db_url.removeprefix("sqlite:///")) as conn:
        return conn.execute(sql).fetchall()


def ingest(server: LiveServer, events: list[dict[str, Any]]) -> None:
    r = httpx.post(f"{server.url}/api/events", json=events, headers={"Authorization": f"Bearer {server.token}"}, timeout=30)
    assert r.status_code == 200 and r.json()["accepted"] == len(events), r.text


@pytest.mark.parametrize("width,height", [(1920, 1080), (2560, 1440), (3840, 2160)])
def test_wall_fills_the_screen_with_every_panel_live_and_every_text_fitting(wall_server: LiveServer, browser, width: int, height: int, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = open_wall(browser, wall_server, "/", width, height)
    try:
        wait_for_live_panels(page)
        geometry = page.evaluate(
            """() => { const c = document.getElementById('wall-canvas').getBoundingClientRect();
                       return {w: c.width, h: c.height, x: c.left, y: c.top}; }"""
        )
        assert abs(geometry["w"] - width) < 1 and abs(geometry["h"] - height) < 1 and abs(geometry["x"]) < 1 and abs(geometry["y"]) < 1, geometry
        for name in PANELS:
            assert page.locator(f"#panel-{name}").is_visible(), name
        for name in TILES:
            assert page.locator(f"#kpi-{name}").inner_text().strip() not in ("", "—"), name
        for chart in CHARTS:
            assert page.locator(f"#{chart} .js-plotly-plot .trace").count() >= 1, chart
        assert page.locator("#map-graph .scatterlayer .trace").count() >= 34
        assert page.locator("#topology-graph .js-plotly-plot").count() == 1
        assert page.locator("#leaderboard li").count() >= 5
        assert page.locator("#pipeline-full").inner_text().strip() not in ("", "—")
        # At the public level the dues rate is hidden ("—") while the paid count is under 5 (docs/security.md).
        dues_text = page.locator("#progress-dues").inner_text()
        assert dues_text.endswith("%") or (dues_text == "—" and httpx.get(f"{wall_server.url}/api/snapshot").json()["dues_rate"] is None), dues_text
        assert page.locator("#alerts").inner_text().strip()
        members = httpx.get(f"{wall_server.url}/api/snapshot").json()["members"]
        assert page.locator("#kpi-members").inner_text().strip() == fmt_count(members, "zh")
        assert int(page.locator("#conn-state").get_attribute("data-lag-ms")) >= 0
        report = layout_report(page, WALL_FLOOR)
        assert report["scroll"] == [width, height, width, height], report["scroll"]
        assert report["checked"] > 100 and report["problems"] == [], report["problems"]
        page.screenshot(path=str(tmp_path / f"wall-{width}x{height}.png"))
    finally:
        page.close()


@pytest.mark.parametrize("path,width,height", [("/?lang=en", 1920, 1080), ("/", 1920, 1200), ("/?lang=en", 1440, 1080)])
def test_english_and_letterboxed_screens_fit_too(wall_server: LiveServer, browser, path: str, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    page = open_wall(browser, wall_server, path, width, height)
    try:
        wait_for_live_panels(page)
        scale = min(width / 1920, height / 1080)
        box = page.evaluate("() => { const c = document.getElementById('wall-canvas').getBoundingClientRect(); return [c.left, c.top, c.width, c.height]; }")
        assert box == pytest.approx([(width - 1920 * scale) / 2, (height - 1080 * scale) / 2, 1920 * scale, 1080 * scale], abs=1)
        if "lang=en" in path:
            assert page.locator(".title-centre").inner_text() == "Party Building Command Centre"
            members = httpx.get(f"{wall_server.url}/api/snapshot").json()["members"]
            assert page.locator("#kpi-members").inner_text().strip() == fmt_count(members, "en")
        # Letterboxed, text is measured against the canvas as shown (1/90 of its height).
        report = layout_report(page, WALL_FLOOR)
        assert report["scroll"] == [width, height, width, height]
        assert report["checked"] > 100 and report["problems"] == [], report["problems"]
    finally:
        page.close()


def test_language_switch_keeps_the_rest_of_the_address(wall_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    page = open_wall(browser, wall_server, "/?rotate=30")
    try:
        page.locator(".lang-link[lang=en]").click()
        page.wait_for_url("**/?rotate=30&lang=en", timeout=30_000)
        page.wait_for_selector("#conn-state.live", timeout=60_000)
        assert page.locator(".panel-title").first.inner_text() == "Membership"
        page.locator(".lang-link[lang=zh]").click()
        page.wait_for_url("**/?rotate=30", timeout=30_000)
        page.wait_for_selector(".lang-zh", timeout=30_000)
    finally:
        page.close()


def test_structure_progress_and_pipeline_follow_events_without_figures_sent_again(wall_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    # Full level (an admin token): public counts are rounded to tens, so one more member need not show.
    page = open_wall(browser, wall_server, f"/?token={wall_server.admin_token}")
    try:
        wait_for_live_panels(page)
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url) if "_dash-update-component" in r.url else None)
        status = lambda: page.evaluate("() => document.querySelector('#chart-status .js-plotly-plot').data[0].values.slice()")  # noqa: E731
        before = status()
        applicants = page.locator("#pipeline-applicant").inner_text()
        dues = page.locator("#progress-dues-sub").inner_text()
        target = db_rows(wall_server, "SELECT m.code, o.code FROM members m JOIN organisations o ON o.id = m.org_id WHERE m.stage = 'development_target' ORDER BY m.id LIMIT 1")[0]
        payers = db_rows(wall_server, "SELECT m.code, o.code FROM members m JOIN organisations o ON o.id = m.org_id WHERE m.stage = 'full' ORDER BY m.id DESC LIMIT 20")
        month = page.evaluate("() => new Date().toISOString().slice(0, 7)")
        tag = uuid.uuid4().hex[:8]
        ingest(
            wall_server,
            [
                {"id": f"w-{tag}-p", "type": "recruit_probationary", "org": target[1], "member": target[0]},
                {"id": f"w-{tag}-a", "type": "recruit_applied", "org": target[1]},
                *({"id": f"w-{tag}-d{i}", "type": "dues_paid", "org": org, "member": code, "data": {"amount": 30, "month": month}} for i, (code, org) in enumerate(payers)),
            ],
        )
        wait_until(page, f"document.querySelector('#chart-status .js-plotly-plot').data[0].values[1] > {before[1]}", timeout_s=30)
        wait_until(page, f"document.getElementById('pipeline-applicant').textContent !== {applicants!r}", timeout_s=30)
        wait_until(page, f"document.getElementById('progress-dues-sub').textContent !== {dues!r}", timeout_s=30)
        assert status()[0] == before[0]
        assert page.evaluate("window.lianxinWall.restyles") >= 1
        assert requests == [], "a figure was fetched again instead of restyled"
    finally:
        page.close()


def test_rotation_moves_by_itself_pauses_on_space_and_steps_with_the_arrows(wall_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    unit = httpx.get(f"{wall_server.url}/api/orgs").json()[1]["code"]
    playlist = f"map:3,topology:3,kpi:3,org:{unit}:3,wall:3"
    page = open_wall(browser, wall_server, f"/?playlist={playlist}")
    try:
        wait_for_live_panels(page)
        seen = set()
        for _ in range(3):
            changes = page.evaluate("window.lianxinPlaylist.changes")
            wait_until(page, f"window.lianxinPlaylist.changes > {changes}", timeout_s=30)
            seen.add(page.get_attribute("#wall-canvas", "data-focus"))
        assert len(seen) == 3, seen
        page.keyboard.press("Space")
        assert page.evaluate("window.lianxinPlaylist.paused") is True
        assert "paused" in (page.get_attribute("#rotation-controls", "class") or "")
        frozen = page.evaluate("window.lianxinPlaylist.changes")
        page.wait_for_timeout(4_500)
        assert page.evaluate("window.lianxinPlaylist.changes") == frozen
        # Paused, step through every item and check that each focus fills the screen and fits.
        for expected in ("map", "topology", "kpi", f"org:{unit}", "wall"):
            for _ in range(5):
                if page.get_attribute("#wall-canvas", "data-focus") == expected:
                    break
                page.keyboard.press("ArrowRight")
            assert page.get_attribute("#wall-canvas", "data-focus") == expected
            page.wait_for_timeout(700)
            report = layout_report(page, WALL_FLOOR)
            assert report["problems"] == [], (expected, report["problems"])
            if expected == f"org:{unit}":
                assert page.locator("#spotlight").is_visible()
                assert page.locator("#spotlight-name").inner_text().strip()
                assert page.locator("#spot-members").inner_text().strip() not in ("", "—")
                assert page.locator("#spotlight-ranking li.current").count() == 1
            if expected in ("map", "topology", "kpi"):
                focused = {"map": "#panel-map", "topology": "#panel-topology", "kpi": "#kpi-row"}[expected]
                box = page.locator(focused).bounding_box()
                assert box["width"] > 1800 and box["height"] > 900, (expected, box)
        page.keyboard.press("Space")
        wait_until(page, f"window.lianxinPlaylist.changes > {page.evaluate('window.lianxinPlaylist.changes')}", timeout_s=30)
        assert page.evaluate("window.lianxinPlaylist.paused") is False
    finally:
        page.close()


def test_kiosk_hides_every_control_and_the_cursor(wall_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    page = open_wall(browser, wall_server, "/?rotate=5&kiosk=1")
    try:
        assert page.evaluate("document.documentElement.classList.contains('kiosk')")
        assert not page.locator("#rotation-controls").is_visible() and not page.locator(".lang-switch").is_visible()
        assert page.evaluate("getComputedStyle(document.getElementById('panel-map')).cursor") == "none"
        assert page.evaluate("window.lianxinPlaylist.items.length") > 4
    finally:
        page.close()
    page = open_wall(browser, wall_server, "/?rotate=5")
    try:
        assert page.locator("#rotation-controls").is_visible() and page.locator(".lang-switch").is_visible()
    finally:
        page.close()


def test_a_bad_address_is_named_on_the_screen_and_the_wall_runs_on(wall_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    page = open_wall(browser, wall_server, "/?rotate=abc&playlist=map:3,bogus,org:NOPE,kpi:3&lang=xx&kiosk=maybe")
    try:
        banner = page.locator("#wall-problems")
        assert banner.is_visible()
        text = banner.inner_text()
        for shown in ("“abc”", "“bogus”", "“NOPE”", "“xx”", "“maybe”"):
            assert shown in text, (shown, text)
        assert "Traceback" not in page.content()
        assert page.locator(".lang-zh").count() == 1
        wait_for_live_panels(page)
        changes = page.evaluate("window.lianxinPlaylist.changes")
        wait_until(page, f"window.lianxinPlaylist.changes > {changes}", timeout_s=30)
        assert page.evaluate("window.lianxinPlaylist.items.map(i => i.kind)") == ["map", "kpi"]
        problems = layout_report(page)["problems"]
        assert problems == []
    finally:
        page.close()


def test_an_unknown_organisation_on_the_wall_is_said_plainly(wall_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    try:
        page.goto(wall_server.url + "/?org=NOPE&lang=en", wait_until="load")
        page.wait_for_selector(".page-error", timeout=30_000)
        assert "NOPE" in page.locator(".page-error").inner_text()
        assert "Traceback" not in page.content()
    finally:
        page.close()


def test_what_moves_steps_on_the_motion_clock_and_nothing_runs_at_sixty_frames(wall_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    """Map flashes grow and fade, and the feed's newest rows are highlighted then not, with no CSS or Web Animation running."""
    page = open_wall(browser, wall_server, "/")
    try:
        wait_for_live_panels(page)
        page.evaluate("""() => {
          window.__moved = {flash: 0, faded: 0};
          new MutationObserver(records => records.forEach(r => {
            const t = r.target;
            if (t.classList.contains('map-flash') && parseFloat(t.style.opacity) > 0) window.__moved.flash++;
            if (r.attributeName === 'class' && t.classList.contains('feed-item') && !t.classList.contains('fresh')) window.__moved.faded++;
          })).observe(document.body, {attributes: true, subtree: true, attributeFilter: ['style', 'class']});
        }""")
        wait_until(page, "window.__moved.flash >= 3 && window.__moved.faded >= 1", timeout_s=30)
        running = page.evaluate("() => document.getAnimations().filter(a => a.playState === 'running').map(a => a.animationName || a.constructor.name)")
        assert running == [], running
        assert page.evaluate("() => window.lianxinMotion.ms") == 100
    finally:
        page.close()
