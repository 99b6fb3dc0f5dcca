"""Fan-out: one server process feeding N screens at 4 Hz over Dash's websocket.

The server runs ``python app.py`` on a fresh 50,000-member demo; the
simulator (``python -m dashboard simulate``, another process) keeps every
frame busy. Each screen is a ``dashboard.screen_client.ScreenClient``: it
speaks Dash's websocket-callback protocol exactly as a page does (start the
persistent callback, answer the scope and acknowledgement requests) without
rendering. For each N in ``--screens``, in one run: frame lag (client receive
time − the frame's server time), frames per screen per second, frame size,
and the server's CPU per screen.

    python benchmarks/live_fanout.py --screens 100,300 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ingest_harness import Server  # noqa: E402
from dashboard.screen_client import ScreenClient, find_ticket, page_layout, stream_callback_id  # noqa: E402


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


async def fan_out(server: Server, screens: int, seconds: float) -> dict[str, float]:
    ticket = find_ticket(await page_layout(server.url))
    callback = await stream_callback_id(server.url)
    clients = [ScreenClient(server.url, ticket, callback) for _ in range(screens)]
    cpu0, t0 = server.cpu_seconds(), time.monotonic()
    await asyncio.gather(*(c.run(seconds) for c in clients))
    cpu, wall = server.cpu_seconds() - cpu0, time.monotonic() - t0
    warm = [lag for c in clients for lag in c.lags_ms[2:]]  # skip the full first frames
    sizes = [size for c in clients for size in c.frame_bytes[1:]]
    frames = sum(len(c.frames) for c in clients)
    return {
        "screens": screens,
        "seconds": round(wall, 1),
        "frames_per_screen_per_s": round(frames / screens / wall, 2),
        "lag_ms_p50": round(percentile(warm, 0.5), 1),
        "lag_ms_p95": round(percentile(warm, 0.95), 1),
        "lag_ms_p99": round(percentile(warm, 0.99), 1),
        "frame_bytes_mean": round(statistics.fmean(sizes)) if sizes else 0,
        "first_frame_bytes": clients[0].frame_bytes[0] if clients[0].frame_bytes else 0,
        "server_cpu_percent": round(100 * cpu / wall, 1),
        "server_cpu_ms_per_screen_per_s": round(1000 * cpu / wall / screens, 3),
        "screens_without_frames": sum(1 for c in clients if not c.frames),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--screens", default="100,300", help="comma-separated screen counts, run one after another")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per screen count")
    parser.add_argument("--rate", type=float, default=500.0, help="simulated events per second in the background")
    parser.add_argument("--members", type=int, default=50_000)
    args = parser.parse_args()
    counts = [int(n) for n in args.screens.split(",")]
    with tempfile.TemporaryDirectory() as tmp, Server(Path(tmp), args.members) as server:
        total = len(counts) * (args.seconds + 10) + 30
        sim = start_simulator(server, args.rate, total)
        try:
            time.sleep(3)
            runs = [asyncio.run(fan_out(server, n, args.seconds)) for n in counts]
        finally:
            sim.terminate()
            sim.wait(20)
        print(json.dumps({"benchmark": "live_fanout", "background_events_per_s": args.rate, "frame_hz": 4, "runs": runs}))


if __name__ == "__main__":
    main()
