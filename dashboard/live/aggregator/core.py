"""The live state every screen and ``/api/snapshot`` reads: KPIs of every
subtree, updated per event in O(depth of the tree).

Three families of counters, each one numpy matrix with a row per organisation
holding the totals of its whole subtree (see counters.py):

* event counters — by the event's organisation: totals, today, study points
  today, anonymous applicants, transfers, and two rings (events per second
  over the last 60 s, per minute over the last 60 min);
* member counters — by the member's *current* organisation: pipeline stages,
  structure of party members, active today / in the last 15 minutes, dues,
  lost contact (see members.py);
* branch counters — meeting completion and rule breaks (see branches.py);
* daily series — 30 days per day of flows and distinct active members,
  organisations and branches, every KPI tile's trend (see daily.py).

Time: an event's effective time is its ``ts`` clamped to the clock at the
moment it is applied (an event from the future counts as "now"). The
aggregator's notion of now only moves forward; it advances on every call
(``apply``, ``snapshot``, ``tick``): elapsed seconds and minutes are cleared
from the rings, and at local midnight today's counters are cleared and the
member and branch counters are recounted from the per-member arrays (a
vectorised pass, ~0.5–0.9 s at 1M members, once a day — ages, lost contact,
dues months and meeting periods all change at day boundaries).

Choices a committee would ask about (all in docs/aggregates.md):
``events_per_min`` is the count in the current second and the 59 before it;
``active_15m`` counts party members whose latest event is in the current
minute or the 14 before it; member-based KPIs follow the member's current
organisation, event-based ones the event's; ``lost_contact`` counts party
members with no activity in the last 180 local days, where a member who
never had an event counts from their join date, and nobody from before the
first stored event (so a fresh system has nobody lost for 180 days);
``top_study`` ranks the direct children; ``no_meeting`` means no meeting in
the current or the previous calendar month.

Thread safety: one lock serialises ``apply``, ``snapshot``, ``tick`` and
``drain_changed``, so a snapshot never sees half of a batch. ``apply`` holds
it for one batch (~10 µs an event); ``snapshot`` for O(children of the org).

Definitions of every KPI: docs/aggregates.md.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Engine

from dashboard.domain.events import StoredEvent
from dashboard.live.aggregator import branches as bc
from dashboard.live.aggregator import codec
from dashboard.live.aggregator import members as mc
from dashboard.live.aggregator.branches import MEETING_KINDS, BranchBook
from dashboard.live.aggregator.calendar import Periods, parse_month
from dashboard.live.aggregator.counters import RolledCounters
from dashboard.live.aggregator.daily import FLOW_INDEX, DailyBook
from dashboard.live.aggregator.layout import TreeLayout
from dashboard.live.aggregator.members import MemberBook, Moment
from dashboard.live.aggregator.replay import iter_stored_events, read_members
from dashboard.live.aggregator.spec import (
    ACTIVE_WINDOW_MINUTES,
    AGE_BANDS,
    DAILY_FLOW_TYPES,
    ETHNICITY_GROUPS,
    GENDERS,
    PIPELINE_STAGES,
    RATE_WINDOW_SECONDS,
    RECRUIT_STAGE,
    THEMED_DAY,
    THREE_MEETING_KINDS,
    TOP_STUDY_LIMIT,
    TRANSFER_TYPES,
    TREND_DAYS,
    TREND_MINUTES,
    fraction,
)
from dashboard.live.aggregator.transfers import TransferBook, TransferInFlight
from dashboard.store.tree import OrgTree

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Columns of the event counters.
TOTAL, TODAY, POINTS_TODAY, ANON_APPLICANTS, IN_FLIGHT, OVERDUE = range(6)
RATE = 6  # ring of RATE_WINDOW_SECONDS one-second buckets
TREND = RATE + RATE_WINDOW_SECONDS  # ring of TREND_MINUTES one-minute buckets
DAILY = TREND + TREND_MINUTES  # ring of TREND_DAYS one-local-day buckets
EVENT_COLUMNS = DAILY + TREND_DAYS
DAY_MS = 86_400_000

_SEQUENTIAL = TRANSFER_TYPES | set(RECRUIT_STAGE) | {"dues_paid"}


@dataclass(slots=True)
class _Batch:
    """A batch of events, decoded: parallel lists for the bulk counts, and the rest."""

    rows: list[int] = field(default_factory=list)
    times: list[int] = field(default_factory=list)
    points: list[int] = field(default_factory=list)
    flows: list[int] = field(default_factory=list)  # the daily flow each event adds to (daily.FLOW_INDEX), -1 for none
    member_ids: list[int] = field(default_factory=list)
    member_times: list[int] = field(default_factory=list)
    anonymous: list[int] = field(default_factory=list)  # rows of new applicants not on the roll
    meetings: list[tuple[int, int, int]] = field(default_factory=list)  # (row, meeting kind, time)
    ordered: list[tuple[StoredEvent, int, int]] = field(default_factory=list)  # (event, row, time)


def _study_points(data: Any) -> int:
    points = data.get("points") if isinstance(data, dict) else None
    return points if type(points) is int and points > 0 else 0


_FLOW_OF_TYPE = {kind: FLOW_INDEX[name] for kind, name in DAILY_FLOW_TYPES.items()}
_STUDY_FLOW, _MEETING_FLOW, _THEMED_FLOW = FLOW_INDEX["study_points"], FLOW_INDEX["meetings"], FLOW_INDEX["themed_days"]


def _flow(kind: str, data: Any) -> int:
    """The daily flow an event adds to (-1: none); a meeting by its kind."""
    if kind == "study":
        return _STUDY_FLOW
    if kind == "meeting_held" and isinstance(data, dict):
        meeting = data.get("kind")
        return _THEMED_FLOW if meeting == THEMED_DAY else _MEETING_FLOW if meeting in THREE_MEETING_KINDS else -1
    return _FLOW_OF_TYPE.get(kind, -1)


def _ring_columns(base: int, size: int, old_unit: int, new_unit: int) -> list[int]:
    """Ring columns of the units after ``old_unit`` up to ``new_unit``: the buckets to clear."""
    return [base + u % size for u in range(max(old_unit + 1, new_unit - size + 1), new_unit + 1)]


class Aggregator:
    def __init__(
        self, tree: OrgTree, clock: Callable[[], float] = time.time, tz: dt.tzinfo = SHANGHAI
    ) -> None:
        self.tree = tree
        self._clock = clock
        self._tz = tz
        self._lock = threading.Lock()
        self._layout = layout = TreeLayout(tree)
        self._changed = np.zeros(layout.size + 1, dtype=bool)
        self._events = RolledCounters(layout, EVENT_COLUMNS, self._changed)
        self._members = MemberBook(layout.row_of, layout.sink, tz)
        self._member_counts = RolledCounters(layout, self._members.width, self._changed)
        self._branch_counts = RolledCounters(layout, bc.COLUMNS, self._changed)
        self._branches = BranchBook(layout, self._branch_counts)
        self._transfers = TransferBook(layout, self._events, IN_FLIGHT, OVERDUE)
        self._daily = DailyBook(layout, self._changed)
        self._now_ms = int(clock() * 1000)
        self._periods = Periods.at(self._now_ms, tz)
        self._second = self._now_ms // 1000
        self._minute = self._now_ms // 60_000
        self._day = self._local_day(self._now_ms)
        self._started_ms: int | None = None
        self.ignored_events = 0  # events whose organisation is not in the tree
        self.last_seq = 0  # the highest seq counted: every stored event up to it is in this state
        self._recount_branches()

    # ------------------------------------------------------------------ loading

    @classmethod
    def rebuild(
        cls,
        engine: Engine,
        tree: OrgTree,
        clock: Callable[[], float] = time.time,
        tz: dt.tzinfo = SHANGHAI,
        chunk: int = 20_000,
    ) -> Aggregator:
        """Members from the members table, then every stored event replayed in seq order, ``chunk`` at a time.

        Run it before ingest starts delivering to this aggregator: events
        committed while it replays would otherwise be missed or applied twice.
        """
        aggregator = cls(tree, clock, tz)
        aggregator.upsert_members(read_members(engine))
        for batch in iter_stored_events(engine, chunk):
            aggregator.apply(batch)
        return aggregator

    # ------------------------------------------------------------------ snapshots

    # Not part of a snapshot: what the tree and the process give (put back on load).
    _NOT_SAVED = frozenset({"tree", "_clock", "_tz", "_lock", "_layout"})

    def _refs(self) -> dict[str, Any]:
        """The objects a snapshot names instead of writing: the tree, the time zone, the layout and its parts."""
        layout = self._layout
        parts = {f"layout.{k}": v for k, v in vars(layout).items() if not isinstance(v, (int, float, str, bool))}
        return {"tree": self.tree, "tz": self._tz, "layout": layout, **parts}

    def export_state(self) -> tuple[bytes, int]:
        """The live state as bytes (see codec.py), and the seq of the last event it counts.

        Taken under the lock (one batch is never half in it): ~0.1 s a million members.
        """
        with self._lock:
            state = {k: v for k, v in vars(self).items() if k not in self._NOT_SAVED}
            return codec.dumps(state, self._refs()), self.last_seq

    @classmethod
    def from_state(
        cls, blob: bytes, tree: OrgTree, clock: Callable[[], float] = time.time, tz: dt.tzinfo = SHANGHAI
    ) -> Aggregator:
        """The aggregator ``export_state`` wrote, over ``tree`` (the same tree it was counted over,
        by the same code: snapshot.py checks both), brought to the clock: elapsed seconds, minutes
        and days are rolled as if it had kept running. Raises codec.StateError if the blob is not a state."""
        aggregator = cls.__new__(cls)
        aggregator.tree, aggregator._clock, aggregator._tz = tree, clock, tz
        aggregator._lock = threading.Lock()
        aggregator._layout = TreeLayout(tree)
        vars(aggregator).update(codec.loads(blob, aggregator._refs()))
        aggregator.tick()
        return aggregator

    def upsert_members(self, frame: Any) -> None:
        """Add or update members (a DataFrame with ``members.MEMBER_COLUMNS``), then recount.

        Activity and dues already known for a member are kept. This recounts
        every member (vectorised, ~0.3 s at 1M): meant for loading and for the
        occasional roster change, not for the event path.
        """
        with self._lock:
            self._members.upsert(frame)
            self._recount_members()
            self._recount_daily()
            self._recount_branches()

    # ------------------------------------------------------------------ events

    def apply(self, events: Sequence[StoredEvent]) -> None:
        """Count a committed batch (from the bus, in seq order)."""
        with self._lock:
            self._advance(int(self._clock() * 1000))
            if not events:
                return
            self.last_seq = max(self.last_seq, events[-1].seq)
            if self._started_ms is None:  # the first event ever starts the lost-contact clock for everyone
                self._started_ms = min(events[0].ts_ms, self._now_ms)
                self._recount_members()
            batch = self._decode(events)
            if not batch.rows:
                return
            touched, at, seen = self._known_members(batch.member_ids, batch.member_times)
            before = self._members.contributions(touched, self._moment())
            days_before = self._members.counted_days(touched)
            for event, row, ts in batch.ordered:
                self._apply_in_order(event, row, ts)
            np.maximum.at(self._members.last_ms, at, seen)
            self._daily.set_member_days(self._members.active_days, at, self._day - self._local_day(seen))
            self._daily.move_members(days_before, self._members.counted_days(touched), self._day)
            rows, times = np.array(batch.rows), np.array(batch.times)
            self._count_events(rows, times, np.array(batch.points), np.array(batch.anonymous, dtype=np.int64))
            self._count_daily(rows, times, np.array(batch.flows), np.array(batch.points))
            meeting_rows, meeting_kinds, meeting_times = np.array(batch.meetings, dtype=np.int64).reshape(-1, 3).T
            met = self._branches.record_meetings(meeting_rows, meeting_kinds, meeting_times)
            changed_rows = self._move_members(before, self._members.contributions(touched, self._moment()))
            self._refresh_branches(np.union1d(self._layout.branch_ancestors(changed_rows), met))

    def _decode(self, events: Sequence[StoredEvent]) -> _Batch:
        """One pass over the events: what is counted in bulk, and what must be applied in order."""
        row_of = self._layout.row_of
        now_ms = self._now_ms
        batch = _Batch()
        for event in events:
            row = row_of.get(event.org_id)
            if row is None:
                self.ignored_events += 1
                continue
            ts = event.ts_ms if event.ts_ms < now_ms else now_ms
            batch.rows.append(row)
            batch.times.append(ts)
            kind = event.type
            batch.points.append(_study_points(event.data) if kind == "study" else 0)
            batch.flows.append(_flow(kind, event.data))
            if event.member_id is not None:
                batch.member_ids.append(event.member_id)
                batch.member_times.append(ts)
            elif kind == "recruit_applied":  # a new applicant, not yet on the roll
                batch.anonymous.append(row)
            if kind in _SEQUENTIAL:
                batch.ordered.append((event, row, ts))
            elif kind == "meeting_held" and isinstance(event.data, dict):
                meeting_kind = event.data.get("kind")
                meeting = MEETING_KINDS.get(meeting_kind) if isinstance(meeting_kind, str) else None
                if meeting is not None:
                    batch.meetings.append((row, meeting, ts))
        return batch

    def _known_members(self, ids: list[int], times: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct known members of a batch, and (member, time) pairs of their events."""
        ids_a = np.array(ids, dtype=np.int64)
        times_a = np.array(times, dtype=np.int64)
        known = self._members.known
        inside = (ids_a >= 0) & (ids_a < len(known))
        inside[inside] = known[ids_a[inside]]
        ids_a, times_a = ids_a[inside], times_a[inside]
        return np.unique(ids_a), ids_a, times_a

    def _apply_in_order(self, event: StoredEvent, row: int, ts: int) -> None:
        """State changes whose result depends on the order of events."""
        data = event.data if isinstance(event.data, dict) else {}
        member = event.member_id
        known = member is not None and self._members.knows(member)
        kind = event.type
        if kind in TRANSFER_TYPES:
            self._transfers.record(kind, data, row, ts, self._now_ms)
            to_org = data.get("to_org")
            if kind == "transfer_completed" and known and isinstance(to_org, str):
                self._members.org[member] = self._layout.row_of_code.get(to_org, self._layout.sink)
        elif kind in RECRUIT_STAGE and known:
            self._members.stage[member] = mc.STAGE_CODES[RECRUIT_STAGE[kind]]
        elif kind == "dues_paid" and known and member is not None:
            month = parse_month(data.get("month"))
            if month == self._periods.month:
                self._members.dues_paid[member] = True
            elif month is not None and month > self._periods.month:
                self._members.dues_ahead.setdefault(month, set()).add(member)

    def _local_day(self, ms: np.ndarray | int) -> Any:
        """Local day numbers (days since the epoch in the time zone of today's midnight)."""
        return (ms + (-self._periods.day_start_ms) % DAY_MS) // DAY_MS

    def _count_events(self, rows: np.ndarray, times: np.ndarray, points: np.ndarray, anonymous: np.ndarray) -> None:
        today = times >= self._periods.day_start_ms
        seconds = times // 1000
        minutes = times // 60_000
        days = self._local_day(times)
        rate = seconds > self._second - RATE_WINDOW_SECONDS
        trend = minutes > self._minute - TREND_MINUTES
        daily = days > self._day - TREND_DAYS
        studied = today & (points > 0)
        n = len(rows)
        self._events.add(
            np.concatenate([rows, rows[today], rows[studied], anonymous, rows[rate], rows[trend], rows[daily]]),
            np.concatenate([
                np.full(n, TOTAL),
                np.full(int(today.sum()), TODAY),
                np.full(int(studied.sum()), POINTS_TODAY),
                np.full(len(anonymous), ANON_APPLICANTS),
                RATE + seconds[rate] % RATE_WINDOW_SECONDS,
                TREND + minutes[trend] % TREND_MINUTES,
                DAILY + days[daily] % TREND_DAYS,
            ]),
            np.concatenate([
                np.ones(n + int(today.sum()), dtype=np.int64),
                points[studied],
                np.ones(len(anonymous) + int(rate.sum()) + int(trend.sum()) + int(daily.sum()), dtype=np.int64),
            ]),
        )

    def _count_daily(self, rows: np.ndarray, times: np.ndarray, flows: np.ndarray, points: np.ndarray) -> None:
        """The batch's part of the daily series: flows (study counts its points, the rest one each) and places."""
        days = self._local_day(times)
        values = np.where(flows == _STUDY_FLOW, points, 1)
        self._daily.add_flows(rows, flows, days, values, self._day)
        self._daily.mark_places(rows, days, self._day)

    def _move_members(self, before: tuple[np.ndarray, np.ndarray], after: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Subtract old contributions, add new ones; returns the organisation rows that changed."""
        old_rows, old_cols = before
        new_rows, new_cols = after
        moved = old_rows != new_rows
        differs = (old_cols != new_cols) & ~moved[:, None]
        differs |= moved[:, None] & ((old_cols != mc.VOID) | (new_cols != mc.VOID))
        m, slot = np.nonzero(differs)
        rows = np.concatenate([old_rows[m], new_rows[m]])
        cols = np.concatenate([old_cols[m, slot], new_cols[m, slot]])
        vals = np.concatenate([np.full(len(m), -1), np.full(len(m), 1)])
        real = cols != mc.VOID
        self._member_counts.add(rows[real], cols[real], vals[real])
        return np.unique(rows[real])

    # ------------------------------------------------------------------ time

    def tick(self) -> None:
        """Advance the time windows to the clock without any event."""
        with self._lock:
            self._advance(int(self._clock() * 1000))

    def _moment(self) -> Moment:
        p = self._periods
        return Moment(p.year, p.day_start_ms, self._minute, p.lost_before_ms, self._started_ms)

    def _advance(self, now_ms: int) -> None:
        now_ms = max(now_ms, self._now_ms)
        self._now_ms = now_ms
        second, minute = now_ms // 1000, now_ms // 60_000
        if second != self._second:
            self._events.clear_columns(_ring_columns(RATE, RATE_WINDOW_SECONDS, self._second, second))
            self._second = second
        if minute != self._minute:
            self._events.clear_columns(_ring_columns(TREND, TREND_MINUTES, self._minute, minute))
            self._member_counts.clear_columns(_ring_columns(mc.SEEN, ACTIVE_WINDOW_MINUTES, self._minute, minute))
            self._minute = minute
        if now_ms >= self._periods.next_day_start_ms:
            periods = Periods.at(now_ms, self._tz)
            if periods.month != self._periods.month:
                self._members.start_month(periods.month)
            self._periods = periods
            day = self._local_day(now_ms)
            self._events.clear_columns([TODAY, POINTS_TODAY, *_ring_columns(DAILY, TREND_DAYS, self._day, day)])
            self._daily.new_day(self._members.active_days, self._day, day)
            self._day = day
            self._recount_members()
            self._recount_branches()
            self._recount_daily()
        self._transfers.expire(now_ms)

    # ------------------------------------------------------------------ recounts

    def _recount_members(self) -> None:
        ids = self._members.ids()
        rows, cols = self._members.contributions(ids, self._moment())
        width = self._members.width
        own = self._member_counts.own_counts(rows, cols, width)
        own[:, mc.VOID] = 0
        self._member_counts.reset(own)

    def _recount_daily(self) -> None:
        self._daily.recount(*self._members.counted_days(self._members.ids()), self._day)

    def _branch_member_counts(self, branches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        counts = self._member_counts.values
        return counts[branches, mc.STAGE + mc.FULL], counts[branches, mc.SECRETARY]

    def _refresh_branches(self, branches: np.ndarray) -> None:
        self._branches.refresh(branches, self._periods, *self._branch_member_counts(branches))

    def _recount_branches(self) -> None:
        self._branches.recount(self._periods, *self._branch_member_counts(self._layout.branch_rows))

    # ------------------------------------------------------------------ reading

    def snapshot(self, org_id: int) -> dict[str, Any]:
        """The KPIs of ``org_id``'s subtree (KeyError if it is not in the tree); JSON-able."""
        with self._lock:
            self._advance(int(self._clock() * 1000))
            row = self._layout.row_of[org_id]
            ev = self._events.values[row].tolist()
            mem = self._member_counts.values[row].tolist()
            br = self._branch_counts.values[row].tolist()
            top = self._top_study(row)
            per_day = self._daily.series(row, self._day)
            trend = [ev[TREND + m % TREND_MINUTES] for m in range(self._minute - TREND_MINUTES + 1, self._minute + 1)]
            daily = [ev[DAILY + d % TREND_DAYS] for d in range(self._day - TREND_DAYS + 1, self._day + 1)]
            seen = sum(mem[mc.SEEN : mc.SEEN + ACTIVE_WINDOW_MINUTES])
            categories = dict(self._members.categories)
            now_s = self._now_ms / 1000
        node = self.tree.nodes[org_id]
        stages = {name: mem[mc.STAGE + i] for i, name in enumerate(PIPELINE_STAGES)}
        full, probationary = stages["full"], stages["probationary"]
        members = full + probationary
        pipeline = dict(stages, applicant=stages["applicant"] + ev[ANON_APPLICANTS])

        def category(dimension: str) -> dict[str, int]:
            return {value: mem[col] for (dim, value), col in sorted(categories.items()) if dim == dimension}

        return {
            "org": node.code,
            "name": node.name,
            "kind": node.kind,
            "members": members,
            "full_members": full,
            "probationary": probationary,
            "organisations": br[bc.ORGANISATIONS],
            "branches": br[bc.BRANCHES],
            "events_total": ev[TOTAL],
            "events_today": ev[TODAY],
            "active_today": mem[mc.ACTIVE_TODAY],
            "active_15m": seen,
            "events_per_min": sum(ev[RATE : RATE + RATE_WINDOW_SECONDS]),
            "events_trend": trend,
            "events_daily": daily,
            "daily": per_day,
            "study_points_today": ev[POINTS_TODAY],
            "meetings": {
                "three_meetings_completion": fraction(br[bc.THREE_MEETINGS], br[bc.BRANCHES]),
                "themed_day_completion": fraction(br[bc.THEMED], br[bc.BRANCHES]),
                "three_meetings_branches": br[bc.THREE_MEETINGS],
                "themed_day_branches": br[bc.THEMED],
            },
            "dues_rate": fraction(mem[mc.DUES_PAID], members),
            "dues_paid": mem[mc.DUES_PAID],
            "transfers": {"in_flight": ev[IN_FLIGHT], "overdue": ev[OVERDUE]},
            "rule_breaks": {
                "few_members": br[bc.FEW_MEMBERS],
                "no_secretary": br[bc.NO_SECRETARY],
                "no_meeting": br[bc.NO_MEETING],
            },
            "lost_contact": mem[mc.LOST],
            "pipeline": pipeline,
            "structure": {
                "gender": {g: mem[mc.GENDER + i] for i, g in enumerate(GENDERS)},
                "age_band": {label: mem[mc.BAND + i] for i, (label, _, _) in enumerate(AGE_BANDS)},
                "ethnicity": dict(zip(ETHNICITY_GROUPS, (mem[mc.HAN], mem[mc.MINORITY]))),
                "education": category("education"),
                "occupation": category("occupation"),
                "status": {"full": full, "probationary": probationary},
            },
            "top_study": top,
            "ts": now_s,
        }

    def _top_study(self, row: int) -> list[dict[str, Any]]:
        """Direct child organisations by study points today, most first (ties by code)."""
        children = self._layout.children.get(row, [])
        if not children:
            return []
        points = self._events.values[children, POINTS_TODAY].tolist()
        nodes = [self.tree.nodes[int(self._layout.org_ids[r])] for r in children]
        ranked = sorted(zip(points, nodes), key=lambda pn: (-pn[0], pn[1].code))[:TOP_STUDY_LIMIT]
        return [{"org": n.code, "name": n.name, "points": p} for p, n in ranked]

    def transfers_in_flight(self) -> tuple[int, tuple[TransferInFlight, ...]]:
        """The open transfers (oldest first) with a version that changes whenever they do.

        Costs O(open transfers); a reader that polls compares the version first.
        """
        with self._lock:
            self._advance(int(self._clock() * 1000))
            return self._transfers.version, self._transfers.in_flight()

    def table(self) -> dict[str, np.ndarray]:
        """A few subtree counts of every organisation at once (for views colouring thousands of nodes).

        One int64 array per key, aligned with ``org_id``; copies taken under the
        lock in O(organisations) — ~1 ms at 100k, where a snapshot per
        organisation would take seconds. Same definitions as ``snapshot``.
        """
        with self._lock:
            self._advance(int(self._clock() * 1000))
            n = self._layout.size
            ev, mem, br = self._events.values[:n], self._member_counts.values[:n], self._branch_counts.values[:n]
            return {
                "org_id": self._layout.org_ids.copy(),
                "members": mem[:, mc.STAGE + mc.FULL] + mem[:, mc.STAGE + mc.PROBATIONARY],
                "branches": br[:, bc.BRANCHES].copy(),
                "three_meetings_branches": br[:, bc.THREE_MEETINGS].copy(),
                "dues_paid": mem[:, mc.DUES_PAID].copy(),
                "active_today": mem[:, mc.ACTIVE_TODAY].copy(),
                "events_today": ev[:, TODAY].copy(),
                "few_members": br[:, bc.FEW_MEMBERS].copy(),
                "no_secretary": br[:, bc.NO_SECRETARY].copy(),
                "no_meeting": br[:, bc.NO_MEETING].copy(),
                "transfers_overdue": ev[:, OVERDUE].copy(),
            }

    def drain_changed(self) -> set[int]:
        """Ids of the organisations whose KPIs changed since the last call (ancestors included).

        Costs one scan of a byte mask over the organisations (~10 µs at 45k).
        """
        with self._lock:
            rows = np.flatnonzero(self._changed[: self._layout.size])
            self._changed[rows] = False
            return set(self._layout.org_ids[rows].tolist())

    def memory_bytes(self) -> int:
        """Bytes held in the numpy state (counters, per-member and per-branch arrays)."""
        return (
            self._events.values.nbytes
            + self._member_counts.values.nbytes
            + self._branch_counts.values.nbytes
            + self._members.nbytes
            + self._branches.nbytes
            + self._daily.nbytes
            + self._layout.ancestors.nbytes
        )
