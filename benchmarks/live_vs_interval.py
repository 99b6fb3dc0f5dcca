"""Websocket push against the classic dcc.Interval page, side by side on one server and one feed.

One server (benchmarks/interval_server.py: Lianxin plus a ``/bench-interval``
page polling every second over HTTP), a 50,000-member demo, the simulator in
the background. Two phases in one run, each with N screens for S seconds:

- push: N headless screens on the wall's websocket stream (dashboard.live.screen_client);
- interval: N pollers doing what a browser does for a dcc.Interval(1 s) page —
  POST /_dash-update-component every second.

During each phase a notice is sent every 2 s; a screen's latency for it is the
time from sending until the screen first holds it (in a frame for push, in a
poll's answer for interval). Server CPU is read from /proc per phase.

    python benchmarks/live_vs_interval.py --screens 100 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ingest_harness import Server  # noqa: E402
from benchmarks.live_fanout import percentile, start_simulator  # noqa: E402
from dashboard.live.screen_client import ScreenClient, find_ticket, page_layout, stream_callback_id  # noqa: E402

POLL_BODY = {
    "output": "bench-data.data",
    "outputs": {"id": "bench-data", "property": "data"},
    "inputs": [{"id": "bench-tick", "property": "n_intervals", "value": 0}],
    "changedPropIds": ["bench-tick.n_intervals"],
    "state": [],
}


async def send_notices(server: Server, top: str, seconds: float, sent: dict[str, float]) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        end = time.monotonic() + seconds - 3
        await asyncio.sleep(2)
        while time.monotonic() < end:
            title = f"bench-{uuid.uuid4().hex[:10]}"
            event = {"id": uuid.uuid4().hex, "type": "notice", "org": top, "data": {"title": title, "ttl_s": 60}}
            sent[title] = time.time() * 1000
            await client.post(f"{server.url}/api/events", json=[event], headers={"Authorization": f"Bearer {server.token}"})
            await asyncio.sleep(2)


def latencies(sent: dict[str, float], sightings: list[dict[str, float]]) -> list[float]:
    return [seen[title] - t0 for seen in sightings for title, t0 in sent.items() if title in seen]


async def push_phase(server: Server, top: str, screens: int, seconds: float) -> dict[str, float]:
    ticket = find_ticket(await page_layout(server.url))
    callback = await stream_callback_id(server.url)
    clients = [ScreenClient(server.url, ticket, callback) for _ in range(screens)]
    sent: dict[str, float] = {}
    cpu0, t0 = server.cpu_seconds(), time.monotonic()
    await asyncio.gather(send_notices(server, top, seconds, sent), *(c.run(seconds) for c in clients))
    cpu, wall = server.cpu_seconds() - cpu0, time.monotonic() - t0
    sightings = []
    for c in clients:
        seen: dict[str, float] = {}
        for frame, at in zip(c.frames, c.received_ms):
            for notice in frame.get("kpi", {}).get("notices", []):
                seen.setdefault(notice["title"], at)
        sightings.append(seen)
    return summary("push", screens, wall, cpu, latencies(sent, sightings))


async def poller(client: httpx.AsyncClient, url: str, stop_at: float, seen: dict[str, float]) -> None:
    await asyncio.sleep(random.random())  # browsers load at different moments
    n = 0
    while time.monotonic() < stop_at:
        started = time.monotonic()
        body = {**POLL_BODY, "inputs": [{**POLL_BODY["inputs"][0], "value": n}]}
        r = await client.post(f"{url}/_dash-update-component", json=body)
        at = time.time() * 1000
        for title in r.json()["response"]["bench-data"]["data"]["notices"]:
            seen.setdefault(title, at)
        n += 1
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - started)))


async def interval_phase(server: Server, top: str, screens: int, seconds: float) -> dict[str, float]:
    sent: dict[str, float] = {}
    sightings: list[dict[str, float]] = [{} for _ in range(screens)]
    limits = httpx.Limits(max_connections=screens, max_keepalive_connections=screens)
    cpu0, t0 = server.cpu_seconds(), time.monotonic()
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        stop_at = time.monotonic() + seconds
        await asyncio.gather(send_notices(server, top, seconds, sent), *(poller(client, server.url, stop_at, s) for s in sightings))
    cpu, wall = server.cpu_seconds() - cpu0, time.monotonic() - t0
    return summary("interval_1s", screens, wall, cpu, latencies(sent, sightings))


def summary(mode: str, screens: int, wall: float, cpu: float, lat: list[float]) -> dict[str, float]:
    return {
        "mode": mode,
        "screens": screens,
        "latency_ms_p50": round(percentile(lat, 0.5), 1),
        "latency_ms_p95": round(percentile(lat, 0.95), 1),
        "samples": len(lat),
        "server_cpu_percent": round(100 * cpu / wall, 1),
        "server_cpu_ms_per_screen_per_s": round(1000 * cpu / wall / screens, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--screens", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--members", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Server(Path(tmp), args.members, script=ROOT / "benchmarks" / "interval_server.py") as server:
        sim = start_simulator(server, args.rate, 2 * args.seconds + 60)
        try:
            top = httpx.get(f"{server.url}/api/snapshot").json()["org"]
            time.sleep(3)
            push = asyncio.run(push_phase(server, top, args.screens, args.seconds))
            interval = asyncio.run(interval_phase(server, top, args.screens, args.seconds))
        finally:
            sim.terminate()
            sim.wait(20)
    print(json.dumps({
        "benchmark": "live_vs_interval",
        "background_events_per_s": args.rate,
        "push": push,
        "interval": interval,
        "latency_p50_ratio_interval_to_push": round(interval["latency_ms_p50"] / push["latency_ms_p50"], 2),
        "cpu_per_screen_ratio_interval_to_push": round(interval["server_cpu_ms_per_screen_per_s"] / push["server_cpu_ms_per_screen_per_s"], 2),
    }))


if __name__ == "__main__":
    main()
