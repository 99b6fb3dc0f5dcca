"""The live aggregator driven through the past: the state of the tree at any instant of the record.

A ``HistoryState`` is an ordinary ``Aggregator`` whose clock is the instant
being looked at instead of the wall clock. It is fed the stored events in
time order (``ts_ms``, then ``seq``): ``advance_to(t)`` applies every event
with ``ts_ms <= t`` not applied yet and moves the clock to ``t``. The same
counting code as the live screens, so a replay or a report shows what the
live wall showed (or would have shown) at that instant.

Jumping far ahead applies the events in large chunks with the clock already
at the target: an event's effective time is its own ``ts`` whenever it is
not in the clock's future, so the state reached equals the one reached by
stepping through every second — only the midnight recounts in between are
skipped (one recount for the jump instead of one per day crossed).

Reports and replays share it (dashboard/live/replay.py, dashboard/report/).
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, func, select, text, tuple_

from dashboard.domain.events import StoredEvent
from dashboard.live.aggregator import Aggregator
from dashboard.live.aggregator.replay import _data, read_members
from dashboard.store.models import Event
from dashboard.store.tree import OrgTree

CHUNK = 20_000
# Events a step hands back for the feed and notices; older ones of a long jump only count.
RECENT_LIMIT = 4096


TIME_INDEX = "ix_events_ts_seq"


def ensure_time_index(engine: Engine) -> None:
    """The index that reads events in time order (once per database; a few seconds per million events).

    Created on first use rather than by a migration so that a store written before replays existed
    gains it where it is needed; ``IF NOT EXISTS`` makes it a no-op afterwards (SQLite and PostgreSQL).
    """
    with engine.begin() as conn:
        conn.execute(text(f"CREATE INDEX IF NOT EXISTS {TIME_INDEX} ON events (ts_ms, seq)"))


def history_bounds(engine: Engine) -> tuple[int, int] | None:
    """Epoch ms of the earliest and latest stored event; None for an empty record."""
    with engine.connect() as conn:
        low, high = conn.execute(select(func.min(Event.ts_ms), func.max(Event.ts_ms))).one()
    return None if low is None else (int(low), int(high))


def iter_events_by_time(
    engine: Engine, after: tuple[int, int] | None, until_ms: int, chunk: int = CHUNK
) -> Iterator[list[StoredEvent]]:
    """Stored events with ``(ts_ms, seq) > after`` and ``ts_ms <= until_ms``, in time order, ``chunk`` at a time."""
    columns = (Event.seq, Event.event_id, Event.type, Event.ts_ms, Event.org_id, Event.member_id, Event.data)
    while True:
        query = select(*columns).where(Event.ts_ms <= until_ms)
        if after is not None:
            query = query.where(tuple_(Event.ts_ms, Event.seq) > tuple_(after[0], after[1]))
        with engine.connect() as conn:
            rows = conn.execute(query.order_by(Event.ts_ms, Event.seq).limit(chunk)).all()
        if not rows:
            return
        yield [
            StoredEvent(seq, event_id, kind, ts_ms, org_id, member_id, _data(data))
            for seq, event_id, kind, ts_ms, org_id, member_id, data in rows
        ]
        after = (rows[-1][3], rows[-1][0])


@dataclass
class _HistoryClock:
    now_ms: int

    def __call__(self) -> float:
        return self.now_ms / 1000


class HistoryState:
    """An aggregator standing at an instant of the past; it only moves forward."""

    def __init__(self, engine: Engine, tree: OrgTree, tz: dt.tzinfo, start_ms: int, chunk: int = CHUNK) -> None:
        ensure_time_index(engine)
        self.engine = engine
        self.tree = tree
        self._chunk = chunk
        self._clock = _HistoryClock(start_ms)
        self._after: tuple[int, int] | None = None
        self.aggregator = Aggregator(tree, clock=self._clock, tz=tz)
        self.aggregator.upsert_members(read_members(engine))
        self.applied = 0

    @property
    def now_ms(self) -> int:
        return self._clock.now_ms

    def advance_to(self, t_ms: int) -> list[StoredEvent]:
        """Apply every event up to ``t_ms`` (inclusive); the clock stands at ``t_ms`` afterwards.

        Returns the newest of the events applied (at most RECENT_LIMIT), oldest first.
        """
        self._clock.now_ms = max(self._clock.now_ms, t_ms)
        recent: deque[StoredEvent] = deque(maxlen=RECENT_LIMIT)
        for batch in iter_events_by_time(self.engine, self._after, self._clock.now_ms, self._chunk):
            self.aggregator.apply(batch)
            self.applied += len(batch)
            recent.extend(batch)
            self._after = (batch[-1].ts_ms, batch[-1].seq)
        self.aggregator.tick()
        return list(recent)
