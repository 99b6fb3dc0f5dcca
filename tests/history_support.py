"""Past events in the store, from the live simulator's model, for replay and report tests and benchmarks.

History seeding (``seed --history-days``) is another part's work; these tests put their own past
into the store: the simulator's stream model run on a clock that steps through the past, each event
written with its past timestamp straight into the events table (seq in time order, as history is).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import orjson
from sqlalchemy import Engine, insert, select

from dashboard.demo.simulator import Population, StreamModel
from dashboard.store.models import Event, Member
from dashboard.store.tree import OrgTree


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
