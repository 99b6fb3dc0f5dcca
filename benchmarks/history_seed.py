"""Seeded history: writing D days of past for N members, against a plain SQLite append.

    python benchmarks/history_seed.py --members 1000000 --days 90     # the figure in docs/benchmarks.md
    python benchmarks/history_seed.py --first-start                   # python app.py on an empty database

Write: the organisation and roll are stored first (not timed); then the
history is generated and written through the store's bulk path (timed, CPU
and wall). Baseline, in the same run: the same rows, generated again from the
same seed outside the clock, appended to a fresh database with the same
schema (the events table and its unique key) by a plain ``executemany`` of
one-row INSERTs in one transaction — only the appends are timed. Prints one
JSON line: both times, the ratio, events, and the peak RSS of this process.

First start: ``python app.py --no-simulate`` on an empty database with the
default demo (50,000 members), first without a past (``--history-days 0``,
the baseline) then with the default one, each until ``/api/ready`` answers
200; prints the wall seconds, the server's CPU seconds to that point and
the events it seeded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ingest_harness import _free_port  # noqa: E402
from dashboard.demo.history import DEFAULT_DENSITY, HistoryPlan, history_rows  # noqa: E402
from dashboard.demo.seed import _write_all, generate_demo  # noqa: E402
from dashboard.ingest.ingestor import EVENT_COLUMNS  # noqa: E402
from dashboard.store import bulk  # noqa: E402
from dashboard.store.engine import open_store  # noqa: E402


def _clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def write_history(members: int, days: int, density: float, workdir: Path) -> dict[str, float]:
    now = time.time()
    demo = generate_demo(members, 1)
    engine = open_store(f"sqlite:///{workdir / 'history.db'}")
    with bulk.bulk_writer(engine) as writer:
        _write_all(writer, demo, lambda _n: None)
        writer.commit()
    wall, cpu = _clocks()
    events = 0
    with bulk.bulk_writer(engine) as writer:
        plan = HistoryPlan(demo.orgs, demo.members, days=days, seed=1, now=now, density=density)
        for rows in history_rows(plan):
            writer.write("events", EVENT_COLUMNS, rows)
            events += len(rows)
        writer.commit()
    seed_wall, seed_cpu = time.perf_counter() - wall, time.process_time() - cpu

    baseline_engine = open_store(f"sqlite:///{workdir / 'baseline.db'}")
    raw = baseline_engine.raw_connection()
    cursor = raw.driver_connection.cursor()
    insert = f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})"
    base_wall = base_cpu = 0.0
    plan = HistoryPlan(demo.orgs, demo.members, days=days, seed=1, now=now, density=density)
    for rows in history_rows(plan):
        block = rows.tolist()
        wall, cpu = _clocks()
        cursor.executemany(insert, block)
        base_wall += time.perf_counter() - wall
        base_cpu += time.process_time() - cpu
    wall, cpu = _clocks()
    raw.driver_connection.commit()
    base_wall += time.perf_counter() - wall
    base_cpu += time.process_time() - cpu
    raw.close()
    return {
        "members": members,
        "days": days,
        "density": density,
        "events": events,
        "history_wall_s": round(seed_wall, 1),
        "history_cpu_s": round(seed_cpu, 1),
        "plain_append_wall_s": round(base_wall, 1),
        "plain_append_cpu_s": round(base_cpu, 1),
        "ratio_wall": round(seed_wall / base_wall, 2),
        "ratio_cpu": round(seed_cpu / base_cpu, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_avg": os.getloadavg(),
    }


def first_start(workdir: Path, members: int, history_days: int | None) -> dict[str, object]:
    """``python app.py --no-simulate`` on an empty database until /api/ready; wall seconds and the server's CPU seconds."""
    port = _free_port()
    db = workdir / f"first-{history_days}.db"
    history = [] if history_days is None else ["--history-days", str(history_days)]
    cmd = [sys.executable, str(ROOT / "app.py"), "--no-simulate", "--port", str(port), "--database-url", f"sqlite:///{db}",
           "--demo-members", str(members), *history]  # fmt: skip
    log = workdir / "server.log"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        while time.perf_counter() - started < 900:
            if proc.poll() is not None:
                raise RuntimeError(log.read_text()[-2000:])
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        ready = time.perf_counter() - started
        cpu = _process_cpu(proc.pid)
        events = open_store(f"sqlite:///{db}").connect().exec_driver_sql("SELECT COUNT(*) FROM events").scalar_one()
    finally:
        proc.terminate()
        proc.wait(30)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"history_days": "default" if history_days is None else history_days, "ready_s": round(ready, 1),
            "server_cpu_to_ready_s": cpu, "server_peak_rss_mb": round((after.ru_maxrss or before.ru_maxrss) / 1024),
            "events": events}  # fmt: skip


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--members", type=int, default=1_000_000)
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--density", type=float, default=DEFAULT_DENSITY)
    p.add_argument("--first-start", action="store_true", help="measure python app.py's first start instead")
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="lianxin-history-") as tmp:
        if a.first_start:
            members = 50_000 if a.members == 1_000_000 else a.members
            runs = [first_start(Path(tmp), members, days) for days in (0, None)]
            print(json.dumps({"members": members, "runs": runs, "load_avg": os.getloadavg()}))
        else:
            print(json.dumps(write_history(a.members, a.days, a.density, Path(tmp))))


if __name__ == "__main__":
    main()
