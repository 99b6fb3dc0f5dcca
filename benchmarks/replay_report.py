"""Replay throughput and the monthly report, on a demo organisation with a month of stored history.

    python benchmarks/replay_report.py [--members 1000000] [--events-per-hour 1000] [--day-steps 150] [--history-from 2026-10-25]

A fresh SQLite store: ``seed_demo`` of ``--members`` members, then history from 2026-10-25 to
2026-12-01 written by the live simulator's model (tests/history_support.py). Prints one JSON object:

* ``replay_events_per_s``: a ``HistoryState`` replaying 2026-11-30 in steps of ``--day-steps``
  seconds of history (150 s = one 4 Hz step at 600×), read from the store and applied, each
  step's events published to the frame publisher (feed, pulses) and followed by its tick for the root
  scope — what a replaying screen costs; ``ms_per_step`` and ``events_per_step`` with it.
* ``live_apply_events_per_s`` (baseline, same run): the live aggregator's ``apply`` on the same
  day's events in batches of 1000, already in memory (ingest hands it committed batches).
* ``fast_forward_events_per_s``: reaching the day from nothing (members loaded, every earlier
  event read in time order and applied in chunks of 20,000) — the start of every replay and report.
* ``day_at_600x_needs_s`` = 144 (a day at 600×) against ``day_replay_s``: the replay keeps up while
  the second is smaller.
* ``report_s``: ``make_report`` of the whole tree for 2026-11 as PDF, everything included;
  ``charts_alone_s``: ``render_report`` of the same figures (drawing and writing only);
  ``report_over_charts`` their ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard.access.scopes import Scope  # noqa: E402
from dashboard.demo.seed import seed_demo  # noqa: E402
from dashboard.live.aggregator import Aggregator  # noqa: E402
from dashboard.live.aggregator.replay import read_members  # noqa: E402
from dashboard.live.bus import InProcessBus  # noqa: E402
from dashboard.live.history import HistoryState, iter_events_by_time  # noqa: E402
from dashboard.live.publisher import FramePublisher  # noqa: E402
from dashboard.report.figures import build_report  # noqa: E402
from dashboard.report.make import make_report  # noqa: E402
from dashboard.report.period import parse_period  # noqa: E402
from dashboard.report.render import render_report  # noqa: E402
from dashboard.store.engine import open_store  # noqa: E402
from dashboard.store.names import MemberDirectory  # noqa: E402
from dashboard.store.tree import OrgTree  # noqa: E402
from tests.history_support import TZ, write_history  # noqa: E402

HISTORY_TO = dt.datetime(2026, 12, 1, 6, tzinfo=TZ)
DAY = dt.datetime(2026, 11, 30, tzinfo=TZ)


def ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000, help="demo members to seed")
    parser.add_argument("--events-per-hour", type=int, default=1000, help="history written per hour of the past")
    parser.add_argument("--day-steps", type=float, default=150.0, help="seconds of history per replay step")
    parser.add_argument("--history-from", type=dt.date.fromisoformat, default=dt.date(2026, 10, 25),
                        help="first day of the history written (the monthly report is of November)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="lx-replay-bench-"))
    engine = open_store(f"sqlite:///{folder / 'bench.db'}")
    started = time.perf_counter()
    seed_demo(engine, members=args.members, seed=1)
    history_from = dt.datetime.combine(args.history_from, dt.time(0), tzinfo=TZ)
    events = write_history(engine, history_from, HISTORY_TO, args.events_per_hour, batch=50)
    setup_s = time.perf_counter() - started
    tree = OrgTree.load(engine)
    root = tree.root
    assert root is not None

    # Reaching the day: every earlier event in large chunks (what a replay or a report does first).
    t0 = time.perf_counter()
    at, end = ms(DAY), ms(DAY + dt.timedelta(days=1)) - 1
    history = HistoryState(engine, tree, TZ, ms(DAY), horizon_ms=end)  # as a replay of the day opens it
    history.advance_to(ms(DAY))
    forward_s, forward_events = time.perf_counter() - t0, history.applied

    # Replay of one day, step by step, with a publisher tick after each step.
    bus = InProcessBus()
    publisher = FramePublisher(tree, history.aggregator, bus, MemberDirectory(engine), clock=lambda: history.now_ms / 1000)
    publisher.attach(Scope(root.id, "full"))
    before, t0, steps = history.applied, time.perf_counter(), 0
    while at < end:
        at = min(end, at + int(args.day_steps * 1000))
        bus.publish(history.advance_to(at))  # as a ReplaySession's step: the feed and the pulses see them
        publisher.tick()
        steps += 1
    day_replay_s = time.perf_counter() - t0
    day_events = history.applied - before

    # Baseline: the live aggregator applying the same day's events, in memory, batches of 1000.
    day = [e for batch in iter_events_by_time(engine, None, end) for e in batch if e.ts_ms >= ms(DAY)]
    live = Aggregator(tree, clock=lambda: end / 1000, tz=TZ)
    live.upsert_members(read_members(engine))
    t0 = time.perf_counter()
    for i in range(0, len(day), 1000):
        live.apply(day[i : i + 1000])
    live_s = time.perf_counter() - t0

    # The monthly report, whole tree, and the same charts drawn alone.
    out = folder / "month.pdf"
    now_ms = ms(dt.datetime(2026, 12, 2, 9, tzinfo=TZ))
    t0 = time.perf_counter()
    make_report(engine, root.code, "2026-11", out, TZ, tree=tree, now_ms=now_ms)
    report_s = time.perf_counter() - t0
    report = build_report(engine, tree, root.code, parse_period("2026-11"), TZ, "full", now_ms)
    t0 = time.perf_counter()
    render_report(report, folder / "charts.pdf")
    charts_s = time.perf_counter() - t0

    print(json.dumps({
        "benchmark": "replay_report", "members": args.members, "organisations": len(tree), "history_events": events,
        "setup_s": round(setup_s, 1), "day_events": day_events, "day_replay_s": round(day_replay_s, 2),
        "replay_events_per_s": round(day_events / day_replay_s),
        "steps": steps, "ms_per_step": round(1000 * day_replay_s / steps, 2), "events_per_step": round(day_events / steps, 1), "live_apply_events_per_s": round(len(day) / live_s),
        "replay_over_live": round((day_events / day_replay_s) / (len(day) / live_s), 3),
        "fast_forward_events": forward_events, "fast_forward_s": round(forward_s, 2),
        "fast_forward_events_per_s": round(forward_events / forward_s),
        "fast_forward_over_live": round((forward_events / forward_s) / (len(day) / live_s), 3),
        "day_at_600x_needs_s": 144, "report_s": round(report_s, 2), "charts_alone_s": round(charts_s, 2),
        "report_over_charts": round(report_s / charts_s, 2), "pdf_kb": round(out.stat().st_size / 1024),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }))


if __name__ == "__main__":
    main()
