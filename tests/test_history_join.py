"""The live feed continues the seeded past (issue 14): the same pace where they join, and the past's
open transfers, this month's dues and this period's meetings taken up, not started again.

A real seeded SQLite store, the real runtime (rebuild, ingestor, writer) and the demo's own feed
(``LiveSimulator``) on a clock that starts where the past ended and runs 60 times faster than the
wall clock; every figure is read from the stored events' timestamps, never from wall time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import Counter
from pathlib import Path

import orjson
from sqlalchemy import Engine, text

from dashboard.demo.past import PastState
from dashboard.demo.seed import seed_demo
from dashboard.demo.simulator import SHANGHAI
from dashboard.runtime.core import Runtime
from dashboard.runtime.demo_feed import LiveSimulator
from dashboard.settings import Settings
from dashboard.store.engine import open_store

# A Wednesday morning: the past ends at 10:00, the feed runs its first half hour.
PAST_END = dt.datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI).timestamp()
START_GAP_S = 20.0  # seeding and start-up took this long: the feed owes these seconds first
LIVE_S = 1800.0
SPEED = 60.0
DAY_MS = 86_400_000
# The stated bound (docs/simulator.md): the first live half hour's events per minute are within
# 0.67–1.5 times the last seeded hour's.
JOIN_LOW, JOIN_HIGH = 0.67, 1.5


class FastClock:
    """Starts START_GAP_S after the past's end and runs SPEED times faster than the wall clock."""

    def __init__(self) -> None:
        self.origin = time.monotonic()

    def __call__(self) -> float:
        return PAST_END + START_GAP_S + (time.monotonic() - self.origin) * SPEED


def rows(engine: Engine, sql: str, **params: object) -> list[tuple]:  # type: ignore[type-arg]
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params).all()]


def run_feed(tmp_path: Path) -> tuple[Engine, LiveSimulator, PastState]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'join.db'}", simulate=False)
    engine = open_store(settings.database_url)
    seed_demo(engine, members=30_000, seed=5, history_days=40, now=PAST_END, detail_days=15)
    past = PastState.load(engine, PAST_END)
    runtime = Runtime.start(settings, engine)
    clock = FastClock()

    async def half_an_hour() -> LiveSimulator:
        simulator = LiveSimulator(runtime, rate=None, seed=8, clock=clock)
        task = asyncio.create_task(simulator.run())
        while clock() < PAST_END + START_GAP_S + LIVE_S:
            await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return simulator

    try:
        simulator = asyncio.run(asyncio.wait_for(half_an_hour(), timeout=300))
    finally:
        runtime.close()
    return engine, simulator, past


def test_live_feed_continues_the_past(tmp_path: Path) -> None:
    engine, simulator, past = run_feed(tmp_path)
    end_ms = int(PAST_END * 1000)
    assert simulator.rejected == 0 and simulator.dropped <= 0.05 * simulator.sent  # drops only if ticks come > 1 s late
    assert simulator.pace is not None and simulator.caught_up > 0

    # No step where they join, on event timestamps: the live half hour against the last seeded hour
    # (the events owed for the start-up gap count: they are stamped inside it).
    count = "SELECT COUNT(*) FROM events WHERE event_id LIKE :ids AND ts_ms >= :lo AND ts_ms < :hi"
    live = rows(engine, count, ids="sim-%", lo=end_ms, hi=end_ms + int(LIVE_S * 1000))[0][0]
    last_hour = rows(engine, count, ids="hist-%", lo=end_ms - 3_600_000, hi=end_ms)[0][0]
    assert last_hour > 120, "the test needs a past busy enough to measure"
    assert JOIN_LOW <= (live / (LIVE_S / 60)) / (last_hour / 60) <= JOIN_HIGH, (live, last_hour)

    # Away from the join, the rate is the past's density at that hour: tomorrow (a Thursday) at
    # 14:30 it is the average of 14–15 h over the working days of the 14 days before, from the store.
    assert simulator.pace is not None
    weekdays = [PAST_END - d * DAY_MS / 1000 for d in range(1, 15)]
    weekdays = [day for day in weekdays if dt.datetime.fromtimestamp(day, SHANGHAI).weekday() < 5]
    at_14 = [rows(engine, "SELECT COUNT(*) FROM events WHERE ts_ms >= :lo AND ts_ms < :hi",
                  lo=int((day + 4 * 3600) * 1000), hi=int((day + 5 * 3600) * 1000))[0][0] for day in weekdays]  # fmt: skip
    expected = sum(at_14) / len(at_14) / 3600
    assert abs(simulator.rate_at(PAST_END + DAY_MS / 1000 + 4.5 * 3600) - expected) <= 1e-6 * expected
    # No gap where the feed started: every minute from the past's end on has events.
    minutes = Counter(ts // 60_000 for (ts,) in rows(engine, "SELECT ts_ms FROM events WHERE ts_ms >= :lo AND ts_ms < :hi",
                                                      lo=end_ms, hi=end_ms + 600_000))  # fmt: skip
    assert len(minutes) == 10, sorted(minutes)

    sim = rows(engine, "SELECT type, member_id, org_id, data FROM events WHERE event_id LIKE 'sim-%'")
    data = [(kind, member, org, orjson.loads(d) if d else {}) for kind, member, org, d in sim]

    # Transfers the past left open proceed; those open for over 30 days stay open (overdue).
    stalled = {t.code for t in past.transfers if PAST_END - t.opened > 30 * 86_400}
    moving = {t.code for t in past.transfers} - stalled
    stepped = {d.get("transfer") for kind, _, _, d in data if kind.startswith("transfer_")}
    assert moving and stepped & moving, "no transfer of the past moved on"
    assert not stepped & stalled

    # This month's payers do not pay again; meetings held this period are not held again.
    code_of = dict(rows(engine, "SELECT id, code FROM members"))
    paid_again = {code_of[m] for kind, m, _, d in data if kind == "dues_paid" and d.get("month") == "2026-11"} & past.dues_paid
    assert past.dues_paid and not paid_again
    month_start = dt.datetime(2026, 11, 1, tzinfo=SHANGHAI).timestamp()
    held = {(org, kind) for org, kind, epoch in past.meetings if epoch >= month_start and kind in ("branch_committee", "themed_day", "group")}
    again = {(org, d.get("kind")) for kind, _, org, d in data if kind == "meeting_held"} & held
    assert held and not again
