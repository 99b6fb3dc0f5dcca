"""Past events in the store, from the live simulator's model, for replay and report tests and benchmarks.

History seeding (``seed --history-days``) is another part's work; these tests put their own past
into the store: the simulator's stream model run on a clock that steps through the past, each event
written with its past timestamp straight into the events table (seq in time order, as history is).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import orjson
import pytest
from sqlalchemy import Engine, insert, select

from dashboard.demo.seed import seed_demo
from dashboard.demo.simulator import Population, StreamModel
from dashboard.store.engine import open_store
from dashboard.store.models import Event, Member
from dashboard.store.tree import OrgTree
from tests.conftest import LiveServer

TZ = ZoneInfo("Asia/Shanghai")
# The replayed day of the live tests: its history runs from the day before to the morning after.
REPLAY_DAY = dt.date(2026, 11, 30)
REPLAY_DAY_START = dt.datetime(2026, 11, 30, tzinfo=TZ)


@dataclass
class StepClock:
    now: float

    def __call__(self) -> float:
        return self.now


def write_history(engine: Engine, start: dt.datetime, end: dt.datetime, events_per_hour: int, seed: int = 3, batch: int = 10) -> int:
    """Store the model's events from ``start`` to ``end`` (aware datetimes); returns how many."""
    tree = OrgTree.load(engine)
    clock = StepClock(start.timestamp())
    model = StreamModel(tree, Population.load(engine), seed=seed, clock=clock)
    with engine.connect() as conn:
        member_ids = dict(conn.execute(select(Member.code, Member.id)).all())
    step = 3600.0 * batch / events_per_hour
    rows = []
    while clock.now < end.timestamp():
        for event in model.next_batch(batch):
            ts = dt.datetime.fromisoformat(str(event["ts"]))
            rows.append({
                "event_id": event["id"], "type": event["type"], "ts_ms": int(ts.timestamp() * 1000),
                "org_id": tree.by_code[event["org"]], "member_id": member_ids.get(event["member"]) if event["member"] else None,
                "data": orjson.dumps(event["data"]).decode(),
            })
        clock.now += step
    with engine.begin() as conn:
        for i in range(0, len(rows), 20_000):
            conn.execute(insert(Event), rows[i : i + 20_000])
    return len(rows)


def serve_replay_history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """For a module's ``replay_server`` fixture: a server whose store holds a demo organisation of 400 members and three days of history around REPLAY_DAY."""
    db = tmp_path_factory.mktemp("replay") / "replay.db"
    engine = open_store(f"sqlite:///{db}")
    seed_demo(engine, members=400, seed=9)
    write_history(engine, REPLAY_DAY_START - dt.timedelta(days=1), REPLAY_DAY_START + dt.timedelta(days=1, hours=6), events_per_hour=120)
    engine.dispose()
    server = LiveServer(db).start()
    yield server
    server.stop()
