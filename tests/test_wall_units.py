"""The ``units`` frame section (the wall's spotlight, the tablet's cards) on a seeded store and the real bus."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from dashboard.access.scopes import PUBLIC_MIN_COUNT, Scope
from dashboard.demo.seed import seed_demo
from dashboard.domain.events import StoredEvent
from dashboard.live.aggregator import Aggregator
from dashboard.live.bus import InProcessBus
from dashboard.live.publisher import FramePublisher
from dashboard.store.engine import open_store
from dashboard.store.names import MemberDirectory
from dashboard.store.tree import OrgTree
from dashboard.wall.units import MAX_UNITS, UNIT_FIELDS, UnitsSection, unit_codes, unit_row


class Live:
    def __init__(self, db: Path) -> None:
        self.engine = open_store(f"sqlite:///{db}")
        seed_demo(self.engine, members=2000, seed=5)
        self.tree = OrgTree.load(self.engine)
        self.aggregator = Aggregator.rebuild(self.engine, self.tree)
        self.bus = InProcessBus()
        self.bus.subscribe(self.aggregator.apply)
        self.publisher = FramePublisher(self.tree, self.aggregator, self.bus, MemberDirectory(self.engine))
        self.section = UnitsSection(lambda: (self.tree, self.aggregator))
        self.publisher.sections.append(self.section)
        self._seq = itertools.count(1)
        with self.engine.connect() as conn:
            self.members = conn.execute(text("SELECT id, org_id FROM members WHERE stage = 'full' ORDER BY id")).all()

    def publish(self, event_type: str, org_id: int, member: int | None = None, **data: object) -> None:
        seq = next(self._seq)
        self.bus.publish([StoredEvent(seq, f"u{seq}", event_type, int(time.time() * 1000), org_id, member, dict(data))])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Live:
    return Live(tmp_path_factory.mktemp("units") / "units.db")


def root(live: Live) -> int:
    assert live.tree.root_id is not None
    return live.tree.root_id


def test_rows_are_the_snapshot_figures_of_each_child_in_code_order(live: Live) -> None:
    scope = Scope(root(live), "full")
    rows = live.section.compute(scope, set(), ())
    kids = sorted(live.tree.nodes[c].code for c in live.tree.children[root(live)])
    assert list(rows) == kids[:MAX_UNITS] == unit_codes(live.tree, root(live))
    code = kids[0]
    snap = live.aggregator.snapshot(live.tree.by_code[code])
    row = dict(zip(UNIT_FIELDS, rows[code]))
    assert row["members"] == snap["members"] and row["events_today"] == snap["events_today"]
    assert row["three_meetings"] == snap["meetings"]["three_meetings_completion"]
    assert row["no_meeting"] == snap["rule_breaks"]["no_meeting"] and row["transfers_overdue"] == snap["transfers"]["overdue"]


def test_public_level_hides_small_counts_of_people_only(live: Live) -> None:
    small = next(
        o for o in live.tree.nodes.values()
        if 0 < live.aggregator.snapshot(o.id)["members"] < PUBLIC_MIN_COUNT and o.parent_id is not None
    )
    parent = small.parent_id
    assert parent is not None
    full = live.section.compute(Scope(parent, "full"), set(), ())[small.code]
    public = live.section.compute(Scope(parent, "public"), set(), ())[small.code]
    assert full[UNIT_FIELDS.index("members")] == live.aggregator.snapshot(small.id)["members"]
    assert public[UNIT_FIELDS.index("members")] is None
    for name in ("events_today", "branches", "three_meetings", "no_meeting"):
        assert public[UNIT_FIELDS.index(name)] == full[UNIT_FIELDS.index(name)], name
    for rows in (live.section.compute(Scope(root(live), "public"), set(), ()),):
        for row in rows.values():
            for name in ("members", "active_today"):
                value = row[UNIT_FIELDS.index(name)]
                assert value is None or value == 0 or value >= PUBLIC_MIN_COUNT


def test_nothing_recomputed_when_no_unit_of_the_scope_changed(live: Live) -> None:
    top = root(live)
    kid = live.tree.children[top][0]
    other = next(n for n in live.tree.nodes.values() if n.id not in live.tree.ancestors[kid] and not live.tree.is_within(n.id, kid))
    assert live.section.compute(Scope(kid, "full"), {other.id}, ()) is None
    assert live.section.compute(Scope(top, "full"), {top, kid}, ()) is not None


def test_an_event_in_a_unit_reaches_its_row_in_the_next_frame(live: Live) -> None:
    top = root(live)
    scope = Scope(top, "public")
    channel = live.publisher.attach(scope)
    try:
        live.publisher.tick()
        seq = channel.seq
        member = next(m for m in live.members if m.org_id != top)
        unit = next(a for a in live.tree.ancestors[member.org_id] if live.tree.nodes[a].parent_id == top)
        code = live.tree.nodes[unit].code
        before = channel.values["units"][code][UNIT_FIELDS.index("events_today")]
        live.publish("study", member.org_id, member.id, points=3, title="t")
        live.publisher.tick()
        frame = channel.frame_after(seq, 0)
        assert frame["kpi"]["units"][code][UNIT_FIELDS.index("events_today")] == before + 1
    finally:
        live.publisher.detach(channel)


def test_unit_row_reads_every_field_of_a_snapshot(live: Live) -> None:
    row = unit_row(live.aggregator.snapshot(root(live)), Scope(root(live), "full"))
    assert len(row) == len(UNIT_FIELDS) and all(isinstance(v, (int, float)) for v in row)
