"""First render of the wall (``/``) in headless Chromium with a 1,000,000-member organisation, beside an empty Dash page.

Seeds the organisation once into a file (``python -m dashboard seed``; reused
by later runs), starts ``python app.py --no-simulate`` on it, and serves an
empty Dash page (same Dash, FastAPI and uvicorn, a layout of one ``div``, no
assets) from another process. Each load is in a fresh browser context (cold
cache, as a wall that boots) at 1920×1080; the two pages alternate. Rendered
means, for the wall: the canvas scaled, every region of the map drawn, the
topology drawn, all six structure charts drawn and the KPI tiles filled; for
the empty page: its one ``div`` in the DOM. The time is ``performance.now()``
at the first animation frame where that holds, i.e. from the start of
navigation.

    python benchmarks/wall_first_render.py [--members 1000000] [--runs 5] [--database PATH]

Target: the wall within 2 s of the empty page.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from ingest_harness import ROOT, Server
from map_harness import empty_dash_page, seeded_database
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(ROOT))
from tests.conftest import CHROMIUM, CHROMIUM_ARGS

BIG_DB = Path(tempfile.gettempdir()) / "lianxin-wall-bench" / "big.db"
TARGET_EXTRA_MS = 2000
# Runs in every page from its start: notes the first animation frame at which ``ready()`` holds.
PROBE = """
(() => {
  const ready = () => %s;
  const look = () => { if (ready()) { window.__renderedAt = performance.now(); } else { requestAnimationFrame(look); } };
  requestAnimationFrame(look);
})();
"""
WALL_READY = (
    "document.documentElement.classList.contains('wall-mode')"
    " && document.querySelectorAll('#map-graph .scatterlayer .trace').length >= %d"
    " && !!document.querySelector('#topology-graph .js-plotly-plot .scatterlayer .trace')"
    " && ['gender', 'ethnicity', 'status', 'age', 'education', 'occupation']"
    ".every((c) => !!document.querySelector('#chart-' + c + ' .js-plotly-plot .trace'))"
    " && !!document.getElementById('kpi-members') && document.getElementById('kpi-members').textContent.trim() !== ''"
)
EMPTY_READY = "!!document.getElementById('empty-ready')"


def serve_empty(port: int) -> None:
    import uvicorn
    from dash import Dash, html
    from fastapi import FastAPI

    app = Dash(__name__, server=FastAPI(), assets_folder=tempfile.mkdtemp(prefix="empty-assets-"), update_title=None)
    app.layout = html.Div("empty", id="empty-ready")
    uvicorn.run(app.server, host="127.0.0.1", port=port, log_level="warning")


def render_ms(browser: Any, url: str, ready: str) -> float:
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    try:
        context.add_init_script(PROBE % ready)
        page = context.new_page()
        page.goto(url, wait_until="commit")
        deadline = time.monotonic() + 120
        while page.evaluate("() => window.__renderedAt === undefined"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} not rendered within 120 s")
            page.wait_for_timeout(20)
        return float(page.evaluate("() => window.__renderedAt"))
    finally:
        context.close()


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median": round(statistics.median(ordered), 1), "min": round(ordered[0], 1), "max": round(ordered[-1], 1)}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--members", type=int, default=1_000_000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--database", type=Path, default=BIG_DB)
    a = p.parse_args()
    db = seeded_database(a.database, a.members)
    regions = len(json.loads((ROOT / "data/regions/china-provinces.geojson").read_text())["features"])
    with tempfile.TemporaryDirectory() as work, Server(Path(work), a.members, db_path=db) as server, empty_dash_page(Path(__file__)) as empty_url:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                wall_ready = WALL_READY % regions
                render_ms(browser, server.url + "/", wall_ready)  # warm the server's own caches once
                render_ms(browser, empty_url, EMPTY_READY)
                walls, empties = [], []
                for _ in range(a.runs):
                    empties.append(render_ms(browser, empty_url, EMPTY_READY))
                    walls.append(render_ms(browser, server.url + "/", wall_ready))
            finally:
                browser.close()
        members = httpx.get(server.url + "/api/snapshot", timeout=60).json()["members"]
        organisations = httpx.get(server.url + "/api/health", timeout=60).json()["organisations"]
    extra = statistics.median(walls) - statistics.median(empties)
    print(json.dumps({
        "benchmark": "wall_first_render",
        "members": members,
        "organisations": organisations,
        "runs": a.runs,
        "wall_ms": summary(walls),
        "empty_dash_page_ms": summary(empties),
        "extra_ms_median": round(extra, 1),
        "ratio_median": round(statistics.median(walls) / statistics.median(empties), 2),
        "target_extra_ms": TARGET_EXTRA_MS,
        "met": extra <= TARGET_EXTRA_MS,
    }))


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve-empty"]:
        serve_empty(int(sys.argv[2]))
    else:
        main()
