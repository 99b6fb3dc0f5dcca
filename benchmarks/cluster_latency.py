"""Event → screen latency through Redis across two processes, against the in-process path, in one run.

Three servers on one PostgreSQL (each on a schema of its own): a cluster of
two (``--redis-url``, same database) and a lone one. Each ingesting server
runs its built-in simulator at ``--rate`` events/s as background load. A
headless screen (dashboard/live/screen_client.py) is attached to the
cluster's *second* process and to the lone one; ``--notices`` notices are
posted one by one to the cluster's *first* process and to the lone one; the
latency of each is from just before its POST to the arrival of the first
frame that carries its title (a notice kicks a frame at once, so the frame
rate's coalescing is not in it). Same machine, same clock.

    python benchmarks/cluster_latency.py --notices 40 --rate 200

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import redis
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.live_fanout import percentile  # noqa: E402
from dashboard.live.redis_bus import stream_key  # noqa: E402
from dashboard.live.screen_client import ScreenClient, find_ticket, page_layout, stream_callback_id  # noqa: E402
from tests.conftest import POSTGRES_URL, REDIS_URL, LiveServer  # noqa: E402


def _schema_url(schema: str) -> str:
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


def _server(workdir: Path, name: str, url: str, args: list[str]) -> LiveServer:
    server = LiveServer(workdir / f"{name}.db", args, demo_members=2000)
    server.db_url = url
    return server


def _has_title(frame: dict[str, Any], title: str) -> bool:
    return any(n.get("title") == title for n in (frame.get("kpi") or {}).get("notices") or [])


async def _latencies(sender: LiveServer, watcher: LiveServer, root: str, count: int) -> list[float]:
    layout = await page_layout(watcher.url, "/", f"?token={watcher.admin_token}")
    screen = ScreenClient(watcher.url, find_ticket(layout), await stream_callback_id(watcher.url))
    watching = asyncio.create_task(screen.run(600))
    out: list[float] = []
    async with httpx.AsyncClient(timeout=30, headers={"Authorization": f"Bearer {sender.token}"}) as client:
        while not screen.frames:
            await asyncio.sleep(0.02)
        for _ in range(count):
            title = f"bench-{uuid.uuid4().hex[:10]}"
            seen = len(screen.frames)
            sent_ms = time.time() * 1000
            r = await client.post(f"{sender.url}/api/events", json=[{"type": "notice", "org": root, "data": {"title": title, "ttl_s": 60}}])
            r.raise_for_status()
            deadline = time.monotonic() + 30
            while True:
                hit = next((k for k in range(seen, len(screen.frames)) if _has_title(screen.frames[k], title)), None)
                if hit is not None:
                    out.append(screen.received_ms[hit] - sent_ms)
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"notice {title} did not reach the screen within 30 s")
                await asyncio.sleep(0.002)
            await asyncio.sleep(0.2)
    watching.cancel()
    return out


def _summary(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(values, 0.5), 1), "p95_ms": round(percentile(values, 0.95), 1),
            "p99_ms": round(percentile(values, 0.99), 1), "max_ms": round(max(values), 1)}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--notices", type=int, default=40)
    p.add_argument("--rate", type=float, default=200.0, help="background events/s by each ingesting server's simulator")
    a = p.parse_args()
    if not 1 <= a.notices <= 500:
        p.error("--notices must be 1..500")
    schemas = ["lx_bench_" + uuid.uuid4().hex[:10] for _ in range(2)]
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        for schema in schemas:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    cluster_url, lone_url = (_schema_url(s) for s in schemas)
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"cluster-bench-{uuid.uuid4().hex[:8]}"
    workdir.mkdir(parents=True)
    load = ["--rate", str(a.rate)]
    first = _server(workdir, "first", cluster_url, [*load, "--redis-url", REDIS_URL])
    second = _server(workdir, "second", cluster_url, ["--no-simulate", "--redis-url", REDIS_URL])
    lone = _server(workdir, "lone", lone_url, load)
    try:
        first.start(timeout=600)
        second.start(timeout=600)
        lone.start(timeout=600)
        with create_engine(cluster_url).connect() as conn:
            root = conn.execute(text("SELECT code FROM organisations WHERE parent_id IS NULL ORDER BY id LIMIT 1")).scalar_one()
        through_redis = asyncio.run(_latencies(first, second, root, a.notices))
        in_process = asyncio.run(_latencies(lone, lone, root, a.notices))
        redis_p50, local_p50 = percentile(through_redis, 0.5), percentile(in_process, 0.5)
        print(json.dumps({
            "notices": a.notices, "background_rate": a.rate, "load_avg": os.getloadavg()[0],
            "through_redis_two_processes": _summary(through_redis),
            "in_process": _summary(in_process),
            "extra_hop_p50_ms": round(redis_p50 - local_p50, 1),
            "ratio_p50": round(redis_p50 / local_p50, 2),
        }))
    finally:
        for server in (first, second, lone):
            server.stop()
        client = redis.Redis.from_url(REDIS_URL)
        client.delete(stream_key(cluster_url))
        client.close()
        with admin.begin() as conn:
            for schema in schemas:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
