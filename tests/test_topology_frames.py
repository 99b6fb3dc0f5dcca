"""Health colours and pulses: the aggregator's table, the health classes, and the two frame sections."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import numpy as np
import pytest

from callbacks.topology import RANKED_ROWS, analysis_boxes
from dashboard.access.scopes import Scope
from dashboard.demo.seed import seed_demo
from dashboard.domain.events import StoredEvent
from dashboard.live.aggregator import SHANGHAI, Aggregator
from dashboard.store.engine import open_store
from dashboard.store.tree import OrgTree
from dashboard.topology.frames import HealthSection, PulseSection
from dashboard.topology.health import UNKNOWN, compute_health, health_word, pack_levels, public_table, unpack_levels
from dashboard.topology.service import Topology
from layouts.i18n import fmt_percent, t

NOW = dt.datetime(2026, 3, 18, 10, 30, tzinfo=SHANGHAI).timestamp()


def _events(tree: OrgTree, members: list[tuple[int, int]], n: int, seed: int) -> list[StoredEvent]:
    rng = random.Random(seed)
    branches = [i for i, node in tree.nodes.items() if node.kind == "branch"]
    out = []
    for k in range(n):
        member, org = rng.choice(members)
        ts = int((NOW - rng.random() * 3600) * 1000)
        kind = rng.choice(["study", "dues_paid", "meeting_held", "login"])
        if kind == "meeting_held":
            data = {"kind": rng.choice(["branch_committee", "group", "branch_general", "party_lecture"])}
            out.append(StoredEvent(k + 1, f"e{k}", kind, ts, rng.choice(branches), None, data))
            continue
        data = {"points": 3} if kind == "study" else {"month": "2026-03"} if kind == "dues_paid" else {}
        out.append(StoredEvent(k + 1, f"e{k}", kind, ts, org, member, data))
    return out


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> tuple[Topology, Aggregator, list[StoredEvent]]:
    path: Path = tmp_path_factory.mktemp("frames") / "frames.db"
    engine = open_store(f"sqlite:///{path}")
    seed_demo(engine, members=2000, seed=7)
    tree = OrgTree.load(engine)
    aggregator = Aggregator.rebuild(engine, tree, clock=lambda: NOW)
    with engine.connect() as conn:
        members = [tuple(r) for r in conn.exec_driver_sql("SELECT id, org_id FROM members WHERE stage IN ('full', 'probationary')").all()]
    events = _events(tree, members, 3000, seed=1)
    aggregator.apply(events)
    return Topology(engine, tree, aggregator, health_period_s=3600), aggregator, events


def test_the_table_agrees_with_every_snapshot(live: tuple[Topology, Aggregator, list[StoredEvent]]) -> None:
    topology, aggregator, _ = live
    table = aggregator.table()
    for row, org_id in enumerate(table["org_id"].tolist()):
        snap = aggregator.snapshot(org_id)
        assert table["members"][row] == snap["members"]
        assert table["branches"][row] == snap["branches"]
        assert table["three_meetings_branches"][row] == snap["meetings"]["three_meetings_branches"]
        assert table["dues_paid"][row] == snap["dues_paid"]
        assert table["active_today"][row] == snap["active_today"]
        assert table["events_today"][row] == snap["events_today"]
        assert [table[k][row] for k in ("few_members", "no_secretary", "no_meeting")] == list(snap["rule_breaks"].values())
        assert table["transfers_overdue"][row] == snap["transfers"]["overdue"]
    assert table["dues_paid"].max() > 0 and table["active_today"].max() > 0


def test_health_is_the_mean_of_what_applies(live: tuple[Topology, Aggregator, list[StoredEvent]]) -> None:
    topology, aggregator, _ = live
    health = compute_health(topology.index, aggregator.table(), now=0.0)
    for p in random.Random(3).sample(range(len(topology.index)), 60):
        snap = aggregator.snapshot(int(topology.index.ids[p]))
        meetings = snap["meetings"]["three_meetings_completion"]
        dues = snap["dues_rate"]
        assert health.components["dues"][p] == pytest.approx(dues if dues is not None else np.nan, abs=1e-4, nan_ok=True)
        assert health.components["meetings"][p] == pytest.approx(meetings if meetings is not None else np.nan, abs=1e-4, nan_ok=True)
        # what the card shows: the real share active today and the open alerts as a count
        members = snap["members"]
        assert health.active_share[p] == pytest.approx(snap["active_today"] / members if members else np.nan, abs=1e-9, nan_ok=True)
        assert health.breaks[p] == sum(snap["rule_breaks"].values()) + snap["transfers"]["overdue"]
        parts = [v for v in (health.components[c][p] for c in ("meetings", "dues", "activity", "alerts")) if np.isfinite(v)]
        if not parts:
            assert health.level[p] == UNKNOWN
            continue
        score = sum(parts) / len(parts)
        assert health.level[p] == min(10, 1 + int(score * 10))
        assert health_word(int(health.level[p])) == ("good" if score >= 0.8 else "fair" if score >= 0.5 else "poor")
    assert health.components["activity"][0] == pytest.approx(1.0), "the whole tree is as active as itself"


def test_levels_survive_packing() -> None:
    levels = np.array([random.Random(n).randrange(11) for n in range(1001)], dtype=np.uint8)
    assert unpack_levels(pack_levels(levels), len(levels)).tolist() == levels.tolist()
    assert len(pack_levels(levels)) == 4 * -(-501 // 3), "two levels a byte, base64"


def test_health_section_sends_the_scope_and_only_the_scope(live: tuple[Topology, Aggregator, list[StoredEvent]]) -> None:
    topology, _, _ = live
    section = HealthSection(topology)
    tree = topology.tree
    province = tree.children[tree.root_id][3]
    start = topology.index.pre_of(province)
    value = section.compute(Scope(province, "public"), set(), ())
    health = topology.health.current(public=True)
    assert value["n"] == int(topology.index.end[start]) - start == sum(1 for _ in tree.walk(province))
    assert unpack_levels(value["b"], value["n"]).tolist() == health.level[start : topology.index.end[start]].tolist()
    assert section.compute(Scope(province, "public"), set(), ()) == value
    full = section.compute(Scope(province, "full"), set(), ())
    assert unpack_levels(full["b"], full["n"]).tolist() == topology.health.current().level[start : topology.index.end[start]].tolist()


def test_public_health_is_computed_from_the_shown_counts_only(live: tuple[Topology, Aggregator, list[StoredEvent]]) -> None:
    """Two tables that the public level shows alike give the same public health, to the last colour."""
    topology, aggregator, _ = live
    table = aggregator.table()
    public = compute_health(topology.index, public_table(table), NOW, public=True)
    nudged = {k: v.copy() for k, v in table.items()}
    small = (table["members"] >= 6) & (table["members"] <= 13)  # 6 → 7 and 13 → 14 round alike (10)
    assert small.any(), "the sample has organisations of 6 to 13 members"
    nudged["members"][small] += 1
    nudged["active_today"] = np.where(nudged["active_today"] < 4, nudged["active_today"] ^ 1, nudged["active_today"])
    again = compute_health(topology.index, public_table(nudged), NOW, public=True)
    assert np.array_equal(public.level, again.level) and np.array_equal(public.members, again.members)
    assert np.array_equal(public.active_share, again.active_share, equal_nan=True)
    assert set(np.unique(public.members).tolist()) <= {0} | set(range(10, 10**7, 10))
    hidden_active = public_table(table)["active_today"] == 0
    assert np.isnan(public.active_share[topology.index.pre(table["org_id"][hidden_active])]).all(), "hidden, not 0 %"
    full = compute_health(topology.index, table, NOW)
    assert not np.array_equal(full.members, public.members), "the full level's counts are the raw ones"


def test_pulses_name_active_organisations_within_the_scope(live: tuple[Topology, Aggregator, list[StoredEvent]]) -> None:
    topology, _, events = live
    section = PulseSection(topology)
    tree, index = topology.tree, topology.index
    province = tree.children[tree.root_id][0]
    start = index.pre_of(province)
    batch = events[:400] + [StoredEvent(99_999, "n", "notice", events[0].ts_ms, province, None, {"title": "x"})]
    value = section.compute(Scope(province, "full"), set(), batch)
    inside = [ev for ev in events[:400] if tree.is_within(ev.org_id, province)]
    assert inside, "the sample has events in the province"
    expected: dict[int, int] = {}
    for ev in inside:
        rel = index.pre_of(ev.org_id) - start
        expected[rel] = expected.get(rel, 0) + 1
    assert dict(zip(value["o"], value["c"])) == expected
    assert value["s"] == max(ev.seq for ev in inside)
    whole = section.compute(Scope(tree.root_id, "public"), set(), batch)
    assert sum(whole["c"]) == 400, "the notice is not activity"
    assert section.compute(Scope(province, "full"), set(), ()) is None
    elsewhere = [ev for ev in events if not tree.is_within(ev.org_id, province)][:5]
    assert section.compute(Scope(province, "full"), set(), elsewhere) is None


def _texts(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    children = getattr(node, "children", None)
    return [text for c in (children if isinstance(children, list) else [children]) if c is not None for text in _texts(c)]


def test_public_isolated_shares_come_from_the_shown_counts(live: tuple[Topology, Aggregator, list[StoredEvent]]) -> None:
    topology = live[0]
    """At the public level an isolated branch's "active today" is the public health's share, never the raw one."""
    report = topology.analyse()
    root = topology.scope_pre(topology.tree.root_id)
    ranked = report.isolated.within(root, int(topology.index.end[root]), RANKED_ROWS)
    assert ranked, "some branch is isolated"
    public = topology.health.current(public=True).active_share
    expected = {t("topo.isolated.value", "en").format(p=fmt_percent(None if np.isnan(public[p]) else float(public[p]))) for p, _ in ranked}
    shown = {text for text in _texts(analysis_boxes(topology, root, "en", True)[0]) if text.endswith("active today")}
    assert shown and shown <= expected
