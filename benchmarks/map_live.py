"""The live map under 2,000 events/s: the size of the map's part of each frame, and long browser tasks.

A fresh demo organisation (``python app.py --no-simulate``), fed by
``python -m dashboard simulate --rate 2000`` in another process. For 60 s:

* on the wire: a headless screen speaking Dash's websocket protocol
  (dashboard/live/screen_client.py) streams ``/map``'s scope and records every
  frame; for each, the bytes of its map keys (``map_*``, compact JSON, as the
  server serialises them) and of the whole websocket message. (Chromium's
  CDP ``Network.webSocketFrameReceived`` does not see these: Dash runs its
  websocket in a worker.) Baseline: the region figure the page was first
  given, i.e. what re-sending the map would cost.
* in the page: ``/map`` open in headless Chromium at 1920×1080; every task
  over 50 ms (PerformanceObserver ``longtask``), and from a Chromium trace of
  the same minute the thread CPU time of every task of the page's main thread
  (a loaded machine deschedules the renderer mid-task, which stretches the
  tasks' wall time but not the work in them). Baseline, same browser and feed,
  right after: the KPI board ``/kpi``, the same frames with no map.

    python benchmarks/map_live.py [--rate 2000] [--seconds 60] [--members 50000]

Targets: a map update under 5 KB; no task over 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from ingest_harness import ROOT, Server
from map_harness import chromium, summary, wait_until

from dashboard.live.screen_client import ScreenClient, find_ticket, page_layout, stream_callback_id

LONG_TASKS = """
window.__longTasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]);
}).observe({ type: "longtask", buffered: true });
"""


def map_part_bytes(frame: dict[str, Any]) -> int | None:
    parts = {k: v for k, v in frame.get("kpi", {}).items() if k.startswith("map_")}
    return len(json.dumps(parts, separators=(",", ":"), ensure_ascii=False).encode()) if parts else None


def screen_in_background(url: str, seconds: float) -> tuple[threading.Thread, list[ScreenClient]]:
    """A headless screen of /map's scope streaming for ``seconds`` in a thread of its own."""
    done: list[ScreenClient] = []

    async def run() -> None:
        ticket = find_ticket(await page_layout(url, "/map"))
        client = ScreenClient(url, ticket, await stream_callback_id(url))
        done.append(await client.run(seconds))

    thread = threading.Thread(target=lambda: asyncio.run(run()), daemon=True)
    thread.start()
    return thread, done


def long_tasks(browser: Any, url: str, seconds: float, ready: str, trace: Path) -> tuple[list[float], list[float]]:
    """Wall times of the page's long tasks, and thread CPU times (ms) of its main thread's tasks."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    try:
        context.add_init_script(LONG_TASKS)
        page = context.new_page()
        page.goto(url, wait_until="load")
        wait_until(page, ready)
        page.wait_for_timeout(3000)
        start = page.evaluate("() => performance.now()")
        browser.start_tracing(page=page, path=str(trace), categories=["toplevel"])
        page.wait_for_timeout(seconds * 1000)
        browser.stop_tracing()
        return [d for s, d in page.evaluate("() => window.__longTasks") if s >= start], main_thread_cpu_ms(trace)
    finally:
        context.close()


def main_thread_cpu_ms(trace: Path) -> list[float]:
    data = json.loads(trace.read_text())
    events = data["traceEvents"] if isinstance(data, dict) else data
    main = {(e["pid"], e["tid"]) for e in events if e.get("ph") == "M" and e.get("name") == "thread_name" and e["args"].get("name") == "CrRendererMain"}
    return [e["tdur"] / 1000 for e in events
            if (e.get("pid"), e.get("tid")) in main and e.get("ph") == "X" and e.get("name") == "ThreadControllerImpl::RunTask" and "tdur" in e]


def task_summary(measured: tuple[list[float], list[float]], seconds: float) -> dict[str, float]:
    tasks, cpu = measured
    return {
        "over_50ms": len(tasks),
        "over_100ms": sum(1 for d in tasks if d > 100),
        "longest_ms": round(max(tasks, default=0.0), 1),
        "per_minute_over_50ms": round(len(tasks) * 60 / seconds, 1),
        "main_thread_cpu_longest_task_ms": round(max(cpu, default=0.0), 1),
        "main_thread_cpu_tasks_over_50ms": sum(1 for d in cpu if d > 50),
        "main_thread_cpu_share": round(sum(cpu) / 1000 / seconds, 3),
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rate", type=float, default=2000)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--members", type=int, default=50_000)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as work, Server(Path(work), a.members) as server:
        producer = subprocess.Popen(
            [sys.executable, "-m", "dashboard", "simulate", "--url", f"ws://127.0.0.1:{server.port}/ws/ingest",
             "--rate", str(a.rate), "--duration", str(2 * a.seconds + 30), "--token", server.token,
             "--database-url", f"sqlite:///{server.db_path}"],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
        )
        time.sleep(5)
        with chromium() as browser:
            context = browser.new_context(viewport={"width": 1920, "height": 1080})
            page = context.new_page()
            page.goto(server.url + "/map", wait_until="load")
            wait_until(page, "window.lianxinMap && window.lianxinMap.ready")
            figure_bytes = page.evaluate("() => new Blob([JSON.stringify({data: window.lianxinMap.gd.data, layout: window.lianxinMap.gd.layout})]).size")
            context.close()
            thread, screens = screen_in_background(server.url, a.seconds + 5)
            map_tasks = long_tasks(browser, server.url + "/map", a.seconds, "window.lianxinMap && window.lianxinMap.ready && document.querySelector('#conn-state.live')", Path(work) / "map.trace")
            thread.join(60)
            rate = httpx.get(server.url + "/api/snapshot", timeout=30).json()["events_per_min"] / 60
            board_tasks = long_tasks(browser, server.url + "/kpi", a.seconds, "!!document.querySelector('#conn-state.live')", Path(work) / "kpi.trace")
        producer.terminate()
        producer.wait(30)
    frames = [f for f in screens[0].frames if not f.get("heartbeat")] if screens else []
    sizes = [b for f in frames[1:] if (b := map_part_bytes(f)) is not None]  # the first is the full state
    messages = [float(n) for f, n in zip(screens[0].frames, screens[0].frame_bytes) if not f.get("heartbeat")][1:] if screens else []
    by_key: dict[str, int] = {}
    for f in frames[1:]:
        for key, value in f.get("kpi", {}).items():
            if key.startswith("map_"):
                by_key[key] = max(by_key.get(key, 0), len(json.dumps(value, separators=(",", ":")).encode()))
    map_sizes = summary([float(b) for b in sizes]) if sizes else {}
    print(json.dumps({
        "benchmark": "map_live",
        "seconds": a.seconds,
        "rate_asked": a.rate,
        "events_per_s_at_end": round(rate),
        "frames": len(frames),
        "frames_with_map_update": len(sizes),
        "map_update_bytes": map_sizes,
        "map_key_max_bytes": by_key,
        "message_bytes": summary(messages) if messages else {},
        "figure_bytes_baseline": figure_bytes,
        "ratio_map_update_max_to_figure": round(map_sizes.get("max", 0) / figure_bytes, 4),
        "long_tasks_map": task_summary(map_tasks, a.seconds),
        "long_tasks_kpi_board_baseline": task_summary(board_tasks, a.seconds),
        "target_map_update_bytes": 5000,
        "target_longest_task_ms": 100,
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
