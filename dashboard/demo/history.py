"""A believable past for the demo organisation: ``seed --history-days D``.

The stream model of dashboard/demo/simulator.py run backwards over D days, in
bulk: the same kinds of activity with the same hourly and calendar weights
(``slot_weights``), the same study items, articles and meeting titles, the
same dues amount per member, the same transfer steps and rejection share. The
live simulator generates event by event at a rate the caller fixes; the past
is generated per hour with numpy at a *density* (activity events per party
member per day), so a 90-day past of 50,000 members is a few seconds' work.

What the past holds (docs/demo-data.md states the shares, tests check them):

- study, reading, interactions, logins and volunteering, hour by hour in the
  simulator's daily and weekly rhythm, with a study campaign in one province
  now and then; a minority of members do most of it;
- 三会一课, 主题党日 and 组织生活会 on each branch's own calendar (a branch keeps
  its usual day of the month), held by most branches and missed by a few —
  mostly the same few, as in life — with the attendances;
- 党费 for every month, paid mostly in the first days with a tail, by nearly
  every member (the current month only up to now);
- transfers through their steps (requested → approved → completed, or
  rejected), a few stuck and overdue; completed ones end at the member's
  organisation on the roll, so the log and the roll agree;
- recruitment steps consistent with the roll: a probationary member who
  joined inside the window has their ``recruit_probationary`` on their join
  date, a full member whose probation ended inside it their ``recruit_full``,
  and a share of the pipeline (applicants, activists, development targets)
  their latest step;
- 失联: a small share of members with no activity at all in the window and
  one last trace (a login) 185–720 days ago — so the lost-contact KPI is
  true even when the window is shorter than six months.

Events are emitted in time order a day at a time (``HistoryDays``), so the
events table's seq follows time and memory stays bounded by one day plus the
sparse events (meetings, dues, transfers, recruitment) as integer columns.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from dashboard.demo.members import MemberTable
from dashboard.demo.shape import OrgTable
from dashboard.demo.simulator import (
    ACTIVITY_SKEW,
    COMMITTEE_POSTS,
    DEVICES,
    H_DUES,
    H_OFFICE,
    INTERACTIONS,
    MEETING_ATTENDANCE,
    MEETINGS,
    SHANGHAI,
    TRANSFER_REJECTED,
    dues_amount,
    dues_factor,
    slot_weights,
)
from dashboard.demo.texts import (
    ARTICLE_TITLES,
    CAMPAIGN_TITLES,
    MEETING_TITLES,
    STUDY_ITEMS,
    TRANSFER_REASONS,
    VOLUNTEER_TITLES,
)

MAX_HISTORY_DAYS = 3650
DETAIL_DAYS_AT_START = 30  # python app.py's past: the last 30 days in full (the 30-day trend), older days sparse
DEFAULT_DENSITY = 0.1  # activity events (study, reading, interactions, logins, volunteering) per party member per day

LOST_SHARE = 0.015  # 失联: members with no activity in the window, last seen 185–720 days ago
WEAK_BRANCH_SHARE = 0.03  # branches that miss most of their meetings
EARLY_BRANCH_SHARE = 0.4  # branches that hold the month's meetings in its first working days
HELD_BY_WEAK = 0.35
HELD_BY_OTHERS = 0.97
DUES_PAID_SHARE = 0.985  # of members, each month
TRANSFERS_PER_MEMBER_YEAR = 0.02
TRANSFER_STUCK = 0.06  # transfers that stop after their request or approval (overdue after 30 days)
PIPELINE_STEP_DAYS = {"applicant": 180, "activist": 365, "development_target": 365}  # typical time in each stage
CAMPAIGN_EVERY_DAYS = 5
CAMPAIGN_FACTOR = 2.5  # study in the campaign province on a campaign day

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
_ACTIVITY = ("study", "article_read", "interaction", "login", "volunteer")
TYPES: tuple[str, ...] = (
    "study", "article_read", "like", "comment", "share", "login", "volunteer", "dues_paid",
    "meeting_held", "meeting_attended",
    "transfer_requested", "transfer_approved", "transfer_rejected", "transfer_completed",
    "recruit_applied", "recruit_activist", "recruit_development_target", "recruit_probationary", "recruit_full",
)  # fmt: skip
T = {name: i for i, name in enumerate(TYPES)}
_STAGE_ENTRY = ("recruit_applied", "recruit_activist", "recruit_development_target", "recruit_probationary", "recruit_full")
_PROBATIONARY, _FULL = 3, 4
_VOLUNTEER_HOURS = (1.0, 1.5, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 6.0, 8.0)
_MEETING_KINDS = tuple(kind for kind, _, _ in MEETINGS)
_QUARTER_MONTH_SHARE = (0.55, 0.3, 0.15)  # which month of the quarter a quarterly meeting falls in


class HistoryRefused(ValueError):
    """The history asked for cannot be written; one line for the terminal."""


def default_history_days(now: float | None = None) -> int:
    """The demo's default past: back to the start of the current quarter or of the previous month,
    whichever is earlier (31–92 days), so that every period a KPI shows — this month, the previous
    one, this quarter — and the 30-day trend are whole from the first second."""
    today = dt.datetime.fromtimestamp(time.time() if now is None else now, SHANGHAI).date()
    previous_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    quarter = today.replace(day=1, month=(today.month - 1) // 3 * 3 + 1)
    return max(30, (today - min(previous_month, quarter)).days)


def check_days(days: int) -> None:
    if not 0 <= days <= MAX_HISTORY_DAYS:
        raise HistoryRefused(f"--history-days must be between 0 and {MAX_HISTORY_DAYS}, got {days}")


@dataclass
class Columns:
    """Events as integer columns; ``data`` strings are made only when a day is written."""

    type: np.ndarray  # int8 index into TYPES
    ts: np.ndarray  # int64 epoch ms
    org: np.ndarray  # int64 organisation id
    member: np.ndarray  # int64 member id, 0 for none
    p1: np.ndarray  # int64 parameters, meaning per type (see _Formatter)
    p2: np.ndarray
    p3: np.ndarray

    @classmethod
    def of(cls, etype: int | np.ndarray, ts: np.ndarray, org: np.ndarray, member: np.ndarray | int = 0,
           p1: np.ndarray | int = 0, p2: np.ndarray | int = 0, p3: np.ndarray | int = 0) -> Columns:  # fmt: skip
        n = len(ts)

        def col(v: np.ndarray | int, dtype: type = np.int64) -> np.ndarray:
            return np.broadcast_to(np.asarray(v, dtype=dtype), (n,)).copy()

        return cls(col(etype, np.int8), col(ts), col(org), col(member), col(p1), col(p2), col(p3))

    @classmethod
    def concat(cls, parts: list[Columns]) -> Columns:
        if not parts:
            return cls.of(0, np.zeros(0, np.int64), np.zeros(0, np.int64))
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in cls.__dataclass_fields__))

    def take(self, index: np.ndarray) -> Columns:
        return Columns(*(getattr(self, f)[index] for f in self.__dataclass_fields__))

    def __len__(self) -> int:
        return len(self.ts)


def _local_midnight_ms(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(0), tzinfo=SHANGHAI).timestamp() * 1000)


def _hour_profile_pick(rng: np.random.Generator, profile: tuple[float, ...], n: int) -> np.ndarray:
    """``n`` hours of the day drawn from an hourly profile, as milliseconds into the day (uniform within the hour)."""
    p = np.asarray(profile, dtype=float)
    hours = rng.choice(24, size=n, p=p / p.sum())
    return hours * HOUR_MS + rng.integers(0, HOUR_MS, size=n)


class _Roll:
    """What the history needs of the organisation and its members, as arrays (ids are index + 1)."""

    def __init__(self, orgs: OrgTable, members: MemberTable, now_ms: int) -> None:
        self.kinds = np.array(orgs.kinds)
        self.codes = orgs.codes
        self.parents = np.array([p or 0 for p in orgs.parent_ids], dtype=np.int64)
        self.regions = orgs.region_codes
        self.org = members.org_ids.astype(np.int64)
        self.stage = members.stages.astype(np.int8)
        self.posts = members.posts + 1  # as the simulator's POSTS index: 0 = no post
        labels = members.labels["join_date"]
        dates = np.array([np.datetime64(d) if d else np.datetime64("NaT") for d in labels], dtype="datetime64[D]")
        self.join_day = dates[members.join_index]
        self.party = np.flatnonzero(self.stage >= _PROBATIONARY)
        self.now_ms = now_ms
        self.branch_of = self._branch_of()

    def _branch_of(self) -> np.ndarray:
        """For each organisation id (index), the id of its branch (itself, or a group's parent); 0 if none."""
        n = len(self.kinds)
        out = np.zeros(n + 1, dtype=np.int64)
        ids = np.arange(1, n + 1)
        is_branch = self.kinds == "branch"
        out[ids[is_branch]] = ids[is_branch]
        groups = self.kinds == "group"
        parents = self.parents[groups]
        out[ids[groups]] = np.where(self.kinds[np.maximum(parents - 1, 0)] == "branch", parents, 0)
        return out


class HistoryPlan:
    """The past of one demo organisation: sparse events up front, activity a day at a time."""

    def __init__(self, orgs: OrgTable, members: MemberTable, *, days: int, seed: int, now: float,
                 density: float = DEFAULT_DENSITY, detail_days: int | None = None) -> None:  # fmt: skip
        """``detail_days``: only the last so many days in full; before them only the records the
        period KPIs read (meetings held, transfers, recruitment) — None: every day in full."""
        check_days(days)
        if not density >= 0:
            raise HistoryRefused(f"history density must be at least 0, got {density}")
        self.seed = seed
        self.density = density
        self.now_ms = int(now * 1000)
        today = dt.datetime.fromtimestamp(now, SHANGHAI).date()
        self.detail_ms = _local_midnight_ms(today - dt.timedelta(days=detail_days)) if detail_days is not None else 0
        self.first_day = today - dt.timedelta(days=days)
        self.start_ms = _local_midnight_ms(self.first_day)
        self.days = [self.first_day + dt.timedelta(days=i) for i in range(days + 1)]
        self.roll = _Roll(orgs, members, self.now_ms)
        self.rng = np.random.default_rng([seed, 14])
        self._dues = np.array([dues_amount(seed, int(i)) for i in range(len(members))]) if days else np.zeros(0)
        self.lost = self._pick_lost() if days else np.zeros(0, dtype=np.int64)
        active = np.setdiff1d(self.roll.party, self.lost)
        self.active = active[self.rng.permutation(len(active))]  # activity rank: the first do most
        self.transfers: list[tuple[int, int, int, int]] = []  # (number, member, from org, to org)
        self.sparse = self._sparse() if days else Columns.concat([])
        self.moved = self._moves()
        self.campaigns = self._campaign_days()

    # -- the roll's past ------------------------------------------------------

    def _pick_lost(self) -> np.ndarray:
        roll = self.roll
        party = roll.party
        joined_before = roll.join_day[party] < np.datetime64(self.first_day) - np.timedelta64(200, "D")
        eligible = party[joined_before & (roll.posts[party] == 0)]  # nobody with a post is out of contact
        n = min(len(eligible), round(LOST_SHARE * len(party)))
        return np.sort(self.rng.choice(eligible, size=n, replace=False)) if n else np.zeros(0, np.int64)

    def _sparse(self) -> Columns:
        parts = [self._lost_traces(), self._dues_payments(), *self._meetings(), self._transfer_steps(), self._recruitment()]
        sparse = Columns.concat([p for p in parts if len(p)])
        keep = (sparse.ts < self.now_ms) & ((sparse.ts >= self.start_ms) | (sparse.type == T["login"]))
        keep &= (sparse.ts >= self.detail_ms) | ~np.isin(sparse.type, [T["dues_paid"], T["meeting_attended"]])
        sparse = sparse.take(np.flatnonzero(keep))
        return sparse.take(np.argsort(sparse.ts, kind="stable"))

    def _lost_traces(self) -> Columns:
        n = len(self.lost)
        ago = self.rng.integers(185 * DAY_MS, 720 * DAY_MS, size=n)
        ts = self.now_ms - ago
        return Columns.of(T["login"], ts, self.roll.org[self.lost], self.lost + 1, p1=self.rng.integers(0, len(DEVICES), n))

    def _months(self) -> list[dt.date]:
        months, day = [], self.first_day.replace(day=1)
        while day <= self.days[-1]:
            months.append(day)
            day = (day + dt.timedelta(days=32)).replace(day=1)
        return months

    def _dues_payments(self) -> Columns:
        """Each month, nearly every member pays, mostly in the first days (the simulator's calendar), some later."""
        rng, parts = self.rng, []
        payers = self.active
        in_arrears = rng.random(len(payers)) < 2 * (1 - DUES_PAID_SHARE)  # the same few miss most months
        for month in self._months():
            length = ((month + dt.timedelta(days=32)).replace(day=1) - month).days
            weights = np.array([dues_factor(d) for d in range(1, length + 1)])
            pays = rng.random(len(payers)) < np.where(in_arrears, 0.5, 1 - (1 - DUES_PAID_SHARE) / 2)
            who = payers[pays]
            day = rng.choice(length, size=len(who), p=weights / weights.sum())
            ts = _local_midnight_ms(month) + day * DAY_MS + _hour_profile_pick(rng, H_DUES, len(who))
            number = month.year * 12 + month.month - 1
            parts.append(Columns.of(T["dues_paid"], ts, self.roll.org[who], who + 1, p1=number))
        return Columns.concat(parts)

    def _meetings(self) -> list[Columns]:
        """Every branch's meetings on its own calendar, and who attended."""
        roll, rng = self.roll, self.rng
        branches = np.flatnonzero(roll.kinds == "branch") + 1
        if not len(branches):
            return []
        weak = rng.random(len(branches)) < WEAK_BRANCH_SHARE
        # Each branch's usual day of the month: many hold the month's meetings together in its first
        # working days (主题党日 with the 支委会), the others on a day of their own up to the 22nd.
        usual_day = np.where(rng.random(len(branches)) < EARLY_BRANCH_SHARE, rng.integers(0, 5, len(branches)),
                             rng.integers(5, 22, len(branches)))  # fmt: skip
        quarter_slot = rng.choice(3, size=(len(branches), len(MEETINGS)), p=_QUARTER_MONTH_SHARE)
        groups = np.flatnonzero(roll.kinds == "group") + 1
        branch_index = np.zeros(len(roll.kinds) + 1, dtype=np.int64)
        branch_index[branches] = np.arange(len(branches))
        groups = groups[roll.branch_of[groups] > 0]
        group_branch = branch_index[roll.branch_of[groups]]
        parts: list[tuple[np.ndarray, ...]] = []  # (kind, org, ts) per month and kind
        for month in self._months():
            meeting_day = usual_day + rng.integers(0, 3, len(branches))  # this month's, shared by the branch's meetings
            for k, (kind, period, _) in enumerate(MEETINGS):
                orgs, b = (groups, group_branch) if kind == "group" else (branches, np.arange(len(branches)))
                due = self._falls_in(period, month, quarter_slot[b, k])
                held = due & (rng.random(len(orgs)) < np.where(weak[b], HELD_BY_WEAK, HELD_BY_OTHERS))
                orgs, b = orgs[held], b[held]
                later = rng.integers(0, 4, len(b)) if kind == "group" else 0  # a group meets within days of it
                day = np.datetime64(month) + np.minimum(meeting_day[b] + later, 27)
                weekday = (day.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
                day = day + np.where(weekday >= 5, 7 - weekday, 0)
                local = (day - np.datetime64(self.first_day)).astype(np.int64) * DAY_MS + self.start_ms
                parts.append((np.full(len(orgs), k), orgs, local + _hour_profile_pick(rng, H_OFFICE, len(orgs))))
        kinds, orgs, times = (np.concatenate(c) for c in zip(*parts, strict=True))
        order = np.argsort(times, kind="stable")
        return self._held_and_attended(kinds[order], orgs[order], times[order])

    @staticmethod
    def _falls_in(period: str, month: dt.date, quarter_slot: np.ndarray) -> np.ndarray:
        """Which branches hold a meeting of ``period`` in ``month``: monthly ones every month, quarterly
        ones in the branch's usual month of the quarter, 组织生活会 in January (after the year's review)."""
        if period == "month":
            return np.ones(len(quarter_slot), dtype=bool)
        if period == "quarter":
            return quarter_slot == (month.month - 1) % 3
        return np.full(len(quarter_slot), month.month == 1)

    def _invited(self) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray], dict[int, np.ndarray]]:
        """Active party members per group, per branch (with its groups) and per branch committee."""
        roll = self.roll
        ids = self.active[np.argsort(roll.org[self.active], kind="stable")]
        orgs = roll.org[ids]
        cuts = np.flatnonzero(np.diff(orgs)) + 1
        at = {int(o[0]): part for o, part in zip(np.split(orgs, cuts), np.split(ids, cuts), strict=True) if len(o)}
        in_branch: dict[int, list[np.ndarray]] = {}
        for org, people in at.items():
            home = int(roll.branch_of[org])
            if home:
                in_branch.setdefault(home, []).append(people)
        branch = {b: np.sort(np.concatenate(p)) for b, p in in_branch.items()}
        committee = {b: p[np.isin(roll.posts[p], COMMITTEE_POSTS)] for b, p in branch.items()}
        return at, branch, committee

    def _held_and_attended(self, kinds: np.ndarray, orgs: np.ndarray, times: np.ndarray) -> list[Columns]:
        rng, roll = self.rng, self.roll
        at, branch, committee = self._invited()
        empty = np.zeros(0, dtype=np.int64)
        invited = []
        for k, org in zip(kinds.tolist(), orgs.tolist(), strict=True):
            kind = _MEETING_KINDS[k]
            people = at.get(org, empty) if kind == "group" else (committee if kind == "branch_committee" else branch).get(org, empty)
            invited.append(people if len(people) >= (2 if kind == "branch_committee" else 1) else empty)
        sizes = np.array([len(p) for p in invited], dtype=np.int64)
        held = np.flatnonzero(sizes)
        people = np.concatenate(invited) if invited else empty
        meeting = np.repeat(np.arange(len(sizes)), sizes)
        came = rng.random(len(people)) < MEETING_ATTENDANCE
        came[np.cumsum(sizes)[held] - sizes[held]] = True  # at least the first invited (who called it)
        people, meeting = people[came], meeting[came]
        attendees = np.bincount(meeting, minlength=len(sizes))
        number = np.cumsum(sizes > 0) - 1  # meetings numbered in time order
        titles = rng.integers(0, 1 << 20, len(sizes))
        return [
            Columns.of(T["meeting_held"], times[held], orgs[held], 0, p1=number[held], p2=attendees[held],
                       p3=kinds[held] * (1 << 20) + titles[held]),
            Columns.of(T["meeting_attended"], times[meeting] + 1 + rng.integers(0, 600_000, len(people)),
                       roll.org[people], people + 1, p1=number[meeting], p3=kinds[meeting]),
        ]  # fmt: skip
    def _transfer_steps(self) -> Columns:
        """requested → approved (or rejected) → completed, days apart in office hours; a few stop."""
        rng, roll = self.rng, self.roll
        span_ms = self.now_ms - self.start_ms
        n = int(rng.poisson(TRANSFERS_PER_MEMBER_YEAR * len(self.active) * span_ms / (365 * DAY_MS)))
        member_orgs = np.unique(roll.org[self.active])
        if n == 0 or len(member_orgs) < 2:
            return Columns.concat([])
        who = rng.choice(self.active, size=min(n, len(self.active)), replace=False)
        parts = []
        for number, member in enumerate(who.tolist(), start=1):
            home = int(roll.org[member])
            other = int(rng.choice(member_orgs))
            if other == home:
                continue
            requested = self._office_time(self.start_ms + int(rng.integers(0, span_ms)))
            approved = self._office_time(requested + int(rng.integers(1, 10)) * DAY_MS)
            closed = self._office_time(approved + int(rng.integers(1, 14)) * DAY_MS)
            stuck = rng.random() < TRANSFER_STUCK
            rejected = not stuck and rng.random() < TRANSFER_REJECTED
            steps = [("transfer_requested", requested)]
            if not (stuck and rng.random() < 0.5):
                steps.append(("transfer_rejected" if rejected else "transfer_approved", approved))
            if not stuck and not rejected:
                steps.append(("transfer_completed", closed))
            completes = steps[-1][0] == "transfer_completed" and closed < self.now_ms
            from_org, to_org = (other, home) if completes else (home, other)
            if completes:
                self.transfers.append((number, member, from_org, to_org))
            for etype, ts in steps:
                org = to_org if etype == "transfer_completed" else from_org
                p2 = from_org if etype == "transfer_completed" else to_org
                parts.append((T[etype], ts, org, member + 1, number, p2, number % len(TRANSFER_REASONS)))
        if not parts:
            return Columns.concat([])
        cols = [np.array(c, dtype=np.int64) for c in zip(*parts, strict=True)]
        return Columns(cols[0].astype(np.int8), *cols[1:])

    def _office_time(self, ms: int) -> int:
        return int(self._office_times(np.array([ms], dtype=np.int64))[0])

    def _office_times(self, ms: np.ndarray) -> np.ndarray:
        """The same local day (or the next working day) at an office hour."""
        day = np.datetime64(self.first_day) + (ms - self.start_ms) // DAY_MS
        weekday = (day.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
        day = day + np.where(weekday >= 5, 7 - weekday, 0)
        return (day - np.datetime64(self.first_day)).astype(np.int64) * DAY_MS + self.start_ms + _hour_profile_pick(
            self.rng, H_OFFICE, len(ms)
        )

    def _recruitment(self) -> Columns:
        """Steps that end in each person's stage on the roll (the roll is the present; the log leads to it)."""
        roll, rng = self.roll, self.rng
        first = np.datetime64(self.first_day)
        parts = []
        for stage, offset in ((_PROBATIONARY, 0), (_FULL, 365)):
            people = np.flatnonzero(roll.stage == stage)
            step_day = roll.join_day[people] + np.timedelta64(offset, "D")
            inside = (step_day >= first) & ~np.isnat(step_day)
            people, step_day = people[inside], step_day[inside]
            day_ms = (step_day - first).astype(np.int64) * DAY_MS + self.start_ms
            ts = day_ms + _hour_profile_pick(rng, H_OFFICE, len(people))
            parts.append(Columns.of(T[_STAGE_ENTRY[stage]], ts, roll.org[people], people + 1))
        span_ms = self.now_ms - self.start_ms
        for stage, name in enumerate(("applicant", "activist", "development_target")):
            people = np.flatnonzero(roll.stage == stage)
            share = min(1.0, span_ms / (PIPELINE_STEP_DAYS[name] * DAY_MS))
            people = people[rng.random(len(people)) < share]
            ts = self._office_times(self.start_ms + rng.integers(0, span_ms, len(people)))
            parts.append(Columns.of(T[_STAGE_ENTRY[stage]], ts, roll.org[people], people + 1))
        return Columns.concat(parts)

    def _moves(self) -> dict[int, tuple[int, int]]:
        """Members whose transfer completed inside the window: member id → (completed at, organisation before)."""
        moved: dict[int, tuple[int, int]] = {}
        completed = self.sparse.type == T["transfer_completed"]
        numbers = {t[0]: t for t in self.transfers}
        for number, ts in zip(self.sparse.p1[completed].tolist(), self.sparse.ts[completed].tolist(), strict=True):
            _, member, from_org, _ = numbers[number]
            moved[member + 1] = (ts, from_org)
        return moved

    def _campaign_days(self) -> dict[dt.date, str]:
        """A study campaign in one province every few days (the live simulator's campaigns, a day long)."""
        provinces = sorted({r[:2] + "0000" for r in self.roll.regions if r})
        if not provinces:
            return {}
        return {
            day: provinces[int(self.rng.integers(0, len(provinces)))]
            for day in self.days
            if self.rng.random() < 1 / CAMPAIGN_EVERY_DAYS
        }

    # -- activity, a day at a time ---------------------------------------------------

    def _activity(self, day: dt.date) -> Columns:
        rng = self.rng
        start = _local_midnight_ms(day)
        n_active = len(self.active)
        if n_active == 0 or self.density == 0 or start < self.detail_ms:
            return Columns.concat([])
        per_hour = [slot_weights((start + h * HOUR_MS + HOUR_MS // 2) / 1000) for h in range(24)]
        scale = self.density * n_active / _weekday_activity_weight()
        parts = []
        for h, weights in enumerate(per_hour):
            hour_start = start + h * HOUR_MS
            if hour_start >= self.now_ms:
                break
            length = min(HOUR_MS, self.now_ms - hour_start)
            for slot in _ACTIVITY:
                n = int(rng.poisson(scale * weights[slot] * length / HOUR_MS))
                if n:
                    parts.append(self._slot_events(slot, n, hour_start + rng.integers(0, length, size=n)))
        province = self.campaigns.get(day)
        if province is not None:
            parts.append(self._campaign(province, day, start, scale))
        return Columns.concat(parts)

    def _pick_active(self, n: int) -> np.ndarray:
        return self.active[(len(self.active) * self.rng.random(n) ** ACTIVITY_SKEW).astype(np.int64)]

    def _slot_events(self, slot: str, n: int, ts: np.ndarray) -> Columns:
        rng = self.rng
        who = self._pick_active(n)
        org = self.roll.org[who]
        if slot == "study":
            k = rng.integers(0, len(STUDY_ITEMS), n)
            lo_p, hi_p, lo_m, hi_m = (np.array([getattr(STUDY_ITEMS[i], a)[j] for i in range(len(STUDY_ITEMS))])
                                      for a, j in (("points", 0), ("points", 1), ("minutes", 0), ("minutes", 1)))  # fmt: skip
            points = lo_p[k] + (rng.random(n) * (hi_p[k] - lo_p[k] + 1)).astype(np.int64)
            minutes = lo_m[k] + (rng.random(n) * (hi_m[k] - lo_m[k] + 1)).astype(np.int64)
            return Columns.of(T["study"], ts, org, who + 1, p1=k, p2=points, p3=minutes)
        if slot in ("article_read", "interaction"):
            k = (len(ARTICLE_TITLES) * rng.random(n) ** 2).astype(np.int64)
            if slot == "article_read":
                types: np.ndarray | int = T["article_read"]
            else:
                shares = np.array([p for _, p in INTERACTIONS])
                kinds = np.array([T[name] for name, _ in INTERACTIONS])
                types = kinds[rng.choice(len(kinds), size=n, p=shares / shares.sum())]
            return Columns.of(types, ts, org, who + 1, p1=k)
        if slot == "login":
            shares = np.array([p for _, p in DEVICES])
            return Columns.of(T["login"], ts, org, who + 1, p1=rng.choice(len(shares), size=n, p=shares / shares.sum()))
        return Columns.of(T["volunteer"], ts, org, who + 1, p1=rng.integers(0, len(_VOLUNTEER_HOURS), n),
                          p2=rng.integers(0, len(VOLUNTEER_TITLES), n))  # fmt: skip

    def _campaign(self, province: str, day: dt.date, start: int, scale: float) -> Columns:
        roll, rng = self.roll, self.rng
        regions = np.array([(r or "")[:2] for r in roll.regions])
        members = self.active[regions[roll.org[self.active] - 1] == province[:2]]
        if not len(members):
            return Columns.concat([])
        study_day = sum(slot_weights((start + h * HOUR_MS) / 1000)["study"] for h in range(24))
        n = int(rng.poisson((CAMPAIGN_FACTOR - 1) * scale * study_day * len(members) / len(self.active)))
        ts = start + _hour_profile_pick(rng, tuple(slot_weights((start + h * HOUR_MS) / 1000)["study"] for h in range(24)), n)
        ts = ts[ts < self.now_ms]
        who = members[rng.integers(0, len(members), len(ts))]
        c = int(rng.integers(0, len(CAMPAIGN_TITLES)))
        return Columns.of(T["study"], ts, roll.org[who], who + 1, p1=-1 - c, p2=rng.integers(3, 9, len(ts)),
                          p3=rng.integers(20, 46, len(ts)))  # fmt: skip

    def days_of_events(self) -> Iterator[Columns]:
        """The events, a local day at a time, in time order (the lost members' last traces first)."""
        sparse = self.sparse
        before = int(np.searchsorted(sparse.ts, self.start_ms))
        if before:
            yield sparse.take(np.arange(before))
        for day in self.days:
            lo = int(np.searchsorted(sparse.ts, _local_midnight_ms(day)))
            hi = int(np.searchsorted(sparse.ts, _local_midnight_ms(day + dt.timedelta(days=1))))
            cols = Columns.concat([sparse.take(np.arange(max(lo, before), hi)), self._activity(day)])
            cols = cols.take(np.argsort(cols.ts, kind="stable"))
            self._before_moves(cols)
            yield cols

    def _before_moves(self, cols: Columns) -> None:
        """Events of a member before their transfer completed happened in the organisation they came from."""
        if not self.moved:
            return
        hit = np.isin(cols.member, np.fromiter(self.moved, dtype=np.int64))
        for i in np.flatnonzero(hit).tolist():
            completed_at, from_org = self.moved[int(cols.member[i])]
            if cols.ts[i] < completed_at:
                cols.org[i] = from_org


def _weekday_activity_weight() -> float:
    """The sum over the 24 hours of a plain weekday of the activity kinds' weights (normalises density)."""
    monday = dt.datetime(2026, 6, 15, tzinfo=SHANGHAI).timestamp()
    return sum(slot_weights(monday + h * 3600 + 1800)[s] for h in range(24) for s in _ACTIVITY)


class _Formatter:
    """Rows for the events table from integer columns: ids, organisation codes, JSON data.

    The past is written by the server itself, like an event sent without an
    id: each row gets an id of its own (``hist-<seed>-<n>``; a meeting
    ``hist-<seed>-mtg-<n>``, which its attendances name) and no key hash, so
    no client retry can ever collide with it and no hash is computed per row.
    """

    def __init__(self, plan: HistoryPlan) -> None:
        self.plan = plan
        self.seed = plan.seed
        self.codes = plan.roll.codes
        dumps = json.dumps
        self.article = [dumps({"title": t, "article": f"A{k + 1:03d}"}, ensure_ascii=False) for k, t in enumerate(ARTICLE_TITLES)]
        self.device = [dumps({"device": d}) for d, _ in DEVICES]
        self.study_title = [dumps(item.title, ensure_ascii=False) for item in STUDY_ITEMS]
        self.campaign_title = [dumps(title, ensure_ascii=False) for title in CAMPAIGN_TITLES]
        self.volunteer = [
            [dumps({"hours": h, "title": title}, ensure_ascii=False) for title in VOLUNTEER_TITLES] for h in _VOLUNTEER_HOURS
        ]
        self.dues = [f'{{"amount": {a}, "month": "' for a in plan._dues.tolist()]
        self.counter = 0

    def data(self, cols: Columns) -> np.ndarray:
        """The ``data`` JSON of each event, built per type from prepared pieces."""
        out = np.full(len(cols), "{}", dtype=object)
        for etype in np.unique(cols.type).tolist():
            at = np.flatnonzero(cols.type == etype)
            p1, p2, p3 = (getattr(cols, f)[at].tolist() for f in ("p1", "p2", "p3"))
            name = TYPES[etype]
            if name == "study":
                st, ct = self.study_title, self.campaign_title
                out[at] = [f'{{"points": {b}, "minutes": {c}, "title": {st[a] if a >= 0 else ct[-1 - a]}}}'
                           for a, b, c in zip(p1, p2, p3, strict=True)]  # fmt: skip
            elif name in ("article_read", "like", "comment", "share"):
                out[at] = [self.article[a] for a in p1]
            elif name == "login":
                out[at] = [self.device[a] for a in p1]
            elif name == "volunteer":
                out[at] = [self.volunteer[a][b] for a, b in zip(p1, p2, strict=True)]
            elif name == "dues_paid":
                dues = self.dues
                out[at] = [f'{dues[m - 1]}{a // 12:04d}-{a % 12 + 1:02d}"}}' for m, a in zip(cols.member[at].tolist(), p1, strict=True)]
            elif name == "meeting_held":
                out[at] = [self._meeting(ts, a, b, c) for ts, a, b, c in zip(cols.ts[at].tolist(), p1, p2, p3, strict=True)]
            elif name == "meeting_attended":
                out[at] = [f'{{"kind": "{_MEETING_KINDS[c]}", "meeting": "{self._meeting_id(a)}"}}' for a, c in zip(p1, p3, strict=True)]
            elif name.startswith("transfer_"):
                out[at] = [self._transfer(name, org, a, b, c) for org, a, b, c in zip(cols.org[at].tolist(), p1, p2, p3, strict=True)]
        return out

    def _transfer(self, name: str, org: int, number: int, other: int, reason: int) -> str:
        from_org, to_org = (other, org) if name == "transfer_completed" else (org, other)
        data = {"transfer": f"TRH{self.seed}-{number}", "from_org": self.codes[from_org - 1],
                "to_org": self.codes[to_org - 1], "reason": TRANSFER_REASONS[reason]}  # fmt: skip
        return json.dumps(data, ensure_ascii=False)

    def _meeting_id(self, number: int) -> str:
        return f"hist-{self.seed}-mtg-{number}"

    def _meeting(self, ts: int, number: int, attendees: int, packed: int) -> str:
        kind = _MEETING_KINDS[packed >> 20]
        choice = packed & ((1 << 20) - 1)
        local = dt.datetime.fromtimestamp(ts / 1000, SHANGHAI)
        titles = MEETING_TITLES[kind]
        title = titles[choice % len(titles)].format(
            m=local.month, q=(local.month - 1) // 3 + 1, y=local.year, topic=STUDY_ITEMS[choice % len(STUDY_ITEMS)].title
        )
        return json.dumps({"kind": kind, "attendees": attendees, "title": title}, ensure_ascii=False)

    def rows(self, cols: Columns) -> np.ndarray:
        """The block as rows of the events table's ``EVENT_COLUMNS`` (key_hash, event_id, type, ts_ms, org_id, member_id, data)."""
        n = len(cols)
        ids = np.strings.add(f"hist-{self.seed}-", np.arange(self.counter + 1, self.counter + n + 1).astype(str)).astype(object)
        self.counter += n
        meetings = np.flatnonzero(cols.type == T["meeting_held"])
        ids[meetings] = [self._meeting_id(a) for a in cols.p1[meetings].tolist()]
        out = np.empty((n, 7), dtype=object)
        out[:, 0] = None
        out[:, 1] = ids
        out[:, 2] = np.array(TYPES, dtype=object)[cols.type]
        out[:, 3] = cols.ts.tolist()
        out[:, 4] = cols.org.tolist()
        member = cols.member.astype(object)
        member[cols.member == 0] = None
        out[:, 5] = member
        out[:, 6] = self.data(cols)
        return out


def history_rows(plan: HistoryPlan) -> Iterator[np.ndarray]:
    """Rows for the events table, a day at a time, in time order."""
    formatter = _Formatter(plan)
    for cols in plan.days_of_events():
        if len(cols):
            yield formatter.rows(cols)
