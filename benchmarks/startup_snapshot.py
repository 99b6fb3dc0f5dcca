"""Start-up time against stored history: a full rebuild, against a snapshot plus the events after it.

Run: ``python benchmarks/startup_snapshot.py [--members 1000000] [--events 2000000] [--days 90] [--tail 20000]``.
Prints one JSON object.

Builds a SQLite store: the demo organisation of ``--members`` (``seed_demo``)
and ``--events`` events spread over the last ``--days`` days (study with
points, logins, reads, likes, dues, branch meetings), written with one
``executemany`` before any clock starts. Then, each time as ``python app.py
--no-simulate`` in its own process, the seconds from launch until
``/api/ready`` answers 200 (imports, tree, live state, Dash, the port):

* ``rebuild_s``: no snapshot — the live state is rebuilt from every event
  (today's path before snapshots). The server writes its first snapshot right
  after; it is then stopped cleanly (which writes a last one).
* ``tail`` events are appended (what arrives between a snapshot and a crash).
* ``snapshot_s``: the same store — the live state restored from the snapshot
  plus the ``tail`` events.
* ``rebuild_again_s``: the snapshots deleted, the same store rebuilt in full
  (the baseline of the ratio, measured after the snapshot start so the file
  cache favours neither).
* ``ratio`` = snapshot_s / rebuild_again_s; ``snapshot_bytes`` the snapshot's size.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard.demo.seed import seed_demo  # noqa: E402
from dashboard.store.engine import open_store  # noqa: E402

TIMEOUT_S = 1800.0


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_events(db: Path, n: int, days: int, first_seq: int, seed: int) -> None:
    """``n`` events over the last ``days`` days, appended after ``first_seq``."""
    rng = random.Random(seed)
    conn = sqlite3.connect(db)
    members = [r for r in conn.execute("SELECT id, org_id FROM members WHERE stage IN ('full', 'probationary')")]
    branches = [r[0] for r in conn.execute("SELECT id FROM organisations WHERE kind = 'branch'")]
    now_ms = int(time.time() * 1000)
    span = days * 86_400_000
    rows = []
    for i in range(n):
        seq = first_seq + i + 1
        ts = now_ms - int(span * rng.random() ** 1.3)
        r = rng.random()
        if r < 0.002:
            org = rng.choice(branches)
            rows.append((seq, f"b-{seq}", "meeting_held", ts, org, None, json.dumps({"kind": rng.choice(["branch_general", "branch_committee", "group", "party_lecture"])})))
            continue
        member, org = rng.choice(members)
        if r < 0.35:
            kind, data = "study", {"points": rng.randint(1, 10), "minutes": 20, "title": "学习"}
        elif r < 0.6:
            kind, data = "login", {}
        elif r < 0.85:
            kind, data = "article_read", {"title": "文章"}
        elif r < 0.97:
            kind, data = "like", {}
        else:
            month = time.strftime("%Y-%m", time.localtime(ts / 1000))
            kind, data = "dues_paid", {"amount": 10.0, "month": month}
        rows.append((seq, f"b-{seq}", kind, ts, org, member, json.dumps(data)))
    conn.executemany("INSERT INTO events (seq, event_id, type, ts_ms, org_id, member_id, data) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()


def time_to_ready(db_url: str, log_path: Path) -> tuple[float, subprocess.Popen[bytes]]:
    port = free_port()
    with open(log_path, "ab") as log:
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "--no-simulate", "--port", str(port), "--database-url", db_url],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    while time.monotonic() - started < TIMEOUT_S:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/ready", timeout=5).status_code == 200:
                return time.monotonic() - started, proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server was not ready in time")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(120)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--members", type=int, default=1_000_000)
    p.add_argument("--events", type=int, default=2_000_000)
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--tail", type=int, default=20_000)
    a = p.parse_args()
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        db = Path(tmp) / "startup.db"
        db_url = f"sqlite:///{db}"
        engine = open_store(db_url)
        t = time.monotonic()
        seed_demo(engine, members=a.members, seed=1, force=False, progress=False)
        engine.dispose()
        write_events(db, a.events, a.days, 0, seed=2)
        prepared_s = time.monotonic() - t
        log = Path(tmp) / "server.log"

        rebuild_s, proc = time_to_ready(db_url, log)
        while "live snapshot at seq" not in log.read_text(errors="replace"):  # its first snapshot, in the background
            time.sleep(0.2)
        stop(proc)
        write_events(db, a.tail, 1, a.events, seed=3)

        snapshot_s, proc = time_to_ready(db_url, log)
        restored = re.findall(r"restored from the snapshot at seq (\d+) plus (\d+) events", log.read_text(errors="replace"))
        stop(proc)
        conn = sqlite3.connect(db)
        snapshot_bytes = conn.execute("SELECT max(length(state)) FROM live_snapshots").fetchone()[0]
        conn.execute("DELETE FROM live_snapshots")
        conn.commit()
        conn.close()

        rebuild_again_s, proc = time_to_ready(db_url, log)
        stop(proc)
        text = log.read_text(errors="replace")
    print(json.dumps({
        "members": a.members,
        "events": a.events + a.tail,
        "days": a.days,
        "prepared_s": round(prepared_s, 1),
        "rebuild_s": round(rebuild_s, 2),
        "snapshot_s": round(snapshot_s, 2),
        "rebuild_again_s": round(rebuild_again_s, 2),
        "ratio": round(snapshot_s / rebuild_again_s, 3),
        "restored_from": restored[-1] if restored else None,
        "snapshot_bytes": snapshot_bytes,
        "live_state_lines": re.findall(r"live state (?:restored|rebuilt)[^\n]*", text),
        "load_avg": os.getloadavg(),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
