"""Fan-out: one server process feeding N screens at 4 Hz over Dash's websocket.

The server runs ``python app.py`` on a fresh 50,000-member demo; the
simulator (``python -m dashboard simulate``, another process) keeps every
frame busy. Most screens are ``dashboard.live.screen_client.ScreenClient``s: they
speak Dash's websocket-callback protocol exactly as a page does (start the
persistent callback, answer the scope and acknowledgement requests) without
rendering, spread over ``--processes`` client processes so that no one
Python client is the limit. ``--browsers`` more are headless Chromium pages
on the wall, each recording the lag of every frame it takes. For each N in
``--screens`` (browsers included), in one run: frame lag (receive time − the
frame's server time) for the light clients and for the pages, frames per
screen per second, frame size, and the server's CPU per screen.

    python benchmarks/live_fanout.py --screens 100,300 --seconds 20 --browsers 5 [--no-ws-compression]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ingest_harness import Server  # noqa: E402
from benchmarks.map_harness import chromium  # noqa: E402
from dashboard.live.screen_client import ScreenClient, find_ticket, page_layout, stream_callback_id  # noqa: E402

# Every frame's lag as the page takes it (conn-state's data-lag-ms is set once per frame).
RECORD_LAGS = """() => {
  window.__lags = [];
  const c = document.getElementById('conn-state');
  new MutationObserver(() => window.__lags.push(Number(c.getAttribute('data-lag-ms'))))
    .observe(c, {attributes: true, attributeFilter: ['data-lag-ms']});
}"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def start_simulator(server: Server, rate: float, seconds: float) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable, "-m", "dashboard", "simulate", "--url", f"ws://127.0.0.1:{server.port}/ws/ingest",
        "--rate", str(rate), "--duration", str(seconds), "--batch", "200", "--token", server.token,
        "--database-url", f"sqlite:///{server.db_path}",
    ]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _screens(url: str, ticket: str, callback: str, count: int, seconds: float) -> dict[str, Any]:
    """One client process: ``count`` screens for ``seconds``; what they saw (first two frames of each left out)."""

    async def run() -> list[ScreenClient]:
        clients = [ScreenClient(url, ticket, callback) for _ in range(count)]
        await asyncio.gather(*(c.run(seconds) for c in clients))
        return clients

    clients = asyncio.run(run())
    return {
        "lags": [lag for c in clients for lag in c.lags_ms[2:]],
        "sizes": [size for c in clients for size in c.frame_bytes[1:]],
        "frames": sum(len(c.frames) for c in clients),
        "first_frame_bytes": next((c.frame_bytes[0] for c in clients if c.frame_bytes), 0),
        "without_frames": sum(1 for c in clients if not c.frames),
    }


def _warm(_: int) -> None:
    time.sleep(1.0)


def fan_out(
    server: Server, pool: ProcessPoolExecutor, stream: tuple[str, str], processes: int, light: int, pages: list[Any], seconds: float
) -> dict[str, Any]:
    """``light`` protocol screens over ``processes`` processes beside the open ``pages``, for ``seconds``."""
    ticket, callback = stream
    shares = [light // processes + (1 if i < light % processes else 0) for i in range(processes)]
    for page in pages:
        page.evaluate("() => { window.__lags.length = 0; }")
    cpu0, t0 = server.cpu_seconds(), time.monotonic()
    jobs = [pool.submit(_screens, server.url, ticket, callback, n, seconds) for n in shares if n]
    parts = [job.result() for job in jobs]
    cpu, wall = server.cpu_seconds() - cpu0, time.monotonic() - t0
    page_lags = [lag for page in pages for lag in page.evaluate("() => window.__lags.slice(2)")]
    lags = [lag for part in parts for lag in part["lags"]]
    sizes = [size for part in parts for size in part["sizes"]]
    screens = light + len(pages)
    everyone = lags + page_lags
    return {
        "screens": screens,
        "light_clients": light,
        "client_processes": len(jobs),
        "chromium_pages": len(pages),
        "seconds": round(wall, 1),
        "frames_per_light_screen_per_s": round(sum(p["frames"] for p in parts) / max(light, 1) / wall, 2),
        "lag_ms_p50": round(percentile(everyone, 0.5), 1),
        "lag_ms_p95": round(percentile(everyone, 0.95), 1),
        "lag_ms_p99": round(percentile(everyone, 0.99), 1),
        "light_lag_ms_p95": round(percentile(lags, 0.95), 1),
        "chromium_lag_ms_p50": round(percentile(page_lags, 0.5), 1),
        "chromium_lag_ms_p95": round(percentile(page_lags, 0.95), 1),
        "chromium_frames_per_page_per_s": round(len(page_lags) / max(len(pages), 1) / wall, 2),
        "frame_bytes_mean": round(statistics.fmean(sizes)) if sizes else 0,
        "first_frame_bytes": next((p["first_frame_bytes"] for p in parts if p["first_frame_bytes"]), 0),
        "server_cpu_percent": round(100 * cpu / wall, 1),
        "server_cpu_ms_per_screen_per_s": round(1000 * cpu / wall / screens, 3),
        "screens_without_frames": sum(p["without_frames"] for p in parts),
    }


def open_pages(browser: Any, url: str, count: int) -> list[Any]:
    pages = []
    for _ in range(count):
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(url, wait_until="load")
        page.wait_for_selector("#conn-state.live", timeout=60_000)
        page.evaluate(RECORD_LAGS)
        pages.append(page)
    return pages


@contextmanager
def chromium_or_none(count: int) -> Iterator[Any]:
    """Headless Chromium when ``count`` > 0, else None; closed on exit."""
    if not count:
        yield None
        return
    with chromium() as browser:
        yield browser


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--screens", default="100,300", help="comma-separated screen counts (browsers included), run one after another")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per screen count")
    parser.add_argument("--rate", type=float, default=2000.0, help="simulated events per second in the background")
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--processes", type=int, default=2, help="client processes the light screens are spread over")
    parser.add_argument("--browsers", type=int, default=5, help="of the screens, how many are Chromium pages on the wall")
    parser.add_argument("--path", default="/", help="the page the Chromium screens show")
    parser.add_argument("--no-ws-compression", action="store_true", help="run the server with --no-ws-compression")
    args = parser.parse_args()
    counts = [int(n) for n in args.screens.split(",")]
    with (
        tempfile.TemporaryDirectory() as tmp,
        Server(Path(tmp), args.members, ("--no-ws-compression",) if args.no_ws_compression else ()) as server,
        ProcessPoolExecutor(args.processes, mp_context=multiprocessing.get_context("spawn")) as pool,
    ):
        list(pool.map(_warm, range(args.processes)))  # every client process started and imported before any clock
        sim = start_simulator(server, args.rate, len(counts) * (args.seconds + 15) + 120)
        try:
            # Before Chromium: Playwright's sync API keeps an event loop running in this thread.
            stream = (find_ticket(asyncio.run(page_layout(server.url))), asyncio.run(stream_callback_id(server.url)))
            runs = []
            with chromium_or_none(args.browsers) as browser:
                pages = open_pages(browser, server.url + args.path, args.browsers) if browser else []
                time.sleep(3)
                for n in counts:
                    runs.append(fan_out(server, pool, stream, args.processes, max(0, n - len(pages)), pages, args.seconds))
        finally:
            sim.terminate()
            sim.wait(20)
        print(json.dumps({
            "benchmark": "live_fanout", "background_events_per_s": args.rate, "frame_hz": 4,
            "ws_compression": not args.no_ws_compression, "runs": runs,
        }))


if __name__ == "__main__":
    main()
