"""Trends with a past (issue 14), in headless Chromium: every KPI tile of /kpi has its trend, and the
wall's activity tile shows the last 30 days per day (beside the last hour per minute) from the first
frame after a start with history — bars, the current day or minute marked as still counting.

One server for the module: ``python app.py`` on an empty database with its default past
(2,000 members) and no simulator, so what the trends show is the seeded past, and the stored
events are the referee.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from layouts.kpi import BOARD_TILES, TILE_TRENDS
from tests.conftest import LiveServer, wait_until

TZ = dt.timezone(dt.timedelta(hours=8))  # Asia/Shanghai: no daylight saving


@pytest.fixture(scope="module")
def past_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("trends") / "trends.db", ["--no-simulate"], demo_members=2000, history_days=None).start()
    yield server
    server.stop()


def open_page(browser: Any, server: LiveServer, path: str) -> Any:
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(server.url + path, wait_until="load")
    wait_until(page, "window.lianxinLive && window.lianxinLive.frames >= 1", timeout_s=60)
    return page


def bars(page: Any, tile: str) -> list[dict[str, Any]]:
    """The bars of a tile's trend: each one's count (None where hidden) and whether it is marked partial."""
    return page.evaluate(
        """(tile) => Array.from(document.querySelectorAll('#trend-' + tile + ' rect')).map(r => ({
               count: r.getAttribute('data-count') === '' ? null : Number(r.getAttribute('data-count')),
               height: Number(r.getAttribute('height')),
               partial: r.classList.contains('partial')}))""",
        tile,
    )


def stored_per_day(server: LiveServer) -> list[int]:
    """Events per local day of the last 30 days, oldest first, from the database itself."""
    today = dt.datetime.now(TZ).date()
    days = [today - dt.timedelta(days=d) for d in range(29, -1, -1)]
    with sqlite3.connect(server.db_url.removeprefix("sqlite:///")) as conn:
        stamps = [ts for (ts,) in conn.execute("SELECT ts_ms FROM events")]
    counts = {d: 0 for d in days}
    for ts in stamps:
        day = dt.datetime.fromtimestamp(ts / 1000, TZ).date()
        if day in counts:
            counts[day] += 1
    return [counts[d] for d in days]


def test_every_kpi_board_tile_has_a_trend_from_the_first_frame(past_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    page = open_page(browser, past_server, f"/kpi?token={past_server.admin_token}")
    try:
        for tile in BOARD_TILES:
            drawn = bars(page, tile)
            expected = 60 if TILE_TRENDS[tile] == "events_trend" else 30
            assert len(drawn) == expected, (tile, len(drawn))
            assert [b["partial"] for b in drawn] == [False] * (expected - 1) + [True], tile
            assert all(b["count"] is not None and b["count"] >= 0 for b in drawn), tile
            title = page.get_attribute(f"#trend-{tile}", "title")
            assert title, tile
        # A real past behind the daily trends: the activity of every whole day of the default past,
        # the active members of most days.
        assert all(b["count"] > 0 for b in bars(page, "events_today")[:-1])
        assert sum(b["count"] > 0 for b in bars(page, "active_today")[:-1]) >= 25
        assert sum(b["count"] for b in bars(page, "dues_rate")) > 0
        assert sum(b["count"] for b in bars(page, "three_meetings")) > 0
    finally:
        page.close()


def test_wall_shows_30_days_beside_the_last_hour_from_the_first_frame(past_server: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    page = open_page(browser, past_server, f"/?token={past_server.admin_token}")
    try:
        daily = bars(page, "events_today")
        assert len(daily) == 30
        # The counts drawn are the stored events per day; the whole days are never a drop to zero,
        # and today, still counting, is marked partial (drawn pale), not drawn as a finished day.
        assert [b["count"] for b in daily] == stored_per_day(past_server)
        assert all(b["count"] > 0 and b["height"] > 0 for b in daily[:-1])
        assert daily[-1]["partial"] and not any(b["partial"] for b in daily[:-1])
        minutes = bars(page, "events_per_min")
        assert len(minutes) == 60 and minutes[-1]["partial"] and not any(b["partial"] for b in minutes[:-1])
        # The two trends sit side by side in the tile row, each inside its tile.
        boxes = page.evaluate(
            """() => ['events_today', 'events_per_min'].map(t => {
                   const tile = document.getElementById('tile-' + t).getBoundingClientRect();
                   const trend = document.getElementById('trend-' + t).getBoundingClientRect();
                   return {tile: [tile.left, tile.top, tile.right, tile.bottom], trend: [trend.left, trend.top, trend.right, trend.bottom]};
               })"""
        )
        for box in boxes:
            left, top, right, bottom = box["tile"]
            t_left, t_top, t_right, t_bottom = box["trend"]
            assert left <= t_left < t_right <= right and top <= t_top < t_bottom <= bottom and t_bottom - t_top >= 12
        assert abs(boxes[0]["trend"][1] - boxes[1]["trend"][1]) < 1 and boxes[0]["tile"][2] <= boxes[1]["tile"][0]
    finally:
        page.close()
