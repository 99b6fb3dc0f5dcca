"""The map's frame sections and drill-down data, on a seeded demo organisation and the real bus."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import orjson
import pytest
from sqlalchemy import text

from dashboard.access.scopes import Scope, mask_snapshot
from dashboard.demo.seed import seed_demo
from dashboard.domain.events import StoredEvent
from dashboard.live.aggregator import Aggregator
from dashboard.live.bus import InProcessBus
from dashboard.live.publisher import FramePublisher
from dashboard.map.frames import FLASH_KINDS, MAX_FLASHES, MAX_TRANSFER_LINES, MapFrames, MapPlaces
from dashboard.map.regions import load_regions
from dashboard.map.view import MAP_KPIS, MAX_DRILL_ORGS, Totals, drill_down, region_kpis
from dashboard.store.engine import open_store
from dashboard.store.names import MemberDirectory
from dashboard.store.tree import OrgTree

MAP_KEYS = ("map_regions", "map_flashes", "map_transfers", "map_notices")


class Live:
    """A seeded store, the aggregator and the publisher with the map sections, fed through the bus."""

    def __init__(self, db: Path) -> None:
        self.engine = open_store(f"sqlite:///{db}")
        seed_demo(self.engine, members=3000, seed=3)
        self.tree = OrgTree.load(self.engine)
        self.regions = load_regions()
        self.aggregator = Aggregator.rebuild(self.engine, self.tree)
        self.bus = InProcessBus()
        self.bus.subscribe(self.aggregator.apply)
        self.publisher = FramePublisher(self.tree, self.aggregator, self.bus, MemberDirectory(self.engine))
        self.map = MapFrames(self.tree, self.aggregator, self.regions, self.publisher.notices)
        self.publisher.sections.extend(self.map.sections)
        self.places = MapPlaces(self.tree, self.regions)
        self._seq = itertools.count(1)
        with self.engine.connect() as conn:
            self.members = conn.execute(text("SELECT id, org_id, code, name FROM members WHERE stage = 'full' ORDER BY id")).all()

    def province(self, code: str) -> int:
        return self.tree.by_code[f"LX-{code}"]

    def branches_in(self, province: str) -> list[int]:
        top = self.province(province)
        return [i for i in self.tree.walk(top) if self.tree.nodes[i].kind == "branch"]

    def member_of(self, org_id: int) -> int:
        return next(m.id for m in self.members if m.org_id == org_id)

    def publish(self, event_type: str, org_id: int, member: int | None = None, **data: object) -> None:
        seq = next(self._seq)
        self.bus.publish([StoredEvent(seq, f"t{seq}", event_type, int(time.time() * 1000), org_id, member, dict(data))])

    def frame_values(self, scope: Scope) -> dict[str, object]:
        """The map keys a screen of ``scope`` holds after the next tick."""
        channel = self.publisher.attach(scope)
        self.publisher.tick()
        return {k: v for k, v in channel.values.items() if k in MAP_KEYS}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Live:
    return Live(tmp_path_factory.mktemp("map") / "map.db")


def top(live: Live) -> int:
    assert live.tree.root_id is not None
    return live.tree.root_id


def test_region_kpis_follow_the_aggregator_per_region(live: Live) -> None:
    branch = live.branches_in("440000")[0]
    live.publish("study", branch, live.member_of(branch), points=7, title="t")
    live.publish("login", branch, live.member_of(branch))
    values = live.frame_values(Scope(top(live), "full"))["map_regions"]
    assert set(values) == {n.region_code for n in live.tree.nodes.values() if n.level == 1}
    snap = live.aggregator.snapshot(live.province("440000"))
    guangdong = dict(zip(MAP_KPIS, values["440000"]))
    assert guangdong["members"] == snap["members"] > 0
    assert guangdong["study_points"] == snap["study_points_today"] >= 7
    assert guangdong["activity"] == round(snap["events_today"] / snap["members"], 3) > 0
    assert guangdong["dues_rate"] == round(snap["dues_paid"] / snap["members"], 3)


def test_a_province_scope_sees_its_own_region_only(live: Live) -> None:
    scope = Scope(live.province("330000"), "full")
    assert list(live.frame_values(scope)["map_regions"]) == ["330000"]
    assert list(region_kpis(live.tree, live.aggregator, scope, live.regions.names)) == ["330000"]
    assert region_kpis(live.tree, live.aggregator, scope, {"110000"}) == {}


def test_flashes_are_where_the_events_of_the_scope_happened(live: Live) -> None:
    inside = live.branches_in("320000")[:2]
    outside = live.branches_in("510000")[0]
    scope = Scope(live.province("320000"), "full")
    live.frame_values(scope)
    live.publish("study", inside[0], live.member_of(inside[0]), points=1, title="t")
    live.publish("dues_paid", inside[1], live.member_of(inside[1]), amount=10.0, month="2026-01")
    live.publish("like", outside, live.member_of(outside))
    live.publish("notice", inside[0], None, title="not a flash")
    flashes = live.frame_values(scope)["map_flashes"]
    points = [(e[0], e[1]) for e in flashes["e"]]
    kinds = [FLASH_KINDS[e[2]] for e in flashes["e"]]
    assert kinds == ["study", "dues"]
    assert points == [live.places.point(inside[0]), live.places.point(inside[1])]
    assert abs(flashes["t"] - time.time() * 1000) < 60_000


def test_flashes_are_few_and_one_per_point_and_kind(live: Live) -> None:
    scope = Scope(top(live), "full")
    live.frame_values(scope)
    branches = [b for p in ("110000", "440000", "370000", "410000", "510000") for b in live.branches_in(p)]
    for branch in branches:
        for _ in range(3):
            live.publish("login", branch, live.member_of(branch))
    flashes = live.frame_values(scope)["map_flashes"]["e"]
    assert len(flashes) == min(MAX_FLASHES, len({live.places.point(b) for b in branches}))
    assert len({tuple(e) for e in flashes}) == len(flashes)


def test_transfers_fly_inside_the_scope_until_closed(live: Live) -> None:
    a, b = live.branches_in("420000")[:2]
    far = live.branches_in("610000")[0]
    hubei, national = Scope(live.province("420000"), "full"), Scope(top(live), "full")
    code = live.tree.nodes
    live.publish("transfer_requested", a, live.member_of(a), transfer="T-in", from_org=code[a].code, to_org=code[b].code)
    live.publish("transfer_requested", a, live.member_of(a), transfer="T-out", from_org=code[a].code, to_org=code[far].code)
    line_in = [*live.places.point(a), *live.places.point(b), 0]
    line_out = [*live.places.point(a), *live.places.point(far), 0]
    assert live.frame_values(hubei)["map_transfers"] == [line_in]  # one end outside: not drawn
    assert live.frame_values(national)["map_transfers"] == [line_in, line_out]
    public = live.frame_values(Scope(top(live), "public"))["map_transfers"]
    assert public == [[*live.places.region_point("420000"), *live.places.region_point("610000"), 0]]
    live.publish("transfer_completed", b, live.member_of(a), transfer="T-in", from_org=code[a].code, to_org=code[b].code)
    live.publish("transfer_rejected", a, live.member_of(a), transfer="T-out", from_org=code[a].code, to_org=code[far].code)
    assert live.frame_values(national)["map_transfers"] == []


def test_transfer_lines_are_bounded(live: Live) -> None:
    branches = live.branches_in("440000") + live.branches_in("370000")
    pairs = [(x, y) for x in branches for y in branches if x != y][: MAX_TRANSFER_LINES + 10]
    for n, (x, y) in enumerate(pairs):
        live.publish("transfer_requested", x, None, transfer=f"B{n}", from_org=live.tree.nodes[x].code, to_org=live.tree.nodes[y].code)
    lines = live.frame_values(Scope(top(live), "full"))["map_transfers"]
    assert len(lines) <= MAX_TRANSFER_LINES
    for n, (x, y) in enumerate(pairs):
        live.publish("transfer_rejected", x, None, transfer=f"B{n}", from_org=live.tree.nodes[x].code, to_org=live.tree.nodes[y].code)


def test_notices_mark_their_region_for_the_screens_they_reach(live: Live) -> None:
    anhui = live.province("340000")
    live.publish("notice", anhui, None, title="a", level="warning")
    live.publish("notice", live.branches_in("340000")[0], None, title="b", level="urgent")
    live.publish("notice", top(live), None, title="to everyone")  # the top has no region: nothing to mark
    national = live.frame_values(Scope(top(live), "full"))["map_notices"]
    assert ["340000", "urgent"] in national and all(code != "340000" or level == "urgent" for code, level in national)
    assert live.frame_values(Scope(anhui, "public"))["map_notices"] == [["340000", "urgent"]]
    assert live.frame_values(Scope(live.province("350000"), "full"))["map_notices"] == []


def test_public_map_sections_hold_no_member_ids_or_names(live: Live) -> None:
    scope = Scope(top(live), "public")
    live.frame_values(scope)
    for m in live.members[:200]:
        live.publish("study", m.org_id, m.id, points=2, title="t")
    a, b = live.branches_in("450000")[:2]
    live.publish("transfer_requested", a, live.member_of(a), transfer="P1", from_org=live.tree.nodes[a].code, to_org=live.tree.nodes[b].code)
    wire = orjson.dumps(live.frame_values(scope)).decode()
    assert all(m.code not in wire and m.name not in wire for m in live.members)
    assert "P1" not in wire


def test_a_scope_gets_nothing_from_outside_its_subtree(live: Live) -> None:
    henan = live.province("410000")
    scope = Scope(henan, "full")
    live.frame_values(scope)
    everywhere = live.members[::5]
    assert any(live.tree.is_within(m.org_id, henan) for m in everywhere)
    for m in everywhere:
        live.publish("volunteer", m.org_id, m.id, hours=1.0)
    henan_branches = live.branches_in("410000")
    a = henan_branches[0]
    # Branches of one committee share its town (one point on the map): a line needs two places.
    b = next(i for i in henan_branches if live.places.point(i) != live.places.point(a))
    far = live.branches_in("420000")[0]
    for n, (x, y) in enumerate([(a, b), (a, far), (far, b)]):
        live.publish("transfer_requested", x, None, transfer=f"H{n}", from_org=live.tree.nodes[x].code, to_org=live.tree.nodes[y].code)
    values = live.frame_values(scope)
    inside = {live.places.point(i) for i in live.tree.walk(henan)}
    assert set(values["map_regions"]) == {"410000"}
    assert values["map_flashes"]["e"] and all((e[0], e[1]) in inside for e in values["map_flashes"]["e"])
    assert values["map_transfers"] and all((ln[0], ln[1]) in inside and (ln[2], ln[3]) in inside for ln in values["map_transfers"])


def test_drill_down_lists_the_region_organisations_with_their_kpis(live: Live) -> None:
    national = Scope(top(live), "full")
    orgs = drill_down(live.tree, live.aggregator, live.regions, national, "440000")
    guangdong = live.province("440000")
    assert 0 < len(orgs) <= MAX_DRILL_ORGS
    assert all(live.tree.is_within(live.tree.by_code[o.code], guangdong) and o.code != "LX-440000" for o in orgs)
    assert {o.kind for o in orgs} <= {"committee", "general_branch", "branch"} and "branch" in {o.kind for o in orgs}
    assert [o.kpis[1] for o in orgs] == sorted((o.kpis[1] for o in orgs), reverse=True)
    first = orgs[0]
    assert first.kpis[1] == live.aggregator.snapshot(live.tree.by_code[first.code])["members"]
    assert drill_down(live.tree, live.aggregator, live.regions, Scope(live.province("110000"), "full"), "440000") == []


def test_drill_down_within_a_committee_lists_its_own_organisations_only(live: Live) -> None:
    national = Scope(top(live), "full")
    committee = next(o for o in drill_down(live.tree, live.aggregator, live.regions, national, "440000") if o.kind == "committee")
    below = drill_down(live.tree, live.aggregator, live.regions, national, "440000", committee.code)
    committee_id = live.tree.by_code[committee.code]
    assert below and all(live.tree.is_within(live.tree.by_code[o.code], committee_id) and o.code != committee.code for o in below)
    assert drill_down(live.tree, live.aggregator, live.regions, national, "110000", committee.code) == [], "not of that region"
    assert drill_down(live.tree, live.aggregator, live.regions, Scope(live.province("110000"), "full"), "440000", committee.code) == []
    assert drill_down(live.tree, live.aggregator, live.regions, national, "440000", "NO-SUCH-ORG") == []


def test_public_figures_hide_small_counts() -> None:
    few = Totals(members=3, events_today=9, study_points=4, branches=1, three_meetings_branches=1, dues_paid=2)
    assert few.kpis(public=True) == [None] * len(MAP_KPIS)
    assert few.kpis(public=False) == [3.0, 3, 4, 1.0, 0.667]
    assert Totals().kpis(public=True) == [None] * len(MAP_KPIS), "zero is hidden too"


def test_public_figures_follow_the_one_masking_rule() -> None:
    """Members through public_count; the dues rate from the shown counts (the snapshot's rule), never the raw ones."""
    unit = Totals(members=8, events_today=12, study_points=40, branches=2, three_meetings_branches=1, dues_paid=1)
    assert unit.kpis(public=False)[4] == 0.125, "1 of 8: a raw share gives both counts back"
    assert unit.kpis(public=True) == [1.2, 10, 40, 0.5, None]
    region = Totals(members=632, events_today=100, study_points=5, branches=9, three_meetings_branches=3, dues_paid=149)
    snapshot = mask_snapshot({"members": 632, "dues_paid": 149, "dues_rate": 0.2358}, Scope(1, "public"))
    assert region.kpis(public=True) == [0.159, 630, 5, 0.333, snapshot["dues_rate"]] == [0.159, 630, 5, 0.333, 0.24]


def test_after_a_reload_the_sections_read_the_new_state(live: Live) -> None:
    scope = Scope(top(live), "full")
    branch = live.branches_in("210000")[0]
    live.publish("study", branch, live.member_of(branch), points=50, title="t")
    live_points = dict(zip(MAP_KPIS, live.frame_values(scope)["map_regions"]["210000"]))["study_points"]
    assert live_points >= 50
    # The bus events of these tests were never stored: an aggregator rebuilt from the store has none of them.
    rebuilt = Aggregator.rebuild(live.engine, OrgTree.load(live.engine))
    live.map.rebind(rebuilt.tree, rebuilt)
    try:
        assert dict(zip(MAP_KPIS, live.frame_values(scope)["map_regions"]["210000"]))["study_points"] == 0
    finally:
        live.map.rebind(live.tree, live.aggregator)
    assert dict(zip(MAP_KPIS, live.frame_values(scope)["map_regions"]["210000"]))["study_points"] == live_points
