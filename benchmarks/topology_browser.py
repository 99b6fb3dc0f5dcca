"""/topology in headless Chromium at a million members: first render, and long tasks under live pulses.

Starts ``python app.py`` on a seeded store (``python -m dashboard seed --members
1000000 --database-url sqlite:////tmp/x/big.db``) twice:

1. quiet (``--no-simulate``): the first render of ``/topology`` — from
   navigation to the organisation nodes drawn — ``--renders`` times, each in a
   fresh page (the browser's cache kept, as a returning screen has it); the
   baseline in the same run is the wall (``/``), whose topology panel is the
   same figure, compact, among the map and the charts; then the page's long
   tasks over ``--quiet-seconds`` with no events (the baseline for phase 2);
2. live (``--rate`` events/s from the built-in simulator): the long tasks of
   ``/topology`` over ``--seconds`` of pulses (PerformanceObserver
   ``longtask``: every task over 50 ms; the target is none over 100 ms),
   with the pulses and recolourings the page handled, the time the topology's
   own script took (in all, and its longest call per part: pulse mapping,
   ripple drawing, health decoding, recolouring), the event rate the server
   saw, and the nodes drawn; then the baseline in the same run: the same page,
   server and event rate for as long, with the topology's frame handlers
   never registered (no pulses, no recolouring; the frames still arrive).

    python benchmarks/topology_browser.py --database-url sqlite:////tmp/x/big.db [--seconds 60] [--rate 2000]

Prints one JSON object. Needs Debian's Chromium (/usr/bin/chromium) and Playwright.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("LIANXIN_CHROMIUM", "/usr/bin/chromium")
ADMIN = "bench-admin-" + uuid.uuid4().hex
LONGTASKS = """
window.__longtasks = [];
new PerformanceObserver((list) => list.getEntries().forEach((e) => window.__longtasks.push(e.duration)))
    .observe({type: 'longtask', buffered: true});
"""
WITHOUT_TOPOLOGY = """
(function () {
  let frames;
  Object.defineProperty(window, 'lianxinFrames', {
    configurable: true,
    get: () => frames,
    set: (v) => {
      const on = v.on;
      v.on = (key, fn) => (key.startsWith('topo_') ? undefined : on(key, fn));
      frames = v;
    },
  });
})();
"""
NODES = "() => document.querySelector('#topology-graph .js-plotly-plot').data.find(t => t.name === 'nodes').x.length"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, database_url: str, args: list[str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, str(ROOT / "app.py"), "--public", "--port", str(self.port), "--database-url", database_url, *args]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "LIANXIN_ADMIN_TOKEN": ADMIN}, stdout=log.open("ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited with {self.proc.returncode}; see {log}")
            try:
                if httpx.get(self.url + "/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            self.stop()
            raise SystemExit(f"server did not start within 300 s; see {log}")
        time.sleep(3)  # let the background analysis finish before measuring pages

    def events_per_min(self) -> int:
        return int(httpx.get(self.url + "/api/snapshot", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10).json()["events_per_min"])

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def first_render(browser: Browser, url: str, selector: str) -> float:
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    started = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_selector(selector, timeout=60_000)
    seconds = time.perf_counter() - started
    page.close()
    return seconds


def watch(browser: Browser, url: str, seconds: float, topology: bool = True) -> dict[str, Any]:
    """Open ``url``, wait until it is live, then collect its long tasks for ``seconds``; without
    ``topology`` the page's topology handlers are never registered (the frames still arrive)."""
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    if not topology:
        page.add_init_script(WITHOUT_TOPOLOGY)
    page.goto(url, wait_until="load")
    page.wait_for_selector("#topology-graph .scatterlayer .trace", timeout=60_000)
    page.wait_for_selector("#conn-state.live", timeout=60_000)
    page.evaluate(LONGTASKS)
    before = page.evaluate("() => ({...window.lianxinTopology, ripples: undefined})")
    time.sleep(seconds)
    after = page.evaluate("() => ({...window.lianxinTopology, ripples: undefined})")
    tasks = page.evaluate("() => window.__longtasks")
    drawn = page.evaluate(NODES)
    page.close()
    return {
        "longtasks_over_50ms": len(tasks),
        "longtasks_over_100ms": sum(1 for d in tasks if d > 100),
        "longest_task_ms": round(max(tasks, default=0.0), 1),
        "pulse_frames": after["pulseFrames"] - before["pulseFrames"],
        "pulses_drawn": after["pulsed"] - before["pulsed"],
        "health_frames": after["healthFrames"] - before["healthFrames"],
        "recolourings": after["restyles"] - before["restyles"],
        "topology_script_ms": round(after["busyMs"] - before["busyMs"]),
        "topology_longest_call_ms": {k: round(v, 1) for k, v in after["longestMs"].items()},
        "nodes_drawn": drawn,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url", required=True)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--quiet-seconds", type=float, default=20)
    p.add_argument("--rate", type=float, default=2000)
    p.add_argument("--renders", type=int, default=3)
    p.add_argument("--log", type=Path, default=Path("/tmp/topology_browser_bench.log"))
    a = p.parse_args()

    result: dict[str, Any] = {"benchmark": "topology_browser"}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        server = Server(a.database_url, ["--no-simulate"], a.log)
        try:
            topology = [first_render(browser, server.url + "/topology", "#topology-graph .scatterlayer .trace") for _ in range(a.renders)]
            wall = [first_render(browser, server.url + "/", "#topology-graph .scatterlayer .trace") for _ in range(a.renders)]
            result["organisations"] = int(httpx.get(server.url + "/api/health", timeout=10).json()["organisations"])
            result.update(
                first_render_s=round(statistics.median(topology), 2),
                first_render_runs_s=[round(s, 2) for s in topology],
                baseline_wall_first_render_s=round(statistics.median(wall), 2),
                ratio_vs_wall=round(statistics.median(topology) / statistics.median(wall), 2),
                target_first_render_s=2.0,
            )
            result["quiet"] = {"seconds": a.quiet_seconds, **watch(browser, server.url + "/topology", a.quiet_seconds)}
        finally:
            server.stop()
        server = Server(a.database_url, ["--rate", str(a.rate)], a.log)
        try:
            live = watch(browser, server.url + "/topology", a.seconds)
            result["live"] = {"seconds": a.seconds, "rate_asked": a.rate, "events_per_s_seen": round(server.events_per_min() / 60), **live}
            baseline = watch(browser, server.url + "/topology", a.seconds, topology=False)
            result["baseline_live_without_topology_handlers"] = {
                "seconds": a.seconds, "events_per_s_seen": round(server.events_per_min() / 60), **baseline
            }
        finally:
            server.stop()
        browser.close()
    result["target_longest_task_ms"] = 100
    result["drawn_limit"] = 2000
    print(json.dumps(result))


if __name__ == "__main__":
    main()
