"""The simulator: the stream model against a small organisation in a real SQLite file,
and the websocket client against a live server."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from dashboard.demo.simulator import SHANGHAI, Population, StreamModel, model_from_store
from dashboard.domain.events import DATA_MODELS, MEMBER_REQUIRED, EventIn, EventType
from dashboard.store.engine import open_store
from dashboard.store.models import Event, Member, Organisation
from dashboard.store.tree import OrgTree
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
PROVINCES = ("110000", "440000", "510000")
STAGE_CYCLE = ("full",) * 14 + ("probationary", "applicant", "activist", "development_target")


def build_organisation(engine: Engine) -> None:
    """Top committee → 3 province committees → 2 county committees each → 3 branches each,
    every other branch with 2 groups; 8–29 people per branch, secretaries and committee members."""
    with Session(engine) as s:
        serial = iter(range(1, 10_000))

        def org(code: str, name: str, kind: str, parent: Organisation | None, region: str | None) -> Organisation:
            o = Organisation(code=code, name=name, kind=kind, parent_id=parent.id if parent else None,
                             level=parent.level + 1 if parent else 0, path="", region_code=region,
                             unit_type="government")  # fmt: skip
            s.add(o)
            s.flush()
            o.path = (parent.path if parent else "/") + f"{o.id}/"
            return o

        def person(o: Organisation, stage: str, post: str | None) -> None:
            n = next(serial)
            joined = dt.date(2000 + n % 20, 7, 1) if stage in ("probationary", "full") else None
            s.add(Member(code=f"M{n:05d}", name=f"成员{n}", org_id=o.id, stage=stage, gender="MF"[n % 2],
                         ethnicity="汉族", birth_year=1960 + n % 40, education="本科", occupation="专业技术人员",
                         post=post, join_date=joined))  # fmt: skip

        top = org("TOP", "演示党委", "committee", None, None)
        for p, province in enumerate(PROVINCES):
            pc = org(f"P{p}", f"省委{p}", "committee", top, province)
            for c in range(2):
                county = org(f"C{p}{c}", f"县委{p}{c}", "committee", pc, province[:4] + f"{c + 1:02d}")
                for b in range(3):
                    branch = org(f"B{p}{c}{b}", f"支部{p}{c}{b}", "branch", county, county.region_code)
                    size = 8 + (p * 7 + c * 5 + b * 3) % 22
                    holders = [branch]
                    if b % 2 == 0:
                        holders = [org(f"G{p}{c}{b}{g}", f"小组{p}{c}{b}{g}", "group", branch, county.region_code)
                                   for g in range(2)]  # fmt: skip
                    for k in range(size):
                        post = ("secretary", "deputy_secretary", "committee_member")[k] if k < 3 else None
                        person(holders[k % len(holders)], STAGE_CYCLE[(k + b) % len(STAGE_CYCLE)], post)
        s.commit()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = open_store(f"sqlite:///{tmp_path_factory.mktemp('sim') / 'lianxin.db'}")
    build_organisation(engine)
    return engine


@pytest.fixture(scope="module")
def world(store: Engine) -> tuple[OrgTree, Population]:
    return OrgTree.load(store), Population.load(store)


class FakeClock:
    """A clock the test moves: epoch seconds."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def shanghai(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def run(model: StreamModel, clock: FakeClock, batches: int, size: int, step_s: float) -> list[dict]:
    events: list[dict] = []
    for _ in range(batches):
        events.extend(model.next_batch(size))
        clock.advance(step_s)
    return events


def test_same_seed_and_clock_give_the_same_stream(world: tuple[OrgTree, Population]) -> None:
    streams = []
    for seed in (7, 7, 8):
        clock = FakeClock(shanghai(2026, 11, 3, 8, 0))
        streams.append(run(StreamModel(*world, seed=seed, clock=clock), clock, 200, 50, 1.0))
    assert streams[0] == streams[1]
    assert streams[0] != streams[2]


def test_every_event_validates_and_names_real_organisations_and_members(
    store: Engine, world: tuple[OrgTree, Population]
) -> None:
    tree = world[0]
    with Session(store) as s:
        member_codes = set(s.scalars(select(Member.code)))
    clock = FakeClock(shanghai(2026, 11, 2, 6, 0))
    events = run(StreamModel(*world, seed=1, clock=clock), clock, 720, 40, 60.0)  # 12 simulated hours
    ids = [e["id"] for e in events]
    assert len(ids) == len(set(ids))
    for e in events:
        envelope = EventIn.model_validate(e)
        DATA_MODELS[envelope.type].model_validate(envelope.data)
        assert envelope.org in tree.by_code, e
        assert envelope.ts is not None and envelope.ts.utcoffset() == dt.timedelta(hours=8)
        if envelope.type in MEMBER_REQUIRED:
            assert envelope.member in member_codes, e
        else:
            assert envelope.member is None or envelope.member in member_codes, e
    seen = Counter(e["type"] for e in events)
    # A working day's stream has every kind of activity the catalogue knows, but a new application's name.
    assert set(seen) >= set(EventType) - {EventType.recruit_full}, set(EventType) - set(seen)


def test_transfers_move_through_valid_steps_and_the_member_moves(world: tuple[OrgTree, Population]) -> None:
    clock = FakeClock(shanghai(2026, 11, 4, 9, 0))
    model = StreamModel(*world, seed=3, clock=clock)
    events = run(model, clock, 600, 40, 20.0)
    steps: dict[str, list[dict]] = {}
    for e in events:
        if e["type"].startswith("transfer_"):
            steps.setdefault(e["data"]["transfer"], []).append(e)
    assert len(steps) >= 10
    finished = {"transfer_rejected": 0, "transfer_completed": 0}
    for chain in steps.values():
        kinds = [e["type"] for e in chain]
        assert kinds in (
            ["transfer_requested"],
            ["transfer_requested", "transfer_approved"],
            ["transfer_requested", "transfer_rejected"],
            ["transfer_requested", "transfer_approved", "transfer_completed"],
        ), kinds
        assert len({(e["member"], e["data"]["from_org"], e["data"]["to_org"]) for e in chain}) == 1
        first = chain[0]
        assert first["data"]["from_org"] != first["data"]["to_org"]
        assert first["org"] == first["data"]["from_org"]
        if kinds[-1] in finished:
            finished[kinds[-1]] += 1
        if kinds[-1] == "transfer_completed":
            assert chain[-1]["org"] == first["data"]["to_org"]
    assert finished["transfer_completed"] > finished["transfer_rejected"] > 0
    # After completing, the member's later events come from the new organisation.
    moved = {c[-1]["member"]: c[-1] for c in steps.values() if c[-1]["type"] == "transfer_completed"}
    position = {id(e): k for k, e in enumerate(events)}
    later = [
        e for e in events
        if e["member"] in moved and position[id(e)] > position[id(moved[e["member"]])]
        and not e["type"].startswith("transfer_")
    ]  # fmt: skip
    assert later, "no activity after a completed transfer"
    for e in later:
        assert e["org"] == moved[e["member"]]["data"]["to_org"]
        assert model.org_of(e["member"]) == e["org"]


def test_dues_early_in_the_month_at_most_once_per_member_and_month(world: tuple[OrgTree, Population]) -> None:
    clock = FakeClock(shanghai(2026, 11, 1, 9, 0))
    model = StreamModel(*world, seed=5, clock=clock)
    paid: Counter[tuple[str, str]] = Counter()
    per_day: Counter[int] = Counter()
    for day in range(60):  # two simulated months, 10:00 each day
        clock.now = shanghai(2026, 11, 1, 10, 0).timestamp() + day * 86400
        for e in model.next_batch(60):
            if e["type"] == "dues_paid":
                paid[(e["member"], e["data"]["month"])] += 1
                per_day[dt.datetime.fromisoformat(e["ts"]).day] += 1
                assert 2 <= e["data"]["amount"] <= 200
                assert e["data"]["month"] == e["ts"][:7]
    assert paid and max(paid.values()) == 1
    assert {month for _, month in paid} == {"2026-11", "2026-12"}
    assert sum(per_day[d] for d in range(1, 6)) > sum(per_day[d] for d in range(20, 25))


def test_the_mix_follows_the_daily_rhythm(world: tuple[OrgTree, Population]) -> None:
    def mix_at(hour: int) -> Counter[str]:
        clock = FakeClock(shanghai(2026, 11, 5, hour, 0))
        model = StreamModel(*world, seed=11, clock=clock)
        return Counter(e["type"] for e in run(model, clock, 100, 50, 1.0))

    three_am, eight_am, nine_pm = mix_at(3), mix_at(8), mix_at(21)
    assert eight_am["study"] > 1.3 * three_am["study"]
    assert nine_pm["article_read"] > 1.3 * eight_am["article_read"]
    office = ("meeting_held", "transfer_requested", "recruit_activist", "recruit_development_target")
    assert sum(three_am[t] for t in office) == 0


def period_of(kind: str, ts: str) -> str:
    """The calendar period a meeting of ``kind`` counts for."""
    when = dt.datetime.fromisoformat(ts)
    if kind in ("branch_committee", "group", "themed_day"):
        return f"{when.year}-{when.month:02d}"
    if kind in ("branch_general", "party_lecture"):
        return f"{when.year}Q{(when.month - 1) // 3 + 1}"
    return str(when.year)


def test_meetings_once_per_branch_and_period_with_attendees_of_that_branch(
    world: tuple[OrgTree, Population],
) -> None:
    tree = world[0]
    clock = FakeClock(shanghai(2026, 11, 2, 9, 0))
    model = StreamModel(*world, seed=2, clock=clock)
    events: list[dict] = []
    for day in range(0, 60, 2):  # November and December, every other day at 9:30
        clock.now = shanghai(2026, 11, 2, 9, 30).timestamp() + day * 86400
        events.extend(model.next_batch(800))
    held = {e["id"]: e for e in events if e["type"] == "meeting_held"}
    assert len(held) > 20
    periods = Counter((e["org"], e["data"]["kind"], period_of(e["data"]["kind"], e["ts"])) for e in held.values())
    assert max(periods.values()) == 1
    assert {p for _, _, p in periods} >= {"2026-11", "2026-12", "2026Q4"}
    for e in held.values():
        node = tree.get(e["org"])
        assert node is not None and node.kind == ("group" if e["data"]["kind"] == "group" else "branch")
    attended = Counter()
    for e in events:
        if e["type"] == "meeting_attended":
            meeting = held[e["data"]["meeting"]]
            assert e["data"]["kind"] == meeting["data"]["kind"]
            branch = tree.by_code[meeting["org"]]
            assert tree.is_within(tree.by_code[e["org"]], branch), (e, meeting)
            attended[meeting["id"]] += 1
    assert attended == Counter({i: e["data"]["attendees"] for i, e in held.items()})


def test_a_study_campaign_triples_study_in_one_province(world: tuple[OrgTree, Population]) -> None:
    tree = world[0]
    clock = FakeClock(shanghai(2026, 11, 5, 10, 0))
    model = StreamModel(*world, seed=4, clock=clock)
    quiet: list[dict] = []
    for _ in range(600):  # the first campaign starts within 5 minutes
        batch = model.next_batch(50)
        clock.advance(1.0)
        if model.campaign is not None:
            break
        quiet.extend(batch)
    assert model.campaign is not None
    province, title, _ = model.campaign
    announced = [e for e in batch if e["type"] == "notice" and title in e["data"]["title"]]
    assert len(announced) == 1 and tree.get(announced[0]["org"]).region_code == province  # type: ignore[union-attr]
    during = model.next_batch(4000)
    assert any(e["data"].get("title") == title for e in during if e["type"] == "study")

    def province_share_of_study(events: list[dict]) -> float:
        study = [e for e in events if e["type"] == "study"]
        inside = [e for e in study if (tree.get(e["org"]).region_code or "")[:2] == province[:2]]  # type: ignore[union-attr]
        return len(inside) / len(study)

    assert province_share_of_study(during) > 1.5 * province_share_of_study(quiet)


def test_recruitment_advances_one_stage_at_a_time(store: Engine, world: tuple[OrgTree, Population]) -> None:
    with Session(store) as s:
        stage_of = {code: stage for code, stage in s.execute(select(Member.code, Member.stage))}
    clock = FakeClock(shanghai(2026, 11, 4, 10, 0))
    events = run(StreamModel(*world, seed=9, clock=clock), clock, 300, 50, 30.0)
    step_from = {
        "recruit_activist": "applicant",
        "recruit_development_target": "activist",
        "recruit_probationary": "development_target",
        "recruit_full": "probationary",
    }
    steps = [e for e in events if e["type"] in step_from]
    assert steps
    for e in steps:
        assert stage_of[e["member"]] == step_from[e["type"]]
    assert len({e["member"] for e in steps}) == len(steps)


def test_notices_now_and_then(world: tuple[OrgTree, Population]) -> None:
    clock = FakeClock(shanghai(2026, 11, 4, 10, 0))
    events = run(StreamModel(*world, seed=6, clock=clock), clock, 3600, 5, 1.0)  # one simulated hour
    notices = [e for e in events if e["type"] == "notice"]
    assert 5 <= len(notices) <= 40
    assert {n["data"]["level"] for n in notices} <= {"info", "warning", "urgent"}


def test_model_needs_an_organisation(tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(ValueError, match="seed"):
        model_from_store(engine, seed=1)


# -- the in-process simulator ---------------------------------------------------


def test_live_simulator_feeds_the_ingestor(tmp_path: Path) -> None:
    from dashboard.runtime.core import Runtime
    from dashboard.runtime.demo_feed import LiveSimulator
    from dashboard.settings import Settings

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'live.db'}", simulate=False)
    engine = open_store(settings.database_url)
    build_organisation(engine)
    runtime = Runtime.start(settings, engine)

    async def run_for_a_while() -> LiveSimulator:
        simulator = LiveSimulator(runtime, rate=400.0, seed=1)
        task = asyncio.create_task(simulator.run())
        while simulator.accepted < 400:
            await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return simulator

    try:
        simulator = asyncio.run(asyncio.wait_for(run_for_a_while(), timeout=120))
    finally:
        runtime.close()
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(Event).where(Event.event_id.like("sim-%"))).scalar_one()
    assert simulator.rejected == 0
    assert stored == simulator.accepted == simulator.sent


# -- the websocket client against a live server -----------------------------------


def simulate_cli(server: object, *args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LIANXIN_INGEST_TOKEN": token if token is not None else server.token}  # type: ignore[attr-defined]
    cmd = [sys.executable, "-m", "dashboard", "simulate", "--url", server.ws_ingest,  # type: ignore[attr-defined]
           "--database-url", server.db_url, *args]  # type: ignore[attr-defined]  # fmt: skip
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def stored_sim_events(db_url: str, run: str) -> tuple[int, int]:
    engine = open_store(db_url)
    try:
        with engine.connect() as conn:
            mine = select(Event.event_id).where(Event.event_id.like(f"sim-{run}-%")).subquery()
            total = conn.execute(select(func.count()).select_from(mine)).scalar_one()
            distinct = conn.execute(select(func.count(func.distinct(mine.c.event_id)))).scalar_one()
    finally:
        engine.dispose()
    return total, distinct


def test_cli_sends_a_stream_and_prints_one_json_line(live_server) -> None:  # type: ignore[no-untyped-def]
    done = simulate_cli(live_server, "--rate", "500", "--events", "1500", "--batch", "50", "--seed", "1")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert {"sent", "accepted", "duplicates", "rejected", "seconds"} <= set(summary)
    assert summary["sent"] == 1500 == summary["accepted"] + summary["duplicates"] + summary["rejected"]
    assert summary["accepted"] > 0 and summary["rejected"] == 0, summary
    assert stored_sim_events(live_server.db_url, summary["run"]) == (summary["accepted"], summary["accepted"])


def test_a_bad_token_is_one_clear_error_at_once(live_server) -> None:  # type: ignore[no-untyped-def]
    from dashboard.demo.client import SimulationError, run_simulation

    with pytest.raises(SimulationError, match="1008") as caught:
        run_simulation(url=live_server.ws_ingest, rate=100, duration=1, batch=10, token="not-a-token",
                       database_url=live_server.db_url, seed=1)  # fmt: skip
    assert "\n" not in str(caught.value)


def test_an_unreachable_server_is_one_clear_error(store: Engine, tmp_path: Path) -> None:
    from dashboard.demo.client import SimulationError, simulate

    url = f"ws://127.0.0.1:{free_port()}/ws/ingest"
    model = model_from_store(store, seed=1)
    with pytest.raises(SimulationError, match="cannot reach") as caught:
        asyncio.run(simulate(url, model, rate=10, duration=1, batch=5, token="t", connect_timeout=1.0))
    assert "\n" not in str(caught.value)


def test_the_client_resends_across_a_server_crash(fresh_server) -> None:  # type: ignore[no-untyped-def]
    """kill -9 mid-run, restart on the same database: every event stored exactly once."""
    from dashboard.demo.client import run_simulation

    result: dict = {}

    def send() -> None:
        result.update(run_simulation(url=fresh_server.ws_ingest, rate=3000, duration=8, batch=150,
                                     token=fresh_server.token, database_url=fresh_server.db_url, seed=5))  # fmt: skip

    sender = threading.Thread(target=send)
    sender.start()
    time.sleep(3)
    fresh_server.kill()
    fresh_server.start()
    sender.join(timeout=240)
    assert not sender.is_alive()
    assert result["reconnects"] >= 1 and result["unacknowledged"] == 0, result
    assert result["sent"] == result["accepted"] + result["duplicates"] + result["rejected"]
    assert result["rejected"] == 0, result
    assert stored_sim_events(fresh_server.db_url, result["run"]) == (result["sent"], result["sent"])
