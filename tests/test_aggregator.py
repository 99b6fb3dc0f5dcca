"""The live aggregator against an independent recomputation from the store."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import orjson
import pandas as pd
import pytest
from sqlalchemy import Engine, insert

from dashboard.domain.events import EventType, MeetingKind, StoredEvent
from dashboard.live.aggregator import SHANGHAI, Aggregator
from dashboard.live.recompute import StoreState, recompute_snapshot
from dashboard.store.engine import open_store
from dashboard.store.models import Event, Member, Organisation
from dashboard.store.tree import OrgTree

# top → 2 committees → 4 branches; two branches have groups (党小组).
ORGS = [
    # id, code, kind, parent
    (1, "TOP", "committee", None),
    (2, "C1", "committee", 1),
    (3, "C2", "committee", 1),
    (4, "B1", "branch", 2),
    (5, "B2", "branch", 2),
    (6, "B3", "branch", 3),
    (7, "B4", "branch", 3),
    (8, "G1", "group", 4),
    (9, "G2", "group", 4),
    (10, "G3", "group", 6),
]
MEMBER_ORGS = [4, 5, 6, 7, 8, 9, 10]
N_MEMBERS = 60
SILENT_FROM = 51  # members 51..60 never have an event: lost contact unless they joined recently
SECRETARY_ORGS = {4, 6, 10}  # B2 and B4 have no secretary
UNKNOWN_ORG = 9999
QUIET_BRANCH = 7  # B4 never holds a meeting
# How many days ago meetings were held (default 0–60): B3 and its group only long ago; B2
# its monthly meetings recently but the quarterly ones only in the two months before.
MEETING_AGES = {
    6: (45, 75), 10: (45, 75),
    (5, "branch_general"): (35, 60), (5, "party_lecture"): (35, 60), (5, "branch_committee"): (0, 25), (5, "group"): (0, 25),
}
SLEEPY_MEMBERS = range(41, 51)  # active, but never in the last 20 minutes
UNKNOWN_MEMBER = 999


# Period boundaries the stream's clock passes (local midnight 1 April is also a month and quarter start).
EDGES = [
    int(dt.datetime(*d, tzinfo=SHANGHAI).timestamp() * 1000)
    for d in [(2026, 3, 31), (2026, 4, 1), (2026, 3, 1), (2026, 2, 1), (2026, 1, 1), (2025, 10, 3), (2025, 10, 4)]
]


@dataclass
class Clock:
    """A settable clock, so every test decides what "now" is."""

    now: float

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def local(*args: int) -> float:
    return dt.datetime(*args, tzinfo=SHANGHAI).timestamp()


def make_store(tmp_path, seed: int = 7) -> tuple[Engine, OrgTree]:
    engine = open_store(f"sqlite:///{tmp_path / 'agg.db'}")
    rng = random.Random(seed)
    paths: dict[int, str] = {}
    org_rows = []
    for org_id, code, kind, parent in ORGS:
        paths[org_id] = (paths[parent] if parent else "/") + f"{org_id}/"
        org_rows.append(
            dict(id=org_id, code=code, name=f"组织{code}", kind=kind, parent_id=parent,
                 level=paths[org_id].count("/") - 2, path=paths[org_id], region_code="110000")
        )
    stages = ["full"] * 6 + ["probationary"] * 2 + ["applicant", "activist", "development_target"]
    member_rows = []
    for member_id in range(1, N_MEMBERS + 1):
        org_id = MEMBER_ORGS[member_id % len(MEMBER_ORGS)]
        stage = rng.choice(stages)
        joined = None
        if stage in ("full", "probationary"):
            # some joined recently: their join date keeps them out of lost contact
            joined = dt.date(2026, 3, 1) - dt.timedelta(days=rng.choice([10, 100, 400, 4000]))
        member_rows.append(
            dict(id=member_id, code=f"M{member_id:03d}", name=f"成员{member_id}", org_id=org_id, stage=stage,
                 gender=rng.choice("MMF"), ethnicity=rng.choice(["han"] * 9 + ["zhuang", "hui"]),
                 birth_year=rng.randint(1940, 2004), education=rng.choice(["college", "secondary", "postgraduate"]),
                 occupation=rng.choice(["worker", "farmer", "retired", "professional"]),
                 post="secretary" if org_id in SECRETARY_ORGS and member_id < 8 else rng.choice([None, None, "committee_member"]),
                 join_date=joined, phone=None)
        )
    with engine.begin() as conn:
        conn.execute(insert(Organisation), org_rows)
        conn.execute(insert(Member), member_rows)
    return engine, OrgTree.load(engine)


def store_and_apply(engine: Engine, aggregator: Aggregator, events: list[StoredEvent]) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(Event),
            [dict(seq=e.seq, key_hash=None, event_id=e.event_id, type=e.type, ts_ms=e.ts_ms, org_id=e.org_id,
                  member_id=e.member_id, data=orjson.dumps(e.data).decode()) for e in events],
        )
    aggregator.apply(events)


# Mostly everyday activity; the rare types rare enough that per-branch and
# per-member flags (meetings held, dues paid) end up mixed, not all set.
WEIGHTS = {
    "study": 20, "login": 15, "article_read": 15, "like": 4, "comment": 4, "share": 4, "notice": 1,
    "volunteer": 2, "meeting_attended": 2, "meeting_held": 0.6, "dues_paid": 0.15,
    "transfer_requested": 0.8, "transfer_approved": 0.5, "transfer_rejected": 0.3, "transfer_completed": 0.5,
    "recruit_applied": 0.4, "recruit_activist": 0.3, "recruit_development_target": 0.3,
    "recruit_probationary": 0.3, "recruit_full": 0.3, "mystery": 0.2,
}
assert set(WEIGHTS) - {"mystery"} == {t.value for t in EventType}


class Stream:
    """Random events of every type, with transfers and recruitment moving through their steps."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seq = 0
        self.transfers: dict[str, str] = {}
        self.codes = [code for _, code, _, _ in ORGS]

    def _ts(self, now_ms: int) -> int:
        r = self.rng.random()
        if r < 0.03:  # exactly on a boundary already passed, or a millisecond either side
            return self.rng.choice([edge for edge in EDGES if edge < now_ms]) + self.rng.choice([-1, 0, 1])
        if r < 0.55:
            return now_ms - self.rng.randint(0, 120_000)
        if r < 0.7:
            return now_ms - self.rng.randint(0, 3_600_000)
        if r < 0.85:
            return now_ms - self.rng.randint(0, 40 * 86_400_000)
        if r < 0.95:
            return now_ms - self.rng.randint(0, 400 * 86_400_000)
        return now_ms

    def _member(self) -> int:
        return UNKNOWN_MEMBER if self.rng.random() < 0.02 else self.rng.randint(1, SILENT_FROM - 1)

    def _data(self, kind: str, now_ms: int) -> tuple[dict, int | None]:
        rng = self.rng
        if kind == "study":
            return {"points": rng.choice([0, 1, 5, 10, 20, "x"]), "minutes": 10, "title": "学习"}, self._member()
        if kind == "meeting_held":
            return {"kind": rng.choice([k.value for k in MeetingKind] + ["tea_party"]), "attendees": 5}, None
        if kind == "dues_paid":
            day = dt.datetime.fromtimestamp(now_ms / 1000, SHANGHAI).date().replace(day=1)
            month = rng.choice([day - dt.timedelta(days=1), day, day + dt.timedelta(days=40)])
            text = rng.choice([month.strftime("%Y-%m")] * 9 + ["bad"])
            return {"amount": 10.0, "month": text}, self._member()
        if kind.startswith("transfer_"):
            tid = f"T{rng.randint(1, 5000)}"
            ends = self.transfers.setdefault(tid, rng.choice(self.codes + ["ELSEWHERE"]))
            data = {"transfer": tid, "from_org": rng.choice(self.codes), "to_org": ends}
            if rng.random() < 0.02:
                del data["transfer"]
            return data, self._member()
        if kind == "recruit_applied":
            return {"name": "新人"}, None if rng.random() < 0.5 else self._member()
        if kind.startswith("recruit_"):
            return {}, self._member()
        if kind == "notice":
            return {"title": "通知", "level": "info"}, None
        if kind in ("like", "comment", "share"):
            return {}, rng.choice([None, self._member()])
        return {"title": "x"}, self._member()

    def batch(self, n: int, now_ms: int, future: bool = False) -> list[StoredEvent]:
        kinds = list(WEIGHTS)
        weights = list(WEIGHTS.values())
        out = []
        for _ in range(n):
            kind = self.rng.choices(kinds, weights)[0]
            data, member = self._data(kind, now_ms)
            org = UNKNOWN_ORG if self.rng.random() < 0.01 else self.rng.choice(ORGS)[0]
            if kind == "meeting_held" and org == QUIET_BRANCH:
                org = 1
            if future:
                ts = now_ms + self.rng.randint(1, 3_600_000)
            elif kind == "meeting_held":
                low, high = MEETING_AGES.get((org, data["kind"]), MEETING_AGES.get(org, (0, 60)))
                ts = now_ms - self.rng.randint(low * 86_400_000, high * 86_400_000)
            elif member in SLEEPY_MEMBERS:
                ts = now_ms - self.rng.randint(20 * 60_000, 40 * 86_400_000)
            else:
                ts = self._ts(now_ms)
            self.seq += 1
            out.append(StoredEvent(self.seq, f"e{self.seq}", kind, ts, org, member, data))
        return out


def kpis(snapshot: dict) -> dict:
    return {k: v for k, v in snapshot.items() if k != "ts"}


def assert_matches_store(engine: Engine, aggregator: Aggregator, tree: OrgTree, now: float) -> None:
    state = StoreState.load(engine, now, SHANGHAI)
    for org_id in tree.nodes:
        assert kpis(aggregator.snapshot(org_id)) == kpis(state.snapshot(org_id)), tree.nodes[org_id].code


def test_stream_matches_recomputation_and_rebuild(tmp_path):
    engine, tree = make_store(tmp_path)
    clock = Clock(local(2026, 3, 31, 23, 50))  # the stream crosses a day, a month and a quarter
    aggregator = Aggregator.rebuild(engine, tree, clock=clock)
    stream = Stream(random.Random(11))
    checkpoints = []
    first = stream.batch(1, int(clock.now * 1000))
    first[0] = StoredEvent(1, "e1", "login", int(clock.now * 1000) - 300 * 86_400_000, 4, 1, {})
    store_and_apply(engine, aggregator, first)
    for i in range(100):
        clock.advance(12)
        store_and_apply(engine, aggregator, stream.batch(500, int(clock.now * 1000)))
        if i in (40, 55):  # just before and after local midnight
            assert_matches_store(engine, aggregator, tree, clock.now)
            checkpoints.append(aggregator.snapshot(1))
    store_and_apply(engine, aggregator, stream.batch(200, int(clock.now * 1000), future=True))
    assert_matches_store(engine, aggregator, tree, clock.now)

    top = aggregator.snapshot(1)
    assert top["events_total"] > 49_000 and top["events_today"] > 0 and top["lost_contact"] > 0
    assert top["transfers"]["in_flight"] > 0 and top["transfers"]["overdue"] > 0
    assert 0 < top["dues_paid"] < top["members"]
    assert top["pipeline"]["applicant"] > 0
    march, april = checkpoints
    assert 0 < march["meetings"]["three_meetings_branches"] < march["branches"]
    assert march["meetings"]["themed_day_branches"] > 0
    assert april["meetings"]["three_meetings_branches"] < march["meetings"]["three_meetings_branches"]

    rebuilt = Aggregator.rebuild(engine, tree, clock=clock, chunk=7_000)
    for org_id in tree.nodes:
        assert kpis(rebuilt.snapshot(org_id)) == kpis(aggregator.snapshot(org_id))


def event(seq: int, event_type: str, ts: float, org: int = 8, member: int | None = 1, **data) -> StoredEvent:
    return StoredEvent(seq, f"e{seq}", event_type, round(ts * 1000), org, member, data)


def test_boundaries_match_recomputation(tmp_path):
    """Events exactly on each period boundary, and a millisecond before it."""
    engine, tree = make_store(tmp_path)
    with engine.begin() as conn:
        conn.execute(insert(Member), [
            dict(id=i, code=f"X{i}", name="x", org_id=QUIET_BRANCH, stage="full", gender="F", ethnicity="han",
                 birth_year=1980, education="college", occupation="worker", post=None, join_date=dt.date(2000, 1, 1))
            for i in range(101, 109)
        ])
    clock = Clock(local(2026, 4, 1, 0, 20, 0) + 0.5)
    now_ms = int(clock.now * 1000)
    day = int(local(2026, 4, 1) * 1000)  # also the month and quarter start
    window = (now_ms // 60_000 - 14) * 60_000  # the first minute of the 15-minute window
    lost_before = int(local(2025, 10, 4) * 1000)  # 179 days before today
    second = now_ms // 1000 * 1000
    thirty_days = 30 * 86_400_000
    move = dict(from_org="B4", to_org="B1")
    events = [
        event(1, "login", clock.now - 400 * 86_400, org=1, member=None),
        event(2, "login", day / 1000, org=7, member=101),
        event(3, "login", (day - 1) / 1000, org=7, member=102),
        event(4, "login", window / 1000, org=7, member=103),
        event(5, "login", (window - 1) / 1000, org=7, member=104),
        event(6, "login", lost_before / 1000, org=7, member=105),
        event(7, "login", (lost_before - 1) / 1000, org=7, member=106),
        event(8, "notice", (second - 59_000) / 1000, org=7, member=None, title="in"),
        event(9, "notice", (second - 59_001) / 1000, org=7, member=None, title="out"),
        *[event(10 + i, "meeting_held", day / 1000, org=7, member=None, kind=k, attendees=3)
          for i, k in enumerate(["branch_committee", "group", "branch_general", "party_lecture"])],
        event(14, "meeting_held", (day - 1) / 1000, org=7, member=None, kind="themed_day", attendees=3),
        event(15, "meeting_held", int(local(2026, 3, 1) * 1000) / 1000, org=6, member=None, kind="group", attendees=3),
        event(16, "meeting_held", (int(local(2026, 3, 1) * 1000) - 1) / 1000, org=4, member=None, kind="group", attendees=3),
        event(17, "meeting_held", (day - 1) / 1000, org=5, member=None, kind="group", attendees=3),
        event(18, "transfer_requested", (now_ms - thirty_days) / 1000, org=7, member=101, transfer="Ta", **move),
        event(19, "transfer_requested", (now_ms - thirty_days - 1) / 1000, org=7, member=102, transfer="Tb", **move),
    ]
    aggregator = Aggregator.rebuild(engine, tree, clock=clock)
    store_and_apply(engine, aggregator, events)
    assert_matches_store(engine, aggregator, tree, clock.now)
    quiet = aggregator.snapshot(QUIET_BRANCH)
    assert (quiet["active_today"], quiet["active_15m"], quiet["events_per_min"]) == (3, 1, 1)
    assert quiet["meetings"]["three_meetings_branches"] == 1 and quiet["meetings"]["themed_day_branches"] == 0
    top = aggregator.snapshot(1)
    assert top["rule_breaks"]["no_meeting"] == 1 and aggregator.snapshot(4)["rule_breaks"]["no_meeting"] == 1
    assert top["transfers"] == {"in_flight": 2, "overdue": 1}
    lost_before_moving_on = quiet["lost_contact"]
    aggregator.apply([event(20, "login", clock.now, org=7, member=106)])
    assert aggregator.snapshot(QUIET_BRANCH)["lost_contact"] == lost_before_moving_on - 1


def test_meeting_periods_monthly_and_quarterly(tmp_path):
    engine, tree = make_store(tmp_path)
    clock = Clock(local(2026, 5, 20, 10, 0))
    aggregator = Aggregator.rebuild(engine, tree, clock=clock)

    def held(seq: int, org: int, kind: str, *day: int) -> StoredEvent:
        return event(seq, "meeting_held", local(*day, 9), org=org, member=None, kind=kind, attendees=5)

    store_and_apply(engine, aggregator, [
        held(1, 5, "branch_committee", 2026, 5, 5),
        held(2, 5, "group", 2026, 5, 6),
        held(3, 5, "branch_general", 2026, 4, 10),  # earlier in the quarter: still counts
        held(4, 5, "party_lecture", 2026, 4, 11),
        held(5, 8, "branch_committee", 2026, 5, 5),  # B1 through its group G1
        held(6, 9, "group", 2026, 5, 5),
        held(7, 4, "branch_general", 2026, 5, 7),
        held(8, 4, "party_lecture", 2026, 3, 30),  # last quarter: B1 is not complete
        held(9, 4, "themed_day", 2026, 5, 1),
    ])
    assert_matches_store(engine, aggregator, tree, clock.now)
    assert aggregator.snapshot(2)["meetings"] == {
        "three_meetings_completion": 0.5, "themed_day_completion": 0.5,
        "three_meetings_branches": 1, "themed_day_branches": 1,
    }
    clock.now = local(2026, 6, 2, 10, 0)  # a new month: the monthly meetings are due again
    aggregator.tick()
    assert aggregator.snapshot(2)["meetings"]["three_meetings_branches"] == 0
    assert aggregator.snapshot(2)["rule_breaks"]["no_meeting"] == 0  # both met in May
    assert_matches_store(engine, aggregator, tree, clock.now)


def test_recompute_snapshot_entry_point(tmp_path):
    engine, tree = make_store(tmp_path)
    clock = Clock(local(2026, 6, 10, 12, 0))
    aggregator = Aggregator.rebuild(engine, tree, clock=clock)
    store_and_apply(engine, aggregator, Stream(random.Random(3)).batch(300, int(clock.now * 1000)))
    assert kpis(recompute_snapshot(engine, tree, 2, clock.now, SHANGHAI)) == kpis(aggregator.snapshot(2))
    with pytest.raises(KeyError):
        recompute_snapshot(engine, tree, UNKNOWN_ORG, clock.now, SHANGHAI)
    with pytest.raises(KeyError):
        aggregator.snapshot(UNKNOWN_ORG)


def test_day_rollover_resets_today(tmp_path):
    engine, tree = make_store(tmp_path)
    clock = Clock(local(2026, 6, 10, 23, 59, 30))
    aggregator = Aggregator.rebuild(engine, tree, clock=clock)
    aggregator.apply([event(i, "study", clock.now - i, member=i, points=5, title="t") for i in range(1, 11)])
    before = aggregator.snapshot(1)
    assert (before["events_today"], before["study_points_today"]) == (10, 50)
    assert before["active_today"] > 0
    clock.advance(40)
    aggregator.tick()
    after = aggregator.snapshot(1)
    assert (after["events_today"], after["study_points_today"], after["active_today"]) == (0, 0, 0)
    assert after["events_total"] == 10
    assert after["events_per_min"] == 10  # the last 60 s reach back before midnight


def party_members(engine: Engine) -> list[int]:
    return sorted(pd.read_sql("SELECT id FROM members WHERE stage IN ('full', 'probationary')", engine)["id"])


def test_rings_drop_old_seconds_and_minutes(tmp_path):
    engine, tree = make_store(tmp_path)
    clock = Clock(local(2026, 6, 10, 12, 0, 0))
    aggregator = Aggregator.rebuild(engine, tree, clock=clock)
    first, second = party_members(engine)[:2]
    aggregator.apply([event(1, "login", clock.now, member=first), event(2, "login", clock.now - 30, member=second)])
    snap = aggregator.snapshot(1)
    assert snap["events_per_min"] == 2 and snap["events_trend"][-1] == 1 and sum(snap["events_trend"]) == 2
    assert snap["active_15m"] == 2
    clock.advance(31)
    assert aggregator.snapshot(1)["events_per_min"] == 1
    clock.advance(30)
    snap = aggregator.snapshot(1)
    assert snap["events_per_min"] == 0 and snap["events_trend"][-2] == 1 and sum(snap["events_trend"]) == 2
    clock.advance(13 * 60)  # 12:14:01 — the window is the minutes 12:00 to 12:14; the second login was at 11:59:30
    assert aggregator.snapshot(1)["active_15m"] == 1
    clock.advance(3600)
    aggregator.tick()
    snap = aggregator.snapshot(1)
    assert sum(snap["events_trend"]) == 0 and snap["events_today"] == 2 and snap["active_15m"] == 0
    assert snap["active_today"] == 2


def test_transfer_becomes_overdue_and_moves_member(tmp_path):
    engine, tree = make_store(tmp_path)
    clock = Clock(local(2026, 6, 10, 12, 0))
    aggregator = Aggregator.rebuild(engine, tree, clock=clock)
    b3_before = aggregator.snapshot(6)["members"] + aggregator.snapshot(6)["pipeline"]["applicant"]
    move = dict(transfer="T1", from_org="B1", to_org="B3")
    aggregator.apply([event(1, "transfer_requested", clock.now, org=4, member=4, **move)])
    assert aggregator.snapshot(2)["transfers"] == {"in_flight": 1, "overdue": 0}
    assert aggregator.snapshot(3)["transfers"] == {"in_flight": 1, "overdue": 0}
    assert aggregator.snapshot(1)["transfers"] == {"in_flight": 1, "overdue": 0}  # counted once at the top
    clock.advance(31 * 86_400)
    aggregator.tick()
    assert aggregator.snapshot(1)["transfers"] == {"in_flight": 1, "overdue": 1}
    aggregator.apply([event(2, "transfer_completed", clock.now, org=6, member=4, **move)])
    assert aggregator.snapshot(1)["transfers"] == {"in_flight": 0, "overdue": 0}
    after = aggregator.snapshot(6)
    assert after["members"] + after["pipeline"]["applicant"] + after["pipeline"]["activist"] >= b3_before


def test_odd_events_do_not_crash(tmp_path):
    engine, tree = make_store(tmp_path)
    clock = Clock(local(2026, 6, 10, 12, 0))
    aggregator = Aggregator.rebuild(engine, tree, clock=clock)
    odd = [
        StoredEvent(1, "a", "mystery", int(clock.now * 1000), 4, None, {}),
        StoredEvent(2, "b", "study", int(clock.now * 1000), 4, 1, ["not", "a", "dict"]),  # type: ignore[arg-type]
        StoredEvent(3, "c", "meeting_held", int(clock.now * 1000), 4, None, None),  # type: ignore[arg-type]
        StoredEvent(4, "d", "dues_paid", int(clock.now * 1000), 4, -5, {"month": 202606}),
        StoredEvent(5, "e", "transfer_completed", int(clock.now * 1000), 4, 10**9, {"transfer": ["x"]}),
        StoredEvent(6, "f", "study", int(clock.now * 1000), UNKNOWN_ORG, 1, {"points": 5}),
        StoredEvent(7, "g", "transfer_requested", int(clock.now * 1000), 4, 2, {"transfer": "T", "from_org": 3, "to_org": None}),
    ]
    aggregator.apply(odd)
    aggregator.apply([])
    snap = aggregator.snapshot(1)
    assert snap["events_total"] == 6 and aggregator.ignored_events == 1
    assert snap["transfers"]["in_flight"] == 1


def test_drain_changed_names_the_org_and_its_ancestors(tmp_path):
    engine, tree = make_store(tmp_path)
    clock = Clock(local(2026, 6, 10, 12, 0))
    aggregator = Aggregator.rebuild(engine, tree, clock=clock)
    aggregator.apply([event(1, "login", clock.now, org=5, member=None)])
    assert aggregator.drain_changed() == set(tree.nodes)  # the first event ever starts the lost-contact clock
    aggregator.apply([event(2, "notice", clock.now, org=8, member=None, title="t")])
    assert aggregator.drain_changed() == {8, 4, 2, 1}
    assert aggregator.drain_changed() == set()


def test_members_loaded_later_are_counted(tmp_path):
    engine, tree = make_store(tmp_path)
    clock = Clock(local(2026, 6, 10, 12, 0))
    aggregator = Aggregator(tree, clock=clock)
    assert aggregator.snapshot(1)["members"] == 0
    aggregator.upsert_members(
        pd.DataFrame([dict(id=5000, org_id=7, stage="full", gender="F", ethnicity="汉族", birth_year=1990,
                           education="college", occupation="worker", post="secretary", join_date=dt.date(2020, 1, 1))])
    )
    snap = aggregator.snapshot(1)
    assert snap["members"] == 1 and snap["structure"]["ethnicity"] == {"han": 1, "minority": 0}
    assert snap["structure"]["age_band"]["36–40"] == 1 and snap["rule_breaks"]["no_secretary"] == 3
