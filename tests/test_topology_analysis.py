"""Graph analysis and the cross-link loader: hand-made graphs, brute force, and a real seeded store."""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from sqlalchemy import text

from dashboard.demo.seed import seed_demo
from dashboard.live.aggregator import Aggregator
from dashboard.store.engine import open_store
from dashboard.store.tree import OrgTree
from dashboard.topology.analysis import analyse_links, isolated_branches, separations
from dashboard.topology.health import compute_health
from dashboard.topology.links import CrossLinks, MemberGroupLink, load_cross_links
from dashboard.topology.radial import TreeIndex
from dashboard.topology.service import Topology
from tests.topology_helpers import tree_from_parents


def _org_count(nodes: set[object]) -> int:
    return sum(1 for v in nodes if not isinstance(v, tuple))


@pytest.mark.parametrize("seed", range(6))
def test_separations_match_removing_each_organisation(seed: int) -> None:
    rng = random.Random(seed)
    graph = nx.Graph()
    orgs = list(range(60))
    for _ in range(45):
        graph.add_edge(*rng.sample(orgs, 2))
    for g in range(8):
        graph.add_edges_from((("g", g), v) for v in rng.sample(orgs, rng.randint(2, 5)))
    found = separations(graph)
    for v in [v for v in nx.articulation_points(graph) if not isinstance(v, tuple)]:
        component = nx.node_connected_component(graph, v)
        rest = graph.subgraph(component - {v})
        largest = max(_org_count(c) for c in nx.connected_components(rest))
        assert found[v] == _org_count(component) - 1 - largest, v
    assert set(found) == {v for v in nx.articulation_points(graph) if not isinstance(v, tuple)}


# 1 ─┬─ 2 (branch) ── 3 (group)
#    ├─ 4 (branch)
#    ├─ 5 (branch)
#    ├─ 6 (branch)
#    └─ 7 (branch) ── 8 (group)
PARENTS = {1: None, 2: 1, 3: 2, 4: 1, 5: 1, 6: 1, 7: 1, 8: 7}
KINDS = {2: "branch", 4: "branch", 5: "branch", 6: "branch", 7: "branch", 3: "group", 8: "group"}


def _links(pairs: list[tuple[int, int]], groups: list[tuple[int, ...]]) -> CrossLinks:
    return CrossLinks(
        np.array(pairs, dtype=np.int64).reshape(-1, 2),
        tuple(MemberGroupLink(k + 1, f"G{k + 1}", f"小组{k + 1}", g) for k, g in enumerate(groups)),
        (0,),
    )


def test_bridges_and_connected_organisations_in_a_small_network() -> None:
    index = TreeIndex.build(tree_from_parents(PARENTS, KINDS))
    pre = {int(i): p for p, i in enumerate(index.ids.tolist())}
    # 3 — 4 — 5, and a group joining 5, 6 and 8: 4 and 5 hold the network together
    analysis = analyse_links(index, _links([(3, 4), (4, 5)], [(5, 6, 8)]))
    bridges = dict(zip(analysis.bridges.pre.tolist(), analysis.bridges.value.tolist()))
    assert bridges == {pre[5]: 2, pre[4]: 1}, "removing 5 cuts 3 and 4 off; removing 4 cuts 3 off"
    connected = dict(zip(analysis.connected.pre.tolist(), analysis.connected.value.tolist()))
    assert connected[pre[5]] == 3 and connected[pre[6]] == 2 and connected[pre[3]] == 1
    assert analysis.connected.pre[0] == pre[5]
    assert analysis.linked_orgs == 5 and analysis.components == 1 and analysis.largest_component == 5


def test_isolated_branches_have_no_link_in_their_subtree_and_little_activity() -> None:
    tree = tree_from_parents(PARENTS, KINDS)
    index = TreeIndex.build(tree)
    pre = {int(i): p for p, i in enumerate(index.ids.tolist())}
    links = _links([(3, 4)], [])  # branch 2 linked through its group 3, branch 4 directly
    analysis = analyse_links(index, links)
    table = {  # by organisation id 1..8; subtree totals
        "org_id": np.arange(1, 9),
        "members": np.array([130, 10, 10, 10, 20, 40, 10, 10]),
        "active_today": np.array([20, 5, 5, 5, 0, 0, 10, 10]),
    }
    zeros = np.zeros(8, dtype=np.int64)
    for key in ("branches", "three_meetings_branches", "dues_paid", "events_today", "few_members", "no_secretary", "no_meeting", "transfers_overdue"):
        table[key] = zeros
    health = compute_health(index, table, now=0.0)
    is_branch = np.array([tree.nodes[i].kind == "branch" for i in index.ids.tolist()])
    ranking = isolated_branches(index, is_branch, analysis.linked, health)
    # 5 (20 members) and 6 (40) are idle; 7 is busier than the median branch; 2 and 4 have links
    assert ranking.pre.tolist() == [pre[6], pre[5]]
    assert ranking.value.tolist() == [0.0, 0.0]
    assert ranking.within(pre[5], pre[5] + 1, 10) == [(pre[5], 0.0)]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("topo") / "seeded.db"
    seed_demo(open_store(f"sqlite:///{path}"), members=3000, seed=4)
    return path


def test_loader_reads_every_stored_link(seeded: Path) -> None:
    engine = open_store(f"sqlite:///{seeded}")
    tree = OrgTree.load(engine)
    links = load_cross_links(engine, tree)
    with engine.connect() as conn:
        stored_pairs = conn.execute(text("SELECT count(*) FROM org_links")).scalar_one()
        groups = conn.execute(text("SELECT count(*) FROM member_groups")).scalar_one()
        member_orgs = conn.execute(
            text("SELECT count(DISTINCT g.group_id || '-' || m.org_id) FROM member_group_members g JOIN members m ON m.id = g.member_id")
        ).scalar_one()
    assert len(links.partnerships) == stored_pairs > 0
    assert len(links.groups) == groups > 0
    assert links.group_memberships == member_orgs
    assert links.problems == ()


def _copy(source: Path, target: Path) -> Path:
    """A consistent copy of a WAL database (its pages may still be in the WAL file)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


def _corrupt(path: Path, statements: list[str]) -> None:
    engine = open_store(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        for sql in statements:
            conn.exec_driver_sql(sql)
        conn.commit()
    engine.dispose()


def test_a_corrupted_store_is_reported_by_name_and_still_analysed(seeded: Path, tmp_path: Path) -> None:
    path = _copy(seeded, tmp_path / "corrupt.db")
    engine = open_store(f"sqlite:///{path}")
    tree = OrgTree.load(engine)
    deep = max(tree.nodes.values(), key=lambda n: (n.level, n.id))
    parent = tree.nodes[deep.parent_id]
    grand = tree.nodes[parent.parent_id]
    engine.dispose()
    _corrupt(path, [
        f"UPDATE organisations SET parent_id = {deep.id} WHERE id = {parent.id}",  # parent ↔ child: a cycle
        "INSERT INTO organisations (id, code, name, kind, parent_id, level, path) VALUES (999999, 'ORPHAN-1', '失联支部', 'branch', 888888, 3, '/888888/999999/')",
        f"INSERT INTO org_links (a_id, b_id, kind) VALUES ({grand.id}, 999999, 'partnership')",
    ])
    engine = open_store(f"sqlite:///{path}")
    tree = OrgTree.load(engine)
    topology = Topology(engine, tree, Aggregator(tree))
    problems = "\n".join(topology.problems)
    assert f"organisation {parent.code} ({parent.name}) is not reachable from the top: it is in a cycle" in problems
    assert "organisation ORPHAN-1 (失联支部) is not reachable from the top: its parent is missing" in problems
    assert f"partnership {grand.code}–ORPHAN-1: ORPHAN-1 not in the tree; not drawn" in problems
    report = topology.analyse()
    assert report.links.linked_orgs > 0
    assert topology.picture(topology.default_spec(tree.root_id), public=True).size > 1


def test_links_are_read_again_when_they_change(seeded: Path, tmp_path: Path) -> None:
    path = _copy(seeded, tmp_path / "links.db")
    engine = open_store(f"sqlite:///{path}")
    tree = OrgTree.load(engine)
    topology = Topology(engine, tree, Aggregator(tree))
    before = topology.analyse()
    assert not topology.reload_links_if_changed()
    leaves = sorted(i for i in tree.nodes if not tree.children[i])
    a, b = leaves[0], leaves[-1]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO org_links (a_id, b_id, kind) VALUES (:a, :b, 'partnership')"), {"a": a, "b": b})
    assert topology.reload_links_if_changed()
    after = topology.analyse()
    assert after.signature != before.signature
    assert after.links.linked[topology.index.pre_of(a)] and after.links.linked[topology.index.pre_of(b)]


def test_a_reloaded_tree_replaces_everything_derived_from_the_old_one(seeded: Path, tmp_path: Path) -> None:
    path = _copy(seeded, tmp_path / "reload.db")
    engine = open_store(f"sqlite:///{path}")
    tree = OrgTree.load(engine)
    topology = Topology(engine, tree, Aggregator(tree))
    topology.analyse()
    old_view = topology.view(topology.default_spec(tree.root_id))
    leaf = max(i for i in tree.nodes if not tree.children[i])
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO organisations (id, code, name, kind, parent_id, level, path) VALUES (:i, 'NEW-1', '新建党小组', 'group', :p, :l, '/')"),
            {"i": leaf + 1000, "p": leaf, "l": tree.nodes[leaf].level + 1},
        )
    reloaded = OrgTree.load(engine)
    topology.rebind(reloaded, Aggregator(reloaded))
    assert topology.report is None, "the old report named the old tree's positions"
    assert len(topology.index) == len(tree) + 1
    assert topology.find("NEW-1", 0) == [topology.index.pre_of(leaf + 1000)]
    assert topology.view(topology.default_spec(reloaded.root_id)) is not old_view
    assert topology.analyse().links.linked.shape == (len(tree) + 1,)


def test_a_deferred_start_analyses_only_once_begun(seeded: Path, tmp_path: Path) -> None:
    """A server starts the topology deferred (the analysis would only slow its start), and begins it once serving."""
    path = _copy(seeded, tmp_path / "deferred.db")
    engine = open_store(f"sqlite:///{path}")
    tree = OrgTree.load(engine)
    topology = Topology.start(engine, tree, Aggregator(tree), deferred=True)
    try:
        assert topology.report is None and topology._thread.is_alive()
        topology.begin()
        deadline = time.monotonic() + 60
        while topology.report is None:
            assert time.monotonic() < deadline, "the analysis did not run once begun"
            time.sleep(0.05)
        assert topology.report.links.linked_orgs > 0
    finally:
        topology.close()
    assert not topology._thread.is_alive()
