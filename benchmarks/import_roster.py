"""Importing a million-member roster into an empty database, against the seed writing the same data in the same run.

Run: ``python benchmarks/import_roster.py [--members N]``. Prints one JSON object.

* ``seed_seconds``: ``seed_demo`` of N members into a fresh SQLite file (schema
  migrated first), in a child process — generating the organisation and writing
  its organisations, members (with the recruitment pipeline), links and groups.
* The seeded database is then exported to CSV in the import format (Chinese
  headers and labels, as a committee's spreadsheets would be); ``export_seconds``.
* ``import_seconds``: ``run_import`` of orgs.csv, members.csv and links.csv into a
  fresh SQLite file (schema migrated first), in a child process: sniffing the
  encoding, reading, checking every cell and every rule, planning against the
  (empty) store and writing everything in one transaction, CHECK constraints on.
* ``ratio`` = import / seed in wall-clock time (target ≤ 3); ``cpu_ratio`` the
  same in CPU time of the two children (``time.process_time``), which a machine
  busy with other work disturbs less.
* ``reimport_seconds``: the same files again into the now full database —
  every row compared with the stored one, nothing to write.
* ``baseline_seconds``: ``pandas.read_csv`` of members.csv plus a plain
  ``executemany`` of its rows into a table without indexes or constraints, the
  least any CSV import could cost; ``import_vs_baseline`` = import / baseline.
* ``*_peak_rss_mb``: each child's own peak resident memory (target < 2 GB for the import).
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


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_seed(database: Path, members: int) -> dict:
    from dashboard.demo.seed import seed_demo
    from dashboard.store.engine import open_store

    engine = open_store(f"sqlite:///{database}")
    started, cpu = time.perf_counter(), time.process_time()
    summary = seed_demo(engine, members=members, seed=1)
    return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu, "rows": summary,
            "peak_mb": _peak_mb()}


def child_import(database: Path, directory: Path) -> dict:
    from dashboard.store.engine import open_store
    from dashboard.transfer.importer import ImportFiles, run_import

    engine = open_store(f"sqlite:///{database}")
    files = ImportFiles(directory / "orgs.csv", directory / "members.csv", directory / "links.csv")
    started, cpu = time.perf_counter(), time.process_time()
    outcome = run_import(engine, files)
    return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu, "summary": outcome.summary(),
            "problems": outcome.plan.report.lines()[:5], "peak_mb": _peak_mb()}


def child_export(database: Path, directory: Path) -> dict:
    from dashboard.store.engine import open_store
    from dashboard.transfer.export import export_subtree

    started = time.perf_counter()
    summary = export_subtree(open_store(f"sqlite:///{database}"), directory, formats=("csv",))
    return {"seconds": time.perf_counter() - started, "rows": summary["rows"]}


def child(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def baseline(members_csv: Path, database: Path) -> float:
    """pandas.read_csv of the roster and a plain executemany of its rows, with the store's pragmas."""
    import pandas as pd

    conn = sqlite3.connect(database)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "temp_store=MEMORY", "cache_size=-65536"):
        conn.execute(f"PRAGMA {pragma}")
    started = time.perf_counter()
    frame = pd.read_csv(members_csv, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    names = [f"c{i}" for i in range(len(frame.columns))]
    conn.execute(f"CREATE TABLE members (id INTEGER PRIMARY KEY, {', '.join(names)})")
    marks = ", ".join("?" for _ in names)
    conn.executemany(f"INSERT INTO members ({', '.join(names)}) VALUES ({marks})", frame.itertuples(index=False, name=None))
    conn.commit()
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *paths = args.child
        if kind == "seed":
            result = child_seed(Path(paths[0]), args.members)
        elif kind == "export":
            result = child_export(Path(paths[0]), Path(paths[1]))
        else:
            result = child_import(Path(paths[0]), Path(paths[1]))
        print(json.dumps(result, ensure_ascii=False))
        return
    with tempfile.TemporaryDirectory(prefix="lianxin-import-bench-") as tmp:
        work = Path(tmp)
        seeded = child("--members", str(args.members), "--child", "seed", str(work / "seed.db"))
        exported = child("--child", "export", str(work / "seed.db"), str(work / "files"))
        imported = child("--child", "import", str(work / "import.db"), str(work / "files"))
        again = child("--child", "import", str(work / "import.db"), str(work / "files"))
        base = baseline(work / "files" / "members.csv", work / "baseline.db")
        sizes = {p.name: p.stat().st_size for p in (work / "files").iterdir()}
    if imported["problems"]:
        raise SystemExit(f"the import was refused: {imported['problems']}")
    summary = imported["summary"]
    print(json.dumps({
        "members": args.members,
        "member_rows": summary["members"]["added"],
        "organisations": summary["organisations"]["added"],
        "links": summary["links"]["added"],
        "csv_mb": round(sum(sizes.values()) / 1e6, 1),
        "seed_seconds": round(seeded["seconds"], 2),
        "export_seconds": round(exported["seconds"], 2),
        "import_seconds": round(imported["seconds"], 2),
        "ratio": round(imported["seconds"] / seeded["seconds"], 2),
        "seed_cpu_seconds": round(seeded["cpu"], 2),
        "import_cpu_seconds": round(imported["cpu"], 2),
        "cpu_ratio": round(imported["cpu"] / seeded["cpu"], 2),
        "reimport_seconds": round(again["seconds"], 2),
        "reimport_changes": again["summary"]["changes"],
        "baseline_seconds": round(base, 2),
        "import_vs_baseline": round(imported["seconds"] / base, 2),
        "import_rows_per_s": round((summary["members"]["added"] + summary["organisations"]["added"]) / imported["seconds"]),
        "seed_peak_rss_mb": round(seeded["peak_mb"]),
        "import_peak_rss_mb": round(imported["peak_mb"]),
        "reimport_peak_rss_mb": round(again["peak_mb"]),
    }))


if __name__ == "__main__":
    main()
