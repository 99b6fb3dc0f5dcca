"""Seeded history (issue 14): ``seed --history-days D`` writes a believable past.

Real SQLite files, the real bulk path, the real aggregator rebuild, the real
ingest checker and writer for the live part, and the independent
recomputation (dashboard/live/recompute.py) as the referee.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy import Engine, text

from dashboard.demo.history import (
    DUES_PAID_SHARE,
    LOST_SHARE,
    MAX_HISTORY_DAYS,
    WEAK_BRANCH_SHARE,
    default_history_days,
)
from dashboard.demo.seed import seed_demo
from dashboard.demo.simulator import SHANGHAI, Population, StreamModel, model_from_store, notice_condition
from dashboard.demo.texts import CAMPAIGN_TITLES, NOTICE_MONTHS, NOTICE_TITLES, NOTICE_WHEN_KPI
from dashboard.ingest.ingestor import EventChecker, EventWriter, MemberIndex
from dashboard.live.aggregator import Aggregator
from dashboard.live.recompute import StoreState
from dashboard.store.engine import open_store
from dashboard.store.tree import OrgTree
from tests.conftest import ROOT, LiveServer


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def local(*args: int) -> float:
    return dt.datetime(*args, tzinfo=SHANGHAI).timestamp()


def scalar(engine: Engine, sql: str, **params: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one() or 0)


def kpis(snapshot: dict) -> dict:
    return {k: v for k, v in snapshot.items() if k != "ts"}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dashboard", *args], capture_output=True, text=True, cwd=ROOT, timeout=600)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("days", ["-1", str(MAX_HISTORY_DAYS + 1), "ninety"])
def test_history_days_out_of_range_is_one_line_and_writes_nothing(tmp_path: Path, days: str) -> None:
    db = tmp_path / "x.db"
    result = run_cli("seed", "--members", "300", "--history-days", days, "--database-url", f"sqlite:///{db}")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--history-days" in lines[0], result.stderr
    assert not db.exists()


def test_history_for_a_database_with_events_is_refused_unless_forced(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    now = local(2026, 11, 20, 15, 0)
    engine = open_store(url)
    seed_demo(engine, 300, history_days=5, now=now)
    before = scalar(engine, "SELECT COUNT(*) FROM events"), scalar(engine, "SELECT MAX(seq) FROM events")
    result = run_cli("seed", "--members", "300", "--history-days", "5", "--database-url", url)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "--force" in result.stderr
    assert (scalar(engine, "SELECT COUNT(*) FROM events"), scalar(engine, "SELECT MAX(seq) FROM events")) == before
    with engine.begin() as conn:  # organisations gone, events left: still refused without --force
        for table in ("member_group_members", "member_groups", "org_links", "members", "tokens", "organisations"):
            conn.execute(text(f"DELETE FROM {table}"))
    result = run_cli("seed", "--members", "300", "--history-days", "5", "--database-url", url)
    assert result.returncode == 2 and "events" in result.stderr
    assert scalar(engine, "SELECT COUNT(*) FROM events") == before[0]
    result = run_cli("seed", "--members", "300", "--history-days", "3", "--force", "--database-url", url)
    assert result.returncode == 0, result.stderr
    summary = orjson.loads(result.stdout)
    assert summary["history_days"] == 3 and summary["history_events"] == scalar(engine, "SELECT COUNT(*) FROM events")
    assert summary["replaced"]["events"] == before[0]


def test_default_history_covers_the_periods_the_kpis_show() -> None:
    assert default_history_days(local(2026, 12, 2, 12, 0)) == 62  # back to 1 October (this quarter)
    assert default_history_days(local(2026, 1, 5, 12, 0)) == 35  # back to 1 December (the previous month)
    assert default_history_days(local(2026, 3, 31, 12, 0)) == 89  # back to 1 January
    assert default_history_days(local(2026, 7, 1, 9, 0)) == 30  # at least the 30-day trend


# ---------------------------------------------------------------- determinism and validity


def table_digest(engine: Engine) -> str:
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for row in conn.execute(text("SELECT seq, event_id, type, ts_ms, org_id, member_id, data FROM events ORDER BY seq")):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def test_same_seed_same_history_other_seed_other_history(tmp_path: Path) -> None:
    now = local(2026, 11, 20, 15, 0)
    digests = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        engine = open_store(f"sqlite:///{tmp_path / name}.db")
        summary = seed_demo(engine, 1500, seed=seed, history_days=20, now=now)
        assert summary["history_events"] > 5_000
        digests.append(table_digest(engine))
    assert digests[0] == digests[1]
    assert digests[0] != digests[2]


def test_every_history_event_passes_the_ingest_checks(tmp_path: Path) -> None:
    """The past is made of catalogue events: each one, sent as a producer would, is accepted."""
    now = local(2026, 11, 20, 15, 0)
    engine = open_store(f"sqlite:///{tmp_path / 'h.db'}")
    seed_demo(engine, 800, history_days=40, now=now)
    tree = OrgTree.load(engine)
    checker = EventChecker(tree, MemberIndex.load(engine))
    code_of_member = dict(engine.connect().execute(text("SELECT id, code FROM members")).all())
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT event_id, type, ts_ms, org_id, member_id, data FROM events ORDER BY seq")).all()
    assert {r.type for r in rows} >= {"study", "article_read", "dues_paid", "meeting_held", "meeting_attended",
                                      "transfer_requested", "recruit_probationary"}  # fmt: skip
    wire = [
        {
            "id": r.event_id,
            "type": r.type,
            "ts": dt.datetime.fromtimestamp(r.ts_ms / 1000, SHANGHAI).isoformat(timespec="milliseconds"),
            "org": tree.nodes[r.org_id].code,
            "member": code_of_member.get(r.member_id),
            "data": orjson.loads(r.data),
        }
        for r in rows
    ]
    accepted, rejected = checker.check(wire, int(now * 1000))
    # Ingest checks a member against today's roll (docs/security.md): a member whose transfer was
    # completed in the past is no longer on the roll of the organisation their earlier events name,
    # so those events — and only those — are refused, for that reason alone.
    moved = {code_of_member[r.member_id] for r in rows if r.type == "transfer_completed"}
    assert moved, "the history should hold completed transfers"
    for refusal in rejected:
        event = wire[refusal["index"]]
        assert event["member"] in moved and "is not on the roll of" in refusal["error"], (event, refusal)
    assert len(accepted) + len(rejected) == len(rows)
    assert len(rejected) < len(rows) / 100
    assert max(r.ts_ms for r in rows) < now * 1000
    seqs_in_time_order = [r.ts_ms for r in rows]
    assert seqs_in_time_order == sorted(seqs_in_time_order)  # seq follows time


# ---------------------------------------------------------------- KPIs equal the recomputation; live continues


def live_events(engine: Engine, model: StreamModel, checker: EventChecker, writer: EventWriter, clock: Clock,
                n: int) -> list:  # fmt: skip
    rows, rejected = checker.check(model.next_batch(n), int(clock.now * 1000))
    assert rejected == []
    return writer.write([rows])[0]


def test_history_then_live_across_midnight_and_a_month_end_counted_once(tmp_path: Path) -> None:
    """Seeded up to 23:56 on 30 November, then the live model's events through midnight into December:
    at every check the live aggregator equals the recomputation from the store, and a rebuild equals both."""
    engine = open_store(f"sqlite:///{tmp_path / 'h.db'}")
    clock = Clock(local(2026, 11, 30, 23, 56))
    summary = seed_demo(engine, 1200, seed=3, history_days=45, now=clock.now)
    tree = OrgTree.load(engine)
    aggregator = Aggregator.rebuild(engine, tree, clock=clock)
    state = StoreState.load(engine, clock.now, SHANGHAI)
    for org_id in tree.nodes:
        assert kpis(aggregator.snapshot(org_id)) == kpis(state.snapshot(org_id)), tree.nodes[org_id].code
    before = aggregator.snapshot(tree.root_id)
    assert before["events_total"] == summary["history_events"]
    assert before["dues_paid"] > 0.9 * before["members"]  # the last day of the month: nearly all paid

    model = model_from_store(engine, seed=9, clock=clock)
    checker, writer = EventChecker(tree, MemberIndex.load(engine)), EventWriter(engine)
    live = 0
    for _ in range(16):  # 23:56 → 00:04, 30 s apart
        clock.now += 30
        stored = live_events(engine, model, checker, writer, clock, 150)
        aggregator.apply(stored)
        live += len(stored)
    after = aggregator.snapshot(tree.root_id)
    assert after["events_total"] == summary["history_events"] + live
    assert after["dues_paid"] < before["dues_paid"]  # a new month: only December's payments count
    state = StoreState.load(engine, clock.now, SHANGHAI)
    for org_id in tree.nodes:
        assert kpis(aggregator.snapshot(org_id)) == kpis(state.snapshot(org_id)), tree.nodes[org_id].code
    assert kpis(Aggregator.rebuild(engine, tree, clock=clock).snapshot(tree.root_id)) == kpis(after)


# ---------------------------------------------------------------- the shares at 50,000 members


@pytest.fixture(scope="module")
def demo_50k(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, dict, float]:
    now = local(2026, 12, 2, 19, 30)  # a Wednesday evening, the second day of a month, in the middle of a quarter
    engine = open_store(f"sqlite:///{tmp_path_factory.mktemp('h50k') / 'h.db'}")
    summary = seed_demo(engine, 50_000, seed=1, history_days=62, now=now, density=0.05)
    return engine, summary, now


def month_ms(*args: int) -> int:
    return int(local(*args) * 1000)


def test_shares_at_50000_members_are_within_the_stated_bounds(demo_50k: tuple[Engine, dict, float]) -> None:
    """The figures of docs/demo-data.md, measured on what was written."""
    engine, summary, now = demo_50k
    party = scalar(engine, "SELECT COUNT(*) FROM members WHERE stage IN ('full', 'probationary')")
    branches = scalar(engine, "SELECT COUNT(*) FROM organisations WHERE kind = 'branch'")
    november, december = month_ms(2026, 11, 1), month_ms(2026, 12, 1)

    # 失联: no event in the window, one trace 185–720 days ago
    window_start = int(now * 1000) - 62 * 86_400_000
    silent = party - scalar(
        engine,
        "SELECT COUNT(*) FROM members WHERE stage IN ('full', 'probationary') AND id IN "
        "(SELECT DISTINCT member_id FROM events WHERE ts_ms >= :start AND member_id IS NOT NULL)",
        start=window_start,
    )
    assert 0.5 * LOST_SHARE <= silent / party <= 1.5 * LOST_SHARE + 0.005

    # dues: November nearly all paid, mostly in its first ten days, with a tail after the 15th
    paid_nov = scalar(engine, "SELECT COUNT(DISTINCT member_id) FROM events WHERE type = 'dues_paid' AND data LIKE '%2026-11%'")
    assert DUES_PAID_SHARE - 0.03 <= paid_nov / party <= 1.0
    early = scalar(engine, "SELECT COUNT(*) FROM events WHERE type = 'dues_paid' AND ts_ms >= :a AND ts_ms < :b",
                   a=november, b=month_ms(2026, 11, 11))  # fmt: skip
    late = scalar(engine, "SELECT COUNT(*) FROM events WHERE type = 'dues_paid' AND ts_ms >= :a AND ts_ms < :b",
                  a=month_ms(2026, 11, 16), b=december)  # fmt: skip
    assert 0.6 <= early / paid_nov <= 0.9 and 0.05 <= late / paid_nov <= 0.3
    paid_dec = scalar(engine, "SELECT COUNT(DISTINCT member_id) FROM events WHERE type = 'dues_paid' AND data LIKE '%2026-12%'")
    assert 0.05 <= paid_dec / party <= 0.35  # two days into December

    # meetings: in November most branches held a 支委会 and a 主题党日, a few none at all
    for kind in ("branch_committee", "themed_day"):
        held = scalar(engine, "SELECT COUNT(DISTINCT org_id) FROM events WHERE type = 'meeting_held' "
                      "AND ts_ms >= :a AND ts_ms < :b AND data LIKE :k", a=november, b=december, k=f'%"{kind}"%')  # fmt: skip
        assert 0.85 <= held / branches <= 0.99, kind
    no_meeting = branches - scalar(
        engine,
        "SELECT COUNT(DISTINCT CASE WHEN o.kind = 'branch' THEN o.id ELSE o.parent_id END) FROM events e "
        "JOIN organisations o ON o.id = e.org_id WHERE e.type = 'meeting_held' AND e.ts_ms >= :a",
        a=november,
    )
    assert 0 < no_meeting / branches <= WEAK_BRANCH_SHARE

    # rhythm: quiet nights, busier weekday mornings
    def activity(sql_hours: str) -> int:
        return scalar(engine, "SELECT COUNT(*) FROM events WHERE type IN ('study', 'article_read', 'login') AND "
                      f"CAST(((ts_ms / 1000 + 28800) % 86400) / 3600 AS INTEGER) IN ({sql_hours})")  # fmt: skip

    assert activity("2, 3, 4") * 8 < activity("7, 8, 9")
    # transfers: some in flight, a few overdue (requested > 30 days ago, never closed)
    with engine.connect() as conn:
        opened = dict(conn.execute(text(
            "SELECT json_extract(data, '$.transfer'), ts_ms FROM events WHERE type = 'transfer_requested'")).all())
        closed = {code for (code,) in conn.execute(text(
            "SELECT json_extract(data, '$.transfer') FROM events WHERE type IN ('transfer_completed', 'transfer_rejected')"))}
    overdue = sum(1 for code, ts in opened.items() if code not in closed and ts < now * 1000 - 30 * 86_400_000)  # fmt: skip
    requested = summary["history"]["transfer_requested"]
    assert 0 < overdue <= 0.1 * requested
    assert {"transfer_approved", "transfer_completed", "transfer_rejected"} <= set(summary["history"])
    # recruitment: this year's probationary members joined at the roll's pace (one step each in the window)
    assert 0 < summary["history"]["recruit_probationary"] < summary["probationary"]
    assert summary["development_targets"] != summary["probationary"]


def test_first_second_kpis_after_seeding_are_believable(demo_50k: tuple[Engine, dict, float]) -> None:
    engine, summary, now = demo_50k
    tree = OrgTree.load(engine)
    s = Aggregator.rebuild(engine, tree, clock=Clock(now)).snapshot(tree.root_id)
    branches = s["branches"]
    assert 0 < s["meetings"]["three_meetings_completion"] < 0.5  # two days into the month
    assert 0 < s["meetings"]["themed_day_completion"] < 0.6
    breaks = s["rule_breaks"]["few_members"] + s["rule_breaks"]["no_secretary"] + s["rule_breaks"]["no_meeting"]
    assert 0 < breaks < 0.1 * branches
    assert s["lost_contact"] > 0
    assert 0.05 < s["dues_rate"] < 0.35
    assert s["active_today"] > s["active_15m"] > 0
    assert s["transfers"]["in_flight"] > 0
    assert any(s["events_trend"])


# ---------------------------------------------------------------- python app.py


def test_first_frame_after_app_start_shows_a_living_organisation(tmp_path: Path) -> None:
    """``python app.py`` on an empty database seeds a past by default: from its first snapshot,
    三会一课 completion is above zero and rule breaks are fewer than 10 % of branches."""
    server = LiveServer(tmp_path / "lianxin.db", ["--no-simulate"], demo_members=4000, history_days=None).start()
    try:
        r = httpx.get(f"{server.url}/api/snapshot", headers={"Authorization": f"Bearer {server.admin_token}"}, timeout=30)
        assert r.status_code == 200
        s = r.json()
        engine = open_store(server.db_url)
        assert s["events_total"] == scalar(engine, "SELECT COUNT(*) FROM events") > 0
        assert s["meetings"]["three_meetings_completion"] > 0
        breaks = sum(s["rule_breaks"].values())
        assert breaks < 0.1 * s["branches"]
        assert s["lost_contact"] > 0 and s["dues_paid"] > 0
        assert scalar(engine, "SELECT COUNT(*) FROM organisations WHERE region_code IN ('710000', '810000', '820000')") == 0
    finally:
        server.stop()


# ---------------------------------------------------------------- notices agree with the screens


def test_simulator_notices_never_contradict_the_figures_or_the_season(tmp_path: Path) -> None:
    """The server's own feed gives the model the live KPIs: a notice that states a figure is sent only
    when the figure says so; seasonal ones only in their season (no typhoon warnings in December)."""
    clock = Clock(local(2026, 12, 20, 9, 0))
    engine = open_store(f"sqlite:///{tmp_path / 'n.db'}")
    seed_demo(engine, 1500, seed=2, history_days=0, now=clock.now)
    tree = OrgTree.load(engine)
    aggregator = Aggregator.rebuild(engine, tree, clock=clock)
    model = StreamModel(tree, Population.load(engine), seed=4, clock=clock, kpis=aggregator.snapshot)
    notices = []
    for _ in range(400):  # 400 × 2 minutes of notices, no other traffic needed
        clock.now += 120
        notices += [e for e in model.next_batch(1) if e["type"] == "notice"]
    assert len(notices) > 50
    root = aggregator.snapshot(tree.root_id)
    assert root["rule_breaks"]["few_members"] == 0 and root["transfers"]["overdue"] == 0  # nothing to warn about
    campaigns = {f"关于开展“{c}”活动的通知" for c in CAMPAIGN_TITLES}
    titles = {n["data"]["title"] for n in notices} - campaigns
    december = {title.format(m=12, q=4) for title in NOTICE_TITLES["info"] + NOTICE_TITLES["warning"] + NOTICE_TITLES["urgent"]}
    assert titles <= december
    stated = {title.format(m=12, q=4): condition for title, condition in NOTICE_WHEN_KPI.items()}
    sent = {stated[t] for t in titles if t in stated}
    # 20 December and not one meeting or payment: low completion and dues are true, and are said;
    # there is no branch with fewer than 3 full members and no overdue transfer: never said.
    assert sent == {"three_meetings_low", "dues_behind"}
    assert not titles & {t for t, months in NOTICE_MONTHS.items() if 12 not in months}
    assert titles & {t for t, months in NOTICE_MONTHS.items() if 12 in months}  # the season's own do come


def test_notice_conditions_follow_the_snapshot() -> None:
    low = {"meetings": {"three_meetings_completion": 0.3}, "dues_rate": 0.5,
           "rule_breaks": {"few_members": 2}, "transfers": {"overdue": 1}}  # fmt: skip
    good = {"meetings": {"three_meetings_completion": 0.9}, "dues_rate": 0.97,
            "rule_breaks": {"few_members": 0}, "transfers": {"overdue": 0}}  # fmt: skip
    for condition in set(NOTICE_WHEN_KPI.values()):
        assert notice_condition(condition, low, 20) is True, condition
        assert notice_condition(condition, good, 20) is False, condition
    assert notice_condition("three_meetings_low", low, 3) is False  # early in the month, low is normal
    with pytest.raises(ValueError):
        notice_condition("nonsense", low, 20)


def test_the_app_past_is_detailed_for_30_days_and_sparse_before(tmp_path: Path) -> None:
    """python app.py's default past: every record in the last ``detail_days``, before them only
    meetings held, transfers and recruitment — and the KPIs still equal the recomputation."""
    now = local(2026, 12, 2, 19, 0)
    engine = open_store(f"sqlite:///{tmp_path / 'd.db'}")
    seed_demo(engine, 1500, seed=2, history_days=62, detail_days=30, now=now)
    cut = int(local(2026, 11, 2) * 1000)
    old = dict(engine.connect().execute(text(
        "SELECT type, COUNT(*) FROM events WHERE ts_ms < :cut AND ts_ms >= :start GROUP BY type"),
        {"cut": cut, "start": int(local(2026, 10, 1) * 1000)}).all())  # fmt: skip
    assert old.get("meeting_held", 0) > 0
    assert not set(old) & {"study", "article_read", "login", "dues_paid", "meeting_attended", "volunteer"}
    recent = scalar(engine, "SELECT COUNT(*) FROM events WHERE ts_ms >= :cut AND type = 'study'", cut=cut)
    assert recent > 0
    tree = OrgTree.load(engine)
    live = Aggregator.rebuild(engine, tree, clock=Clock(now)).snapshot(tree.root_id)
    assert kpis(live) == kpis(StoreState.load(engine, now, SHANGHAI).snapshot(tree.root_id))
    assert live["meetings"]["three_meetings_completion"] > 0 and all(live["events_daily"][:-1])
