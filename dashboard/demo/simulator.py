"""A believable stream of party-building activity, as wire-format event dicts.

The stream model behind ``python -m dashboard simulate`` and the demo app's
built-in feed. It reads nothing and sends nothing: it is given the
organisation tree, a compact copy of the member roll (``Population``), a seed
and a clock, and ``next_batch(n)`` returns the next ``n`` events. Same seed,
same clock readings → same events.

What makes it believable (docs/simulator.md has the details):

- The caller fixes the rate; the model shapes the *mix*. Each kind of activity
  has an hourly profile in Asia/Shanghai time (study peaks 7–9, reading at
  lunchtime and 19–22, office work — meetings, transfers, recruitment, most
  dues — in working hours, little but reading at night), and calendar factors
  (dues early in the month, volunteering at weekends).
- State is followed: a member who completes a transfer has moved, a member who
  advances a recruitment step is in the new stage, dues are paid once per
  member per month, each branch holds each meeting once per period on a
  pseudo-random day of its own.
- Some things follow the clock, not the event count: notices every few
  minutes, transfer steps minutes apart, a study campaign now and then (a few
  minutes of three times the usual study in one province).
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import random
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import Engine, select

from dashboard.demo.texts import (
    ARTICLE_TITLES,
    CAMPAIGN_TITLES,
    MEETING_TITLES,
    NOTICE_MONTHS,
    NOTICE_TITLES,
    NOTICE_WHEN_KPI,
    STUDY_ITEMS,
    TRANSFER_REASONS,
    VOLUNTEER_TITLES,
)
from dashboard.store.models import Member
from dashboard.store.tree import OrgTree

if TYPE_CHECKING:
    from dashboard.demo.past import PastState

Event = dict[str, object]
Clock = Callable[[], float]

SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")  # no DST since 1991
_SHANGHAI_OFFSET_S = 8 * 3600

STAGES: tuple[str, ...] = ("applicant", "activist", "development_target", "probationary", "full")
_PROBATIONARY = STAGES.index("probationary")
_FULL = STAGES.index("full")
_NOT_SIMULATED = -1  # a member whose organisation is outside the loaded tree
# The recruitment event that moves a member *out of* each stage.
_ADVANCE_EVENT: tuple[str, ...] = (
    "recruit_activist",
    "recruit_development_target",
    "recruit_probationary",
    "recruit_full",
)

POSTS: tuple[str | None, ...] = (None, "secretary", "deputy_secretary", "committee_member", "group_leader")
COMMITTEE_POSTS = (1, 2, 3)

# Hourly intensity (index = hour in Asia/Shanghai), relative within each profile.
_H_STUDY = (0.15, 0.08, 0.05, 0.05, 0.1, 0.35, 1.1, 2.3, 2.6, 2.0, 1.2, 1.0,
            1.3, 1.2, 0.8, 0.8, 0.8, 0.9, 1.0, 1.3, 1.5, 1.4, 0.9, 0.4)  # fmt: skip
_H_READING = (0.35, 0.2, 0.12, 0.1, 0.1, 0.2, 0.5, 0.9, 1.0, 0.9, 0.8, 0.9,
              1.6, 1.5, 0.8, 0.8, 0.8, 0.9, 1.2, 2.0, 2.4, 2.4, 1.8, 0.9)  # fmt: skip
_H_LOGIN = (0.2, 0.1, 0.06, 0.05, 0.08, 0.3, 0.8, 2.0, 2.5, 1.8, 1.2, 1.0,
            1.0, 1.2, 1.2, 1.0, 0.9, 0.8, 0.9, 1.2, 1.3, 1.2, 0.8, 0.4)  # fmt: skip
H_OFFICE = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.02, 0.2, 0.8, 1.6, 1.6, 1.0,
             0.3, 0.6, 1.6, 1.8, 1.5, 0.8, 0.2, 0.3, 0.3, 0.1, 0.02, 0.0)  # fmt: skip
# Dues: mostly collected by the branch in office hours, some paid in the app after work.
H_DUES = tuple(0.8 * o + 0.2 * r for o, r in zip(H_OFFICE, _H_LOGIN, strict=True))
_H_DAYTIME = (0.0, 0.0, 0.0, 0.0, 0.0, 0.05, 0.3, 0.8, 1.4, 1.6, 1.6, 1.2,
              0.8, 1.0, 1.5, 1.6, 1.4, 1.0, 0.6, 0.4, 0.2, 0.05, 0.0, 0.0)  # fmt: skip

# Share of the stream at an hour where the profile is 1 (before calendar factors).
# One meeting slot yields a meeting_held plus one meeting_attended per attendee.
_SLOTS: tuple[tuple[str, float, tuple[float, ...]], ...] = (
    ("study", 32.0, _H_STUDY),
    ("article_read", 26.0, _H_READING),
    ("interaction", 14.0, _H_READING),
    ("login", 14.0, _H_LOGIN),
    ("meeting", 0.3, H_OFFICE),
    ("dues", 3.0, H_DUES),
    ("volunteer", 2.0, _H_DAYTIME),
    ("transfer", 0.4, H_OFFICE),
    ("recruit", 0.4, H_OFFICE),
)
INTERACTIONS = (("like", 0.65), ("comment", 0.2), ("share", 0.15))
DEVICES = (("android", 0.5), ("ios", 0.3), ("harmonyos", 0.1), ("pc", 0.1))
_NOTICE_LEVELS = (("info", 0.7), ("warning", 0.25), ("urgent", 0.05))
_NOTICE_TTL_S = {"info": 900, "warning": 1800, "urgent": 3600}

# Meetings: (kind, period, relative frequency of slots). Monthly kinds are held
# three times as often as quarterly ones; 组织生活会 once a year (in Q1).
MEETINGS = (
    ("branch_committee", "month", 3.0),
    ("group", "month", 3.0),
    ("themed_day", "month", 3.0),
    ("branch_general", "quarter", 1.0),
    ("party_lecture", "quarter", 1.0),
    ("life_meeting", "year", 0.25),
)
MEETINGS_WITHOUT_GROUPS = tuple(k for k in MEETINGS if k[0] != "group")
_MEETING_LAST_DAY = {"month": 27, "quarter": 84, "year": 58}  # the schedule falls on day 0..last
MEETING_ATTENDANCE = 0.9
_MAX_ATTENDED_EVENTS = 200

_MAX_TRANSFERS_IN_FLIGHT = 200
_TRANSFER_STEP_S = (60.0, 600.0)  # simulated seconds between a transfer's steps
TRANSFER_REJECTED = 0.1
# The past's pace of a transfer's steps, in days (dashboard/demo/history.py); open longer than 30 days: stalled.
_PAST_STEP_DAYS = {"requested": (1.0, 9.0), "approved": (1.0, 13.0)}
_PAST_STALLED_S = 30 * 86_400.0
_RECRUIT_APPLIED = 0.2  # share of recruitment slots that are new applications

_NOTICE_EVERY_S = 240.0
_CAMPAIGN_EVERY_S = 1200.0
_CAMPAIGN_LENGTH_S = (180.0, 360.0)
_CAMPAIGN_FACTOR = 3.0

ACTIVITY_SKEW = 1.7  # >1: a minority of members produce most of the activity
_PICK_TRIES = 8
_MASK64 = (1 << 64) - 1


def _mix64(*values: int) -> int:
    """A stable 64-bit hash of integers (Python's hash() of str is salted per process)."""
    h = 0x9E3779B97F4A7C15
    for v in values:
        h = ((h ^ (v & _MASK64)) * 0xBF58476D1CE4E5B9) & _MASK64
        h ^= h >> 31
    return h


@dataclass
class Population:
    """The member roll, compact: parallel numpy arrays in member-id order.

    About 20 bytes per member, so a million members fit in ~20 MB.
    """

    codes: np.ndarray  # bytes (UTF-8 member codes)
    org_ids: np.ndarray  # int32
    stages: np.ndarray  # int8 index into STAGES
    posts: np.ndarray  # int8 index into POSTS

    def __len__(self) -> int:
        return len(self.codes)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, int, str, str | None]]) -> Population:
        """From (code, org_id, stage, post) tuples."""
        return cls._concat([cls._chunk(list(rows))])

    @classmethod
    def load(cls, engine: Engine, chunk: int = 100_000) -> Population:
        """Read code, organisation, stage and post of every member, a chunk at a time."""
        stmt = select(Member.code, Member.org_id, Member.stage, Member.post).order_by(Member.id)
        with engine.connect() as conn:
            result = conn.execution_options(yield_per=chunk).execute(stmt)
            parts = [cls._chunk(part) for part in result.partitions()]
        return cls._concat(parts)

    @staticmethod
    def _chunk(rows: list) -> tuple[np.ndarray, ...]:  # type: ignore[type-arg]
        stage_index = {s: i for i, s in enumerate(STAGES)}
        post_index = {p: i for i, p in enumerate(POSTS)}
        return (
            np.array([r[0].encode() for r in rows], dtype=np.bytes_) if rows else np.array([], dtype="S1"),
            np.fromiter((r[1] for r in rows), dtype=np.int32, count=len(rows)),
            np.fromiter((stage_index.get(r[2], _NOT_SIMULATED) for r in rows), dtype=np.int8, count=len(rows)),
            np.fromiter((post_index.get(r[3], 0) for r in rows), dtype=np.int8, count=len(rows)),
        )

    @classmethod
    def _concat(cls, parts: list[tuple[np.ndarray, ...]]) -> Population:
        if not parts:
            return cls._concat([cls._chunk([])])
        return cls(*(np.concatenate([p[i] for p in parts]) for i in range(4)))


@dataclass(frozen=True, slots=True)
class _Moment:
    """The clock reading a batch is generated at, in Asia/Shanghai terms."""

    epoch: float
    ts: str
    hour: int
    weekday: int  # Monday = 0
    day: int  # day of month
    month: str  # YYYY-MM
    month_no: int
    quarter_no: int
    year: int
    day_in: dict[str, int]  # days since the start of the month / quarter / year
    period_key: dict[str, int]  # a number per month / quarter / year

    @classmethod
    def at(cls, epoch: float) -> _Moment:
        local = dt.datetime.fromtimestamp(epoch, SHANGHAI)
        date = local.date()
        quarter_start = dt.date(date.year, 3 * ((date.month - 1) // 3) + 1, 1)
        return cls(
            epoch=epoch,
            ts=local.isoformat(timespec="milliseconds"),
            hour=local.hour,
            weekday=local.weekday(),
            day=date.day,
            month=f"{date.year:04d}-{date.month:02d}",
            month_no=date.month,
            quarter_no=(date.month - 1) // 3 + 1,
            year=date.year,
            day_in={
                "month": date.day - 1,
                "quarter": (date - quarter_start).days,
                "year": date.timetuple().tm_yday - 1,
            },
            period_key={
                "month": date.year * 12 + date.month,
                "quarter": date.year * 4 + (date.month - 1) // 3,
                "year": date.year,
            },
        )


def dues_factor(day: int) -> float:
    """Most branches collect 党费 in the first days of the month."""
    if day <= 5:
        return 3.0
    if day <= 10:
        return 2.0
    if day <= 15:
        return 0.8
    return 0.3


def dues_amount(seed: int, member: int) -> float:
    """A member's own monthly amount (the same every month): 2–200 yuan, median about 28."""
    u = (_mix64(seed, member) >> 11) / float(1 << 53)
    return round(2.0 * 100.0 ** (u**0.8), 1)


def slot_weights(moment_epoch: float) -> dict[str, float]:
    """The relative weight of each kind of activity at a moment: the daily rhythm and the calendar."""
    m = _Moment.at(moment_epoch)
    weekend = m.weekday >= 5
    calendar = {
        "dues": dues_factor(m.day),
        "volunteer": 2.5 if weekend else 1.0,
        "meeting": 0.2 if weekend else 1.0,
        "transfer": 0.1 if weekend else 1.0,
        "recruit": 0.1 if weekend else 1.0,
    }
    return {name: base * hourly[m.hour] * calendar.get(name, 1.0) for name, base, hourly in _SLOTS}


def notice_condition(condition: str, kpis: dict[str, object], day_of_month: int) -> bool:
    """Whether a notice's statement (texts.NOTICE_WHEN_KPI) is true of an organisation's KPIs (its snapshot)."""
    meetings = kpis.get("meetings")
    rules = kpis.get("rule_breaks")
    transfers = kpis.get("transfers")
    completion = meetings.get("three_meetings_completion") if isinstance(meetings, dict) else None
    dues = kpis.get("dues_rate")
    if condition == "three_meetings_low":
        return day_of_month >= 15 and isinstance(completion, float) and completion < 0.6
    if condition == "dues_behind":
        return day_of_month >= 15 and isinstance(dues, float) and dues < 0.8
    if condition == "few_members":
        return isinstance(rules, dict) and bool(rules.get("few_members"))
    if condition == "transfers_overdue":
        return isinstance(transfers, dict) and bool(transfers.get("overdue"))
    raise ValueError(f"unknown notice condition {condition!r}")


def _weighted(rng: random.Random, choices: tuple[tuple[str, float], ...]) -> str:
    u = rng.random()
    for value, p in choices:
        u -= p
        if u < 0:
            return value
    return choices[-1][0]


@dataclass(slots=True)
class _Transfer:
    code: str
    member: int
    from_org: int
    to_org: int
    reason: str
    step: str = "requested"


@dataclass(slots=True)
class _Campaign:
    province: str
    title: str
    ends_at: float
    members: np.ndarray  # indices of members in the province at the start
    share: float  # the province's share of members


@dataclass
class _Meetings:
    """Which branch held which meeting in the current period (bounded: cleared each period)."""

    period: dict[str, int] = field(default_factory=dict)
    held: dict[str, set[tuple[int, str]]] = field(default_factory=dict)

    def is_held(self, period_name: str, period_key: int, org_id: int, kind: str) -> bool:
        if self.period.get(period_name) != period_key:
            self.period[period_name] = period_key
            self.held[period_name] = set()
        return (org_id, kind) in self.held[period_name]

    def mark(self, period_name: str, org_id: int, kind: str) -> None:
        self.held[period_name].add((org_id, kind))

    def held_in_past(self, period_name: str, period_key: int, org_id: int, kind: str) -> None:
        """A meeting the stored past holds for the current period: not held again."""
        self.is_held(period_name, period_key, org_id, kind)
        self.mark(period_name, org_id, kind)


class StreamModel:
    """Generates the event stream; see the module docstring."""

    def __init__(
        self,
        tree: OrgTree,
        population: Population,
        *,
        seed: int,
        clock: Clock = time.time,
        run_id: str | None = None,
        kpis: Callable[[int], dict[str, object]] | None = None,
    ) -> None:
        """``kpis(org_id)``, when given (the server's own feed), is the organisation's live snapshot:
        notices that state a figure are sent only when it holds. Without it they are never sent."""
        if tree.root_id is None:
            raise ValueError("the store holds no organisation: seed one first (python -m dashboard seed)")
        self.tree = tree
        self.seed = seed
        self.clock = clock
        self.kpis = kpis
        self._rng = random.Random(seed)
        self._started = clock()
        self.run_id = run_id or format(_mix64(seed, int(self._started * 1000)) & 0xFFFFFFFFFFFF, "x")
        self._counter = 0
        self._pending: deque[Event] = deque()

        self._org_code = {org_id: node.code for org_id, node in tree.nodes.items()}
        self._codes = population.codes
        self._posts = population.posts
        # Copies: the model moves members and advances stages as its events say.
        self._org_ids = population.org_ids.copy()
        self._stages = population.stages.copy()
        in_tree = np.isin(self._org_ids, np.fromiter(tree.nodes, dtype=np.int32, count=len(tree.nodes)))
        self._stages[~in_tree] = _NOT_SIMULATED
        self._party = np.flatnonzero(self._stages >= _PROBATIONARY).astype(np.int32)
        if len(self._party) == 0:
            raise ValueError("the store holds no party member in the organisation tree: seed one first")
        self._pipeline = np.flatnonzero((self._stages >= 0) & (self._stages < _FULL)).astype(np.int32)
        self._advanced: set[int] = set()
        self._activity_order = np.random.default_rng(seed).permutation(len(population)).astype(np.int32)

        self._index_organisations()
        self._dues_paid = np.zeros(len(population), dtype=bool)
        self._dues_month = ""
        self._meetings = _Meetings()
        self._transfers: dict[str, _Transfer] = {}
        self._transfer_due: list[tuple[float, int, str]] = []
        self._transfer_members: set[int] = set()
        self._transfer_count = 0
        self._campaign: _Campaign | None = None
        self._next_notice_at = self._started + self._rng.uniform(20.0, 90.0)
        self._next_campaign_at = self._started + self._rng.uniform(60.0, 300.0)
        self._weights_key: tuple[int, int, int] | None = None
        self._slot_names: list[str] = []
        self._slot_cumulative: list[float] = []
        self._study_share = 0.0

    # -- setup -------------------------------------------------------------

    def continue_past(self, past: PastState) -> None:
        """Take up where the stored past left off (docs/simulator.md, "Continuing the past").

        Its open transfers proceed — the next step due when the past's own pace (approval 1–9 days
        after the request, completion 1–13 days after the approval) puts it, or within the
        simulator's minutes if that time has gone — except those open for over 30 days, which stay
        open (overdue); this month's payers do not pay again; meetings held this period are not
        held again.
        """
        now = _Moment.at(self.clock())
        index = {bytes(code).decode(): i for i, code in enumerate(self._codes)}
        period_of = {kind: period for kind, period, _ in MEETINGS}
        for org_id, kind, epoch in past.meetings:
            period = period_of.get(kind)
            if period is not None and _Moment.at(epoch).period_key[period] == now.period_key[period]:
                self._meetings.held_in_past(period, now.period_key[period], org_id, kind)
        self._dues_month = now.month
        for code in past.dues_paid:
            if code in index:
                self._dues_paid[index[code]] = True
        for open_ in past.transfers:
            member = index.get(open_.member)
            ends = self.tree.by_code.get(open_.from_org), self.tree.by_code.get(open_.to_org)
            if member is None or None in ends or member in self._transfer_members:
                continue
            transfer = _Transfer(open_.code, member, ends[0], ends[1], open_.reason, open_.step)  # type: ignore[arg-type]
            self._transfers[open_.code] = transfer
            self._transfer_members.add(member)
            if now.epoch - open_.opened > _PAST_STALLED_S:
                continue  # stalled in the past: stays open, overdue
            days = _PAST_STEP_DAYS[open_.step]
            due = open_.last + self._rng.uniform(*days) * 86_400.0
            if due <= now.epoch:
                due = now.epoch + self._rng.uniform(*_TRANSFER_STEP_S)
            self._transfer_count += 1
            heapq.heappush(self._transfer_due, (due, self._transfer_count, open_.code))

    def _index_organisations(self) -> None:
        """Branches, groups and provinces that have members, and members by organisation."""
        tree = self.tree
        branch_of: dict[int, int] = {}
        for org_id, chain in tree.ancestors.items():
            branch_of[org_id] = next((a for a in chain if tree.nodes[a].kind == "branch"), -1)
        simulated = self._stages != _NOT_SIMULATED
        member_orgs = np.unique(self._org_ids[simulated]).tolist()
        self._branches = sorted({branch_of[o] for o in member_orgs} - {-1})
        self._groups = [o for o in member_orgs if tree.nodes[o].kind == "group"]
        self._member_orgs = member_orgs
        order = np.argsort(self._org_ids, kind="stable").astype(np.int32)
        self._by_org = order
        self._by_org_keys = self._org_ids[order]

        self._province_of: dict[int, str] = {}
        for org_id, node in tree.nodes.items():
            if node.region_code and len(node.region_code) >= 2:
                self._province_of[org_id] = node.region_code[:2] + "0000"
        self._provinces = sorted(set(self._province_of.values()))
        highest_org = max(max(tree.nodes), int(self._org_ids.max(initial=0)))
        self._province_index = np.full(highest_org + 1, -1, dtype=np.int16)
        for org_id, province in self._province_of.items():
            self._province_index[org_id] = self._provinces.index(province)
        self._province_org: dict[str, int] = {}
        for org_id in sorted(self._province_of, key=lambda o: (tree.nodes[o].level, o)):
            self._province_org.setdefault(self._province_of[org_id], org_id)
        self._notice_orgs = sorted(o for o, n in tree.nodes.items() if n.kind == "committee" and n.level <= 2)

    def _members_of(self, org_ids: Iterable[int]) -> list[int]:
        """Members whose organisation (as loaded, still there now) is one of ``org_ids``."""
        found: list[int] = []
        for org_id in org_ids:
            lo = int(np.searchsorted(self._by_org_keys, org_id, "left"))
            hi = int(np.searchsorted(self._by_org_keys, org_id, "right"))
            found.extend(int(i) for i in self._by_org[lo:hi] if self._org_ids[i] == org_id)
        return found

    # -- the stream ----------------------------------------------------------

    def next_batch(self, n: int) -> list[Event]:
        """The next ``n`` events, time-stamped at the clock's current reading."""
        moment = _Moment.at(self.clock())
        self._on_the_clock(moment)
        while len(self._pending) < n:
            self._pending.extend(self._one_slot(moment))
        return [self._pending.popleft() for _ in range(n)]

    def _on_the_clock(self, m: _Moment) -> None:
        """Things that follow time, not the event count: notices, transfer steps, campaigns."""
        if m.epoch >= self._next_notice_at:
            self._pending.append(self._notice(m))
            self._next_notice_at = m.epoch + max(60.0, self._rng.expovariate(1.0 / _NOTICE_EVERY_S))
        while self._transfer_due and self._transfer_due[0][0] <= m.epoch:
            _, _, code = heapq.heappop(self._transfer_due)
            self._pending.append(self._advance_transfer(self._transfers[code], m))
        if self._campaign is not None and m.epoch >= self._campaign.ends_at:
            self._campaign = None
        if self._campaign is None and m.epoch >= self._next_campaign_at:
            self._start_campaign(m)
            self._next_campaign_at = m.epoch + self._rng.uniform(0.5, 1.5) * _CAMPAIGN_EVERY_S

    def _one_slot(self, m: _Moment) -> list[Event]:
        campaign = self._campaign
        names, cumulative = self._mix(m)
        if campaign is not None:
            # Three times the usual study in the province: the usual share of
            # study times the province's share, twice more.
            extra = (_CAMPAIGN_FACTOR - 1.0) * self._study_share * campaign.share
            if self._rng.random() < extra:
                return self._campaign_study(campaign, m)
        slot = names[bisect.bisect_right(cumulative, self._rng.random() * cumulative[-1])]
        return self._SLOT_HANDLERS[slot](self, m) or self._study(m)

    def _mix(self, m: _Moment) -> tuple[list[str], list[float]]:
        key = (m.hour, m.day, m.weekday)
        if key != self._weights_key:
            weights = slot_weights(m.epoch)
            self._study_share = weights["study"] / sum(weights.values())
            self._slot_names = list(weights)
            self._slot_cumulative = list(np.cumsum(list(weights.values())))
            self._weights_key = key
        return self._slot_names, self._slot_cumulative

    # -- events ----------------------------------------------------------------

    def _event(self, etype: str, org_id: int, member: int | None, data: dict[str, object], m: _Moment) -> Event:
        self._counter += 1
        return {
            "id": f"sim-{self.run_id}-{self._counter}",
            "type": etype,
            "ts": m.ts,
            "org": self._org_code[org_id],
            "member": self._codes[member].decode() if member is not None else None,
            "data": data,
        }

    def _member_event(self, etype: str, member: int, data: dict[str, object], m: _Moment) -> Event:
        return self._event(etype, int(self._org_ids[member]), member, data, m)

    def _active_member(self) -> int:
        """A party member, more often one of the active minority."""
        n = len(self._activity_order)
        for _ in range(_PICK_TRIES):
            i = int(self._activity_order[int(n * self._rng.random() ** ACTIVITY_SKEW)])
            if self._stages[i] >= _PROBATIONARY:
                return i
        return int(self._party[self._rng.randrange(len(self._party))])

    def _any_member(self) -> int:
        """A party member, uniformly."""
        return int(self._party[self._rng.randrange(len(self._party))])

    def _study(self, m: _Moment) -> list[Event]:
        rng = self._rng
        item = STUDY_ITEMS[rng.randrange(len(STUDY_ITEMS))]
        data = {"points": rng.randint(*item.points), "minutes": rng.randint(*item.minutes), "title": item.title}
        return [self._member_event("study", self._active_member(), data, m)]

    def _campaign_study(self, campaign: _Campaign, m: _Moment) -> list[Event]:
        rng = self._rng
        for _ in range(_PICK_TRIES):
            i = int(campaign.members[rng.randrange(len(campaign.members))])
            if self._stages[i] >= _PROBATIONARY:
                data = {"points": rng.randint(3, 8), "minutes": rng.randint(20, 45), "title": campaign.title}
                return [self._member_event("study", i, data, m)]
        return self._study(m)

    def _article(self) -> tuple[int, str]:
        """A popular article more often than an old one."""
        k = int(len(ARTICLE_TITLES) * self._rng.random() ** 2)
        return k, ARTICLE_TITLES[k]

    def _article_read(self, m: _Moment) -> list[Event]:
        k, title = self._article()
        data = {"title": title, "article": f"A{k + 1:03d}"}
        return [self._member_event("article_read", self._active_member(), data, m)]

    def _interaction(self, m: _Moment) -> list[Event]:
        k, title = self._article()
        etype = _weighted(self._rng, INTERACTIONS)
        member = self._active_member()
        return [self._event(etype, int(self._org_ids[member]), member, {"title": title, "article": f"A{k + 1:03d}"}, m)]

    def _login(self, m: _Moment) -> list[Event]:
        return [self._member_event("login", self._active_member(), {"device": _weighted(self._rng, DEVICES)}, m)]

    def _volunteer(self, m: _Moment) -> list[Event]:
        rng = self._rng
        data = {"hours": rng.choice((1.0, 1.5, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 6.0, 8.0)),
                "title": VOLUNTEER_TITLES[rng.randrange(len(VOLUNTEER_TITLES))]}  # fmt: skip
        return [self._member_event("volunteer", self._active_member(), data, m)]

    def _dues(self, m: _Moment) -> list[Event]:
        if m.month != self._dues_month:
            self._dues_month = m.month
            self._dues_paid[:] = False
        for _ in range(_PICK_TRIES):
            i = self._any_member()
            if not self._dues_paid[i]:
                self._dues_paid[i] = True
                return [self._member_event("dues_paid", i, {"amount": self._dues_amount(i), "month": m.month}, m)]
        return []

    def _dues_amount(self, member: int) -> float:
        return dues_amount(self.seed, member)

    def _meeting(self, m: _Moment) -> list[Event]:
        rng = self._rng
        kinds = MEETINGS if self._groups else MEETINGS_WITHOUT_GROUPS
        u = rng.random() * sum(k[2] for k in kinds)
        for kind, period, weight in kinds:  # noqa: B007 - the chosen kind and period are used after the loop
            u -= weight
            if u < 0:
                break
        if period == "year" and m.quarter_no != 1:
            return []
        candidates = self._groups if kind == "group" else self._branches
        if not candidates:
            return []
        org_id = candidates[rng.randrange(len(candidates))]
        key = m.period_key[period]
        scheduled = _mix64(self.seed, org_id, zlib.crc32(kind.encode()), key) % (_MEETING_LAST_DAY[period] + 1)
        if scheduled > m.day_in[period] or self._meetings.is_held(period, key, org_id, kind):
            return []
        invited = self._members_of([org_id, *self._child_groups(org_id)] if kind != "group" else [org_id])
        invited = [i for i in invited if self._stages[i] >= _PROBATIONARY]
        if kind == "branch_committee":
            invited = [i for i in invited if self._posts[i] in COMMITTEE_POSTS]
        if len(invited) < (2 if kind == "branch_committee" else 1):
            return []
        attended = [i for i in invited if rng.random() < MEETING_ATTENDANCE] or invited[:1]
        self._meetings.mark(period, org_id, kind)
        title = rng.choice(MEETING_TITLES[kind]).format(
            m=m.month_no, q=m.quarter_no, y=m.year, topic=STUDY_ITEMS[rng.randrange(len(STUDY_ITEMS))].title
        )
        held = self._event("meeting_held", org_id, None, {"kind": kind, "attendees": len(attended), "title": title}, m)
        # Each attendance names the meeting by the id of its meeting_held event.
        return [held] + [
            self._member_event("meeting_attended", i, {"kind": kind, "meeting": held["id"]}, m)
            for i in attended[:_MAX_ATTENDED_EVENTS]
        ]

    def _child_groups(self, org_id: int) -> list[int]:
        return [c for c in self.tree.children.get(org_id, ()) if self.tree.nodes[c].kind == "group"]

    def _transfer(self, m: _Moment) -> list[Event]:
        if len(self._transfers) >= _MAX_TRANSFERS_IN_FLIGHT or len(self._member_orgs) < 2:
            return []
        rng = self._rng
        member = self._any_member()
        if member in self._transfer_members:
            return []
        from_org = int(self._org_ids[member])
        to_org = int(self._org_ids[self._any_member()])
        if to_org == from_org:
            return []
        self._transfer_count += 1
        transfer = _Transfer(
            code=f"TR{self.run_id}-{self._transfer_count}",
            member=member,
            from_org=from_org,
            to_org=to_org,
            reason=TRANSFER_REASONS[rng.randrange(len(TRANSFER_REASONS))],
        )
        self._transfers[transfer.code] = transfer
        self._transfer_members.add(member)
        self._schedule_step(transfer, m)
        return [self._transfer_event("transfer_requested", transfer, m)]

    def _schedule_step(self, transfer: _Transfer, m: _Moment) -> None:
        due = m.epoch + self._rng.uniform(*_TRANSFER_STEP_S)
        heapq.heappush(self._transfer_due, (due, self._transfer_count, transfer.code))

    def _advance_transfer(self, transfer: _Transfer, m: _Moment) -> Event:
        """requested → approved (or rejected, ~10%) → completed; the member moves on completion."""
        if transfer.step == "requested":
            if self._rng.random() < TRANSFER_REJECTED:
                self._end_transfer(transfer)
                return self._transfer_event("transfer_rejected", transfer, m)
            transfer.step = "approved"
            self._schedule_step(transfer, m)
            return self._transfer_event("transfer_approved", transfer, m)
        self._org_ids[transfer.member] = transfer.to_org
        self._end_transfer(transfer)
        return self._transfer_event("transfer_completed", transfer, m)

    def _end_transfer(self, transfer: _Transfer) -> None:
        del self._transfers[transfer.code]
        self._transfer_members.discard(transfer.member)

    def _transfer_event(self, etype: str, t: _Transfer, m: _Moment) -> Event:
        data = {"transfer": t.code, "from_org": self._org_code[t.from_org], "to_org": self._org_code[t.to_org],
                "reason": t.reason}  # fmt: skip
        # Until it completes, a transfer is the business of the organisation the member leaves.
        org = t.to_org if etype == "transfer_completed" else t.from_org
        return self._event(etype, org, t.member, data, m)

    def _recruit(self, m: _Moment) -> list[Event]:
        rng = self._rng
        if rng.random() < _RECRUIT_APPLIED and self._branches:
            return [self._event("recruit_applied", self._branches[rng.randrange(len(self._branches))], None, {}, m)]
        if len(self._pipeline) == 0:
            return []
        i = int(self._pipeline[rng.randrange(len(self._pipeline))])
        stage = int(self._stages[i])
        if i in self._advanced or not 0 <= stage < _FULL:
            return []
        self._advanced.add(i)
        self._stages[i] = stage + 1
        return [self._member_event(_ADVANCE_EVENT[stage], i, {}, m)]

    def _notice(self, m: _Moment) -> Event:
        """A notice to the whole organisation or a provincial committee; one stating a fact only when it holds."""
        rng = self._rng
        use_root = not self._notice_orgs or rng.random() < 0.5
        org = self.tree.root_id if use_root else self._notice_orgs[rng.randrange(len(self._notice_orgs))]
        assert org is not None
        level = _weighted(rng, _NOTICE_LEVELS)
        titles = [title for title in NOTICE_TITLES[level] if self._notice_holds(title, org, m)]
        if not titles:
            level, titles = "info", [title for title in NOTICE_TITLES["info"] if self._notice_holds(title, org, m)]
        title = rng.choice(titles).format(m=m.month_no, q=m.quarter_no)
        return self._event("notice", org, None, {"title": title, "level": level, "ttl_s": _NOTICE_TTL_S[level]}, m)

    def _notice_holds(self, title: str, org_id: int, m: _Moment) -> bool:
        months = NOTICE_MONTHS.get(title)
        if months is not None and m.month_no not in months:
            return False
        condition = NOTICE_WHEN_KPI.get(title)
        if condition is None:
            return True
        return self.kpis is not None and notice_condition(condition, self.kpis(org_id), m.day)

    def _start_campaign(self, m: _Moment) -> None:
        rng = self._rng
        province = self._province_of.get(int(self._org_ids[self._any_member()]))
        if province is None:
            return
        in_province = self._province_index[self._org_ids] == self._provinces.index(province)
        members = np.flatnonzero(in_province & (self._stages >= _PROBATIONARY)).astype(np.int32)
        title = CAMPAIGN_TITLES[rng.randrange(len(CAMPAIGN_TITLES))]
        self._campaign = _Campaign(
            province=province,
            title=title,
            ends_at=m.epoch + rng.uniform(*_CAMPAIGN_LENGTH_S),
            members=members,
            share=len(members) / len(self._party),
        )
        notice = {"title": f"关于开展“{title}”活动的通知", "level": "info", "ttl_s": int(_CAMPAIGN_LENGTH_S[1])}
        self._pending.append(self._event("notice", self._province_org[province], None, notice, m))

    @property
    def campaign(self) -> tuple[str, str, float] | None:
        """(province code, title, ends at) of the study campaign under way, if any."""
        c = self._campaign
        return (c.province, c.title, c.ends_at) if c else None

    @property
    def transfers_in_flight(self) -> int:
        return len(self._transfers)

    def org_of(self, member_code: str) -> str:
        """The organisation code the model currently has the member in (after its transfers)."""
        i = int(np.flatnonzero(self._codes == member_code.encode())[0])
        return self._org_code[int(self._org_ids[i])]

    _SLOT_HANDLERS: dict[str, Callable[[StreamModel, _Moment], list[Event]]] = {
        "study": _study,
        "article_read": _article_read,
        "interaction": _interaction,
        "login": _login,
        "meeting": _meeting,
        "dues": _dues,
        "volunteer": _volunteer,
        "transfer": _transfer,
        "recruit": _recruit,
    }


def model_from_store(engine: Engine, *, seed: int, clock: Clock = time.time) -> StreamModel:
    """A model over the organisation and members in the store."""
    return StreamModel(OrgTree.load(engine), Population.load(engine), seed=seed, clock=clock)
