"""Memory over a long ingest run: the server's RSS while the simulator sends 5,000 events/s for 10 minutes.

A server (``python app.py --no-simulate``, SQLite, 50,000-member demo) in one
process, the simulator (``python -m dashboard simulate``) in another, sending
in frames of 500. Every ``--every`` seconds the server's resident memory,
its asyncio task count and the simulator's progress are sampled. "Flat" is
read two ways, both from this one run: the RSS at the end against the RSS
after the first minute (a ratio), and the slope of a least-squares line
through the samples after the first minute (MB per minute). At the end the
events in the store are counted against what the simulator was told was
accepted: nothing lost, nothing twice.

    python benchmarks/ingest_soak.py [--minutes 10] [--rate 5000] [--every 10]

Prints one JSON object (samples included).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ingest_harness import Server  # noqa: E402


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (minute, value) points, in value per minute."""
    n = len(points)
    if n < 2:
        return float("nan")
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else float("nan")


def stored_events(db_path: Path) -> int:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--rate", type=float, default=5000.0, help="events per second (default %(default)s)")
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    p.add_argument("--members", type=int, default=50_000)
    a = p.parse_args()
    seconds = a.minutes * 60
    with tempfile.TemporaryDirectory() as tmp, Server(Path(tmp), a.members) as server:
        events_before = stored_events(server.db_path)
        cmd = [
            sys.executable, "-m", "dashboard", "simulate", "--url", server.ws_url.split("?")[0],
            "--rate", str(a.rate), "--duration", str(seconds), "--batch", str(a.batch), "--token", server.token,
            "--database-url", f"sqlite:///{server.db_path}",
        ]
        sim = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        samples: list[dict[str, float]] = []
        start = time.monotonic()
        cpu0 = server.cpu_seconds()
        try:
            while sim.poll() is None and time.monotonic() - start < seconds + 120:
                health = httpx.get(server.url + "/api/health", timeout=30).json()
                samples.append({
                    "minute": round((time.monotonic() - start) / 60, 2),
                    "rss_mb": round(server.rss_mb, 1),
                    "tasks": health["tasks"],
                    "stored": stored_events(server.db_path) - events_before,
                })
                time.sleep(a.every)
            out, _ = sim.communicate(timeout=300)
        finally:
            if sim.poll() is None:
                sim.terminate()
                sim.wait(20)
        elapsed = time.monotonic() - start
        cpu = server.cpu_seconds() - cpu0
        summary = json.loads(out.decode().strip().splitlines()[-1])
        stored = stored_events(server.db_path) - events_before
        rss_end = round(server.rss_mb, 1)
    after_first = next(s for s in samples if s["minute"] >= 1.0)
    steady = [(s["minute"], s["rss_mb"]) for s in samples if s["minute"] >= 1.0]
    print(json.dumps({
        "benchmark": "ingest_soak",
        "store": "sqlite",
        "rate_asked": a.rate,
        "batch": a.batch,
        "minutes": round(elapsed / 60, 2),
        "simulator": summary,
        "accepted_per_s": round(summary.get("accepted", 0) / max(elapsed, 1e-9)),
        "stored_events": stored,
        "stored_equals_accepted": stored == summary.get("accepted"),
        "server_cpu_percent": round(100 * cpu / elapsed, 1),
        "rss_mb": {"start": samples[0]["rss_mb"], "after_first_minute": after_first["rss_mb"], "end": rss_end},
        "rss_end_over_first_minute": round(rss_end / after_first["rss_mb"], 3),
        "rss_slope_mb_per_minute_after_first": round(slope_per_minute(steady), 2),
        "tasks": {"after_first_minute": after_first["tasks"], "end": samples[-1]["tasks"]},
        "samples": samples,
    }))


if __name__ == "__main__":
    main()
