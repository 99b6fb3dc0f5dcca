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

from sqlalchemy import Engine, func, select, text

from dashboard.domain.events import StoredEvent
from dashboard.live.aggregator import Aggregator
from dashboard.live.aggregator.replay import _data, read_members
from dashboard.store.models import Event
from dashboard.store.tree import OrgTree

CHUNK = 20_000
_COLUMNS = "seq, event_id, type, ts_ms, org_id, member_id, data"
# Written out once rather than built per read: a replay reads four times a second, and building the
# statement cost more than running it (ix_events_ts_seq serves both; migration 0006).
_BY_TIME = text(f"SELECT {_COLUMNS} FROM events WHERE ts_ms <= :until ORDER BY ts_ms, seq LIMIT :limit")
_BY_TIME_AFTER = text(
    f"SELECT {_COLUMNS} FROM events WHERE ts_ms <= :until AND (ts_ms > :ts OR (ts_ms = :ts AND seq > :seq))"
    " ORDER BY ts_ms, seq LIMIT :limit"
)
# Events a step hands back for the feed and notices; older ones of a long jump only count.
RECENT_LIMIT = 4096


def history_bounds(engine: Engine) -> tuple[int, int] | None:
    """Epoch ms of the earliest and latest stored event; None for an empty record."""
    with engine.connect() as conn:
        low, high = conn.execute(select(func.min(Event.ts_ms), func.max(Event.ts_ms))).one()
    return None if low is None else (int(low), int(high))


def read_events_by_time(engine: Engine, after: tuple[int, int] | None, until_ms: int, chunk: int) -> list[StoredEvent]:
    """At most ``chunk`` stored events with ``(ts_ms, seq) > after`` and ``ts_ms <= until_ms``, in time order."""
    query = _BY_TIME if after is None else _BY_TIME_AFTER
    params = {"until": until_ms, "limit": chunk, "ts": after[0] if after else 0, "seq": after[1] if after else 0}
    with engine.connect() as conn:
        rows = conn.execute(query, params).all()
    return [
        StoredEvent(seq, event_id, kind, ts_ms, org_id, member_id, _data(data))  # type: ignore[arg-type]
        for seq, event_id, kind, ts_ms, org_id, member_id, data in rows
    ]


_LATEST = text(f"SELECT {_COLUMNS} FROM events ORDER BY seq DESC LIMIT :limit")


def read_latest_events(engine: Engine, limit: int) -> list[StoredEvent]:
    """The ``limit`` newest stored events (by seq), oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(_LATEST, {"limit": limit}).all()
    return [
        StoredEvent(seq, event_id, kind, ts_ms, org_id, member_id, _data(data))  # type: ignore[arg-type]
        for seq, event_id, kind, ts_ms, org_id, member_id, data in reversed(rows)
    ]


def iter_events_by_time(
    engine: Engine, after: tuple[int, int] | None, until_ms: int, chunk: int = CHUNK
) -> Iterator[list[StoredEvent]]:
    """Stored events with ``(ts_ms, seq) > after`` and ``ts_ms <= until_ms``, in time order, ``chunk`` at a time."""
    while True:
        batch = read_events_by_time(engine, after, until_ms, chunk)
        if batch:
            yield batch
        if len(batch) < chunk:  # a short read is the last: no query to find out that nothing is left
            return
        after = (batch[-1].ts_ms, batch[-1].seq)


@dataclass
class _HistoryClock:
    now_ms: int

    def __call__(self) -> float:
        return self.now_ms / 1000


class HistoryState:
    """An aggregator standing at an instant of the past; it only moves forward.

    The events are read ahead ``chunk`` at a time (up to ``horizon_ms``, the last instant this state
    will be moved to — a replay's end; None: each target in turn) and applied from memory, so a
    replay step that moves a few minutes on costs no query: one read serves many steps, and a step
    at 600× is one aggregator batch of what is already in memory. Events stored later with a
    timestamp already read past are not seen by this state (the past is read once).
    """

    def __init__(self, engine: Engine, tree: OrgTree, tz: dt.tzinfo, start_ms: int, chunk: int = CHUNK,
                 horizon_ms: int | None = None) -> None:
        self.engine = engine
        self.tree = tree
        self._chunk = chunk
        self._horizon = horizon_ms
        self._clock = _HistoryClock(start_ms)
        self._read_after: tuple[int, int] | None = None  # the last event read
        self._read_all_to = -1  # every event with ts_ms <= this has been read
        self._ahead: deque[StoredEvent] = deque()  # read, not applied yet, in time order
        self.aggregator = Aggregator(tree, clock=self._clock, tz=tz)
        self.aggregator.upsert_members(read_members(engine))
        self.applied = 0

    @property
    def now_ms(self) -> int:
        return self._clock.now_ms

    def _read_ahead(self, t_ms: int) -> None:
        until = max(t_ms, self._horizon or t_ms)
        batch = read_events_by_time(self.engine, self._read_after, until, self._chunk)
        self._ahead.extend(batch)
        if batch:
            self._read_after = (batch[-1].ts_ms, batch[-1].seq)
        if len(batch) < self._chunk:
            self._read_all_to = until

    def _due(self, t_ms: int) -> list[StoredEvent]:
        """The next events with ts_ms <= t_ms (at most a chunk), reading when the buffer runs out."""
        if not self._ahead and self._read_all_to < t_ms:
            self._read_ahead(t_ms)
        ahead = self._ahead
        due: list[StoredEvent] = []
        while ahead and ahead[0].ts_ms <= t_ms and len(due) < self._chunk:
            due.append(ahead.popleft())
        return due

    def advance_to(self, t_ms: int) -> list[StoredEvent]:
        """Apply every event up to ``t_ms`` (inclusive); the clock stands at ``t_ms`` afterwards.

        Returns the newest of the events applied (at most RECENT_LIMIT), oldest first.
        """
        self._clock.now_ms = max(self._clock.now_ms, t_ms)
        recent: deque[StoredEvent] = deque(maxlen=RECENT_LIMIT)
        while batch := self._due(self._clock.now_ms):
            self.aggregator.apply(batch)
            self.applied += len(batch)
            recent.extend(batch)
        self.aggregator.tick()
        return list(recent)
