"""PostgreSQL ingest with 1, 2 and 4 ingest processes against a plain multi-row INSERT and COPY, same rows, same run.

Issue 13 asks how the events table takes concurrent writers. Each "Lianxin"
run starts K processes that do what an ingest process does with a frame of
500 events: check them (EventChecker: catalogue, organisation, member) and
write them in one transaction with the idempotent multi-row ``INSERT … ON
CONFLICT (key_hash) DO NOTHING RETURNING seq, event_id`` (EventWriter). The
baselines write the same rows, already checked, from one process: a plain
multi-row ``INSERT … ON CONFLICT DO NOTHING`` (no RETURNING) and ``COPY``,
each one transaction per 500 rows, into the same table with the same unique
index (emptied before every run). What is not in it: HTTP or websocket
framing, JSON parsing of the frame and the Redis publish (see
benchmarks/ingest_batch.py and cluster_latency.py for those).

    python benchmarks/cluster_ingest.py [--events 40000] [--processes 1,2,4] [--frame 500]

Prints one JSON object: events/s of each run, the ratios to the INSERT and
COPY baselines, the client CPU per event, and the load average before and
after. On a shared, loaded machine only the ratios within one run mean much.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text

from dashboard.demo.seed import seed_demo
from dashboard.ingest.ingestor import EVENT_COLUMNS, EventChecker, EventWriter, MemberIndex, Row
from dashboard.store.engine import open_store
from dashboard.store.tree import OrgTree

POSTGRES = os.environ.get("LIANXIN_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def events_for(engine: Any, n: int, tag: str) -> list[dict[str, Any]]:
    """``n`` study events spread over the members of the demo (each member's own branch)."""
    with engine.connect() as conn:
        members = conn.execute(text("SELECT m.code, o.code FROM members m JOIN organisations o ON o.id = m.org_id")).all()
    return [{"id": f"{tag}-{i}", "type": "study", "org": members[i % len(members)][1], "member": members[i % len(members)][0],
             "data": {"points": 1, "title": "学习"}} for i in range(n)]


def ingest_worker(url: str, events: list[dict[str, Any]], frame: int, start: Any, done: Any) -> None:
    engine = create_engine(url, pool_size=1)
    checker = EventChecker(OrgTree.load(engine), MemberIndex.load(engine))
    writer = EventWriter(engine)
    start.wait()
    cpu = time.process_time()
    for at in range(0, len(events), frame):
        rows, rejected = checker.check(events[at:at + frame], int(time.time() * 1000), None)
        assert not rejected, rejected[:1]
        writer.write([rows])
    done.put(time.process_time() - cpu)
    engine.dispose()


def run_lianxin(url: str, events: list[dict[str, Any]], processes: int, frame: int) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    start, done = ctx.Event(), ctx.Queue()
    share = -(-len(events) // processes)
    procs = [ctx.Process(target=ingest_worker, args=(url, events[i * share:(i + 1) * share], frame, start, done)) for i in range(processes)]
    for proc in procs:
        proc.start()
    time.sleep(3)  # each loads the tree and the member index before the clock starts
    began = time.perf_counter()
    start.set()
    cpu = sum(done.get(timeout=3600) for _ in procs)
    seconds = time.perf_counter() - began
    for proc in procs:
        proc.join()
    return {"events_per_s": len(events) / seconds, "seconds": seconds, "client_cpu_us_per_event": cpu / len(events) * 1e6}


def checked_rows(engine: Any, events: list[dict[str, Any]], frame: int) -> list[list[Row]]:
    checker = EventChecker(OrgTree.load(engine), MemberIndex.load(engine))
    return [checker.check(events[at:at + frame], int(time.time() * 1000), None)[0] for at in range(0, len(events), frame)]


def run_insert(engine: Any, frames: list[list[Row]]) -> float:
    mark = "(" + ", ".join(["%s"] * len(EVENT_COLUMNS)) + ")"
    began = time.perf_counter()
    for rows in frames:
        sql = f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES " + ", ".join([mark] * len(rows)) + " ON CONFLICT (key_hash) DO NOTHING"
        with engine.begin() as conn:
            conn.exec_driver_sql(sql, tuple(v for row in rows for v in row.values))
    return sum(len(r) for r in frames) / (time.perf_counter() - began)


def run_copy(engine: Any, frames: list[list[Row]]) -> float:
    began = time.perf_counter()
    raw = engine.raw_connection()
    try:
        for rows in frames:
            with raw.cursor() as cur, cur.copy(f"COPY events ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row.values)
            raw.commit()
    finally:
        raw.close()
    return sum(len(r) for r in frames) / (time.perf_counter() - began)


def empty(engine: Any) -> None:
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE events"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=40_000)
    p.add_argument("--processes", default="1,2,4")
    p.add_argument("--frame", type=int, default=500)
    p.add_argument("--members", type=int, default=5_000)
    a = p.parse_args()
    schema = "lx_bench_" + uuid.uuid4().hex[:10]
    admin = create_engine(POSTGRES)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    load_before = os.getloadavg()
    try:
        engine = open_store(url)
        seed_demo(engine, members=a.members, seed=1, history_days=0)
        out: dict[str, Any] = {"events": a.events, "frame": a.frame, "runs": {}}
        rows = checked_rows(engine, events_for(engine, a.events, "base"), a.frame)
        empty(engine)
        insert = run_insert(engine, rows)
        empty(engine)
        copy = run_copy(engine, rows)
        out["baseline_events_per_s"] = {"insert_on_conflict": round(insert), "copy": round(copy)}
        for k in (int(x) for x in a.processes.split(",")):
            empty(engine)
            run = run_lianxin(url, events_for(engine, a.events, f"p{k}-{uuid.uuid4().hex[:6]}"), k, a.frame)
            with engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM events")).scalar_one() == a.events
            out["runs"][f"{k}_processes"] = {
                "events_per_s": round(run["events_per_s"]),
                "ratio_to_insert": round(run["events_per_s"] / insert, 3),
                "ratio_to_copy": round(run["events_per_s"] / copy, 3),
                "client_cpu_us_per_event": round(run["client_cpu_us_per_event"], 1),
            }
        out["cores"] = os.cpu_count()
        out["load_average_before"] = [round(x, 2) for x in load_before]
        out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        out["bench_cpu_s"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_utime, 1)
        engine.dispose()
        print(json.dumps(out, ensure_ascii=False))
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
