"""First render of ``/map`` in headless Chromium with a 1,000,000-member organisation, beside an empty Dash page.

Seeds the organisation once into a file (``python -m dashboard seed``; reused by
later runs), starts ``python app.py --no-simulate`` on it, and serves an empty
Dash page (same Dash, FastAPI and uvicorn) from another process. Each load is
in a fresh browser context (cold cache, as a screen that boots) at 1920×1080;
the two pages alternate. Rendered means: for ``/map`` every region drawn by
Plotly and the overlay ready (legend, counter, the live layer); for the empty
page its one ``div`` in the DOM. The time is ``performance.now()`` at the first
animation frame where that holds, i.e. from the start of navigation.

    python benchmarks/map_first_render.py [--members 1000000] [--runs 5]

Target: /map within 1.5 s of the empty page.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

import httpx
from ingest_harness import ROOT, Server
from map_harness import BIG_DB, chromium, empty_dash_page, seeded_database, summary, wait_until

# Runs in every page from its start: notes the first animation frame at which ``ready()`` holds.
PROBE = """
(() => {
  const ready = () => %s;
  const look = () => { if (ready()) { window.__renderedAt = performance.now(); } else { requestAnimationFrame(look); } };
  requestAnimationFrame(look);
})();
"""
MAP_READY = (
    "document.querySelectorAll('#map-graph .scatterlayer .trace').length >= %d"
    " && window.lianxinMap && window.lianxinMap.ready && !!document.querySelector('#map-graph .map-legend')"
)
EMPTY_READY = "!!document.getElementById('empty-ready')"


def render_ms(browser: Any, url: str, ready: str) -> float:
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    try:
        context.add_init_script(PROBE % ready)
        page = context.new_page()
        page.goto(url, wait_until="commit")
        wait_until(page, "window.__renderedAt !== undefined", 120)
        return float(page.evaluate("() => window.__renderedAt"))
    finally:
        context.close()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--members", type=int, default=1_000_000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--database", type=Path, default=BIG_DB)
    a = p.parse_args()
    db = seeded_database(a.database, a.members)
    with tempfile.TemporaryDirectory() as work, Server(Path(work), a.members, db_path=db) as server, empty_dash_page() as empty_url:
        regions = len(json.loads((ROOT / "data/regions/china-provinces.geojson").read_text())["features"])
        map_ready = MAP_READY % regions
        with chromium() as browser:
            render_ms(browser, server.url + "/map", map_ready)  # warm the server's own caches once
            render_ms(browser, empty_url, EMPTY_READY)
            maps, empties = [], []
            for _ in range(a.runs):
                empties.append(render_ms(browser, empty_url, EMPTY_READY))
                maps.append(render_ms(browser, server.url + "/map", map_ready))
        members = httpx.get(server.url + "/api/snapshot", timeout=30).json()["members"]
    extra = statistics.median(maps) - statistics.median(empties)
    print(json.dumps({
        "benchmark": "map_first_render",
        "members": members,
        "runs": a.runs,
        "map_ms": summary(maps),
        "empty_dash_page_ms": summary(empties),
        "extra_ms_median": round(extra, 1),
        "ratio_median": round(statistics.median(maps) / statistics.median(empties), 2),
        "target_extra_ms": 1500,
        "met": extra <= 1500,
    }))


if __name__ == "__main__":
    main()
