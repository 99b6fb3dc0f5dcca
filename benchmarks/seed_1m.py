"""Seeding a million members into SQLite, against a plain bulk insert of the same rows.

Run: ``python benchmarks/seed_1m.py [--members N]``. Prints one JSON object.

* ``seed_seconds``: ``seed_demo`` into a fresh SQLite file (schema already
  migrated), in a child process, everything included: generating the
  organisation, the organisations, members, links and member groups, the
  table's indexes and constraints, the commit.
* ``baseline_seconds``: ``executemany`` of as many rows as the seed writes to
  ``members`` (members + applicants, activists and development targets), of
  the same 13 columns and the same widths (distinct codes, names and phones,
  like the seed's), into a fresh SQLite file with the store's pragmas and a
  plain table (integer primary key, no other index or constraint), plus the
  commit. Rows are built before the clock starts.
* ``ratio`` = seed / baseline (target ≤ 3, goal 2).
* ``seed_peak_rss_mb``: the seeding child's peak resident memory
  (``getrusage(RUSAGE_CHILDREN).ru_maxrss``; target < 1.5 GB).
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MEMBER_COLUMNS = (
    "id", "code", "name", "org_id", "stage", "gender", "ethnicity", "birth_year", "education", "occupation", "post",
    "join_date", "phone",
)


def child_seed(database: Path, members: int) -> None:
    """In the child: migrate, then time seed_demo alone; print its summary as JSON."""
    from dashboard.demo.seed import seed_demo
    from dashboard.store.engine import open_store

    engine = open_store(f"sqlite:///{database}")
    started = time.perf_counter()
    summary = seed_demo(engine, members=members, seed=1)
    summary["timed_seconds"] = time.perf_counter() - started
    print(json.dumps(summary))


def run_seed(database: Path, members: int) -> tuple[dict, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(database), "--members", str(members)],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return json.loads(out.stdout.strip().splitlines()[-1]), peak_kb / 1024


def baseline(database: Path, rows: int) -> float:
    """Plain executemany of ``rows`` member-shaped rows, with the store's pragmas."""
    data = [
        (i, f"M{i:07d}", f"王{chr(0x4E00 + i % 20000)}{chr(0x4E00 + i // 20000)}", 1 + i // 30, "full", "M", "Han",
         1980, "bachelor", "professional", None, "2005-07-01", f"1990000{i % 10000:04d}")
        for i in range(1, rows + 1)
    ]
    conn = sqlite3.connect(database)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "temp_store=MEMORY", "cache_size=-65536"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute(f"CREATE TABLE members (id INTEGER PRIMARY KEY, {', '.join(MEMBER_COLUMNS[1:])})")
    marks = ", ".join("?" for _ in MEMBER_COLUMNS)
    started = time.perf_counter()
    conn.executemany(f"INSERT INTO members ({', '.join(MEMBER_COLUMNS)}) VALUES ({marks})", data)
    conn.commit()
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_seed(args.child, args.members)
        return
    with tempfile.TemporaryDirectory(prefix="lianxin-seed-bench-") as tmp:
        summary, peak_mb = run_seed(Path(tmp) / "seed.db", args.members)
        member_rows = (
            summary["members"] + summary["applicants"] + summary["activists"] + summary["development_targets"]
        )
        base = baseline(Path(tmp) / "baseline.db", member_rows)
    seed_seconds = summary["timed_seconds"]
    print(json.dumps({
        "members": args.members,
        "member_rows": member_rows,
        "organisations": summary["organisations"],
        "seed_seconds": round(seed_seconds, 2),
        "baseline_seconds": round(base, 2),
        "ratio": round(seed_seconds / base, 2),
        "seed_rows_per_s": round((member_rows + summary["organisations"]) / seed_seconds),
        "baseline_rows_per_s": round(member_rows / base),
        "seed_peak_rss_mb": round(peak_mb),
    }))


if __name__ == "__main__":
    main()
