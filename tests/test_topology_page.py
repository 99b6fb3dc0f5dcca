"""The /topology page's view state: what a page may ask for is bounded by its scope."""

from __future__ import annotations

from pathlib import Path

import pytest

from callbacks.topology import analysis_boxes, path_to, spec_data, spec_from
from dashboard.demo.seed import seed_demo
from dashboard.live.aggregator import Aggregator
from dashboard.store.engine import open_store
from dashboard.store.tree import OrgTree
from dashboard.topology.service import Topology


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Topology:
    path: Path = tmp_path_factory.mktemp("page") / "page.db"
    engine = open_store(f"sqlite:///{path}")
    seed_demo(engine, members=1500, seed=5)
    tree = OrgTree.load(engine)
    topology = Topology(engine, tree, Aggregator(tree))
    topology.analyse()
    return topology


def test_codes_outside_the_scope_are_dropped(topology: Topology) -> None:
    tree, index = topology.tree, topology.index
    first, second = tree.children[tree.root_id][:2]
    scope = index.pre_of(first)
    inside = max(tree.walk(first))
    outside = max(tree.walk(second))
    data = {
        "focus": tree.nodes[outside].code,
        "opened": [tree.nodes[inside].code, tree.nodes[outside].code, "NO-SUCH-CODE", 7],
        "folded": [tree.root.code],
        "target": tree.nodes[outside].code,
    }
    spec, target = spec_from(topology, scope, data)
    assert spec.scope == spec.focus == scope, "a focus outside the scope falls back to the scope's top"
    assert spec.opened == (index.pre_of(inside),) and spec.folded == ()
    assert target is None
    assert spec_from(topology, scope, spec_data(topology, spec, index.pre_of(inside))) == (spec, index.pre_of(inside))


def test_the_breadcrumb_starts_at_the_scope(topology: Topology) -> None:
    tree, index = topology.tree, topology.index
    province = tree.children[tree.root_id][0]
    deep = max(tree.walk(province), key=lambda i: tree.nodes[i].level)
    crumbs = path_to(topology, index.pre_of(province), index.pre_of(deep))
    assert crumbs[0] == (tree.nodes[province].code, tree.nodes[province].name)
    assert crumbs[-1][0] == tree.nodes[deep].code and len(crumbs) == tree.nodes[deep].level


def test_rankings_name_only_organisations_of_the_scope(topology: Topology) -> None:
    tree, index = topology.tree, topology.index
    listed = 0
    for province in tree.children[tree.root_id]:
        start = index.pre_of(province)
        codes = {tree.nodes[i].code for i in tree.walk(province)}
        boxes = analysis_boxes(topology, start, "zh", False)
        shown = [
            button.id["code"]
            for box in boxes[:3]
            if hasattr(box.children[1], "children") and isinstance(box.children[1].children, list)
            for item in box.children[1].children
            for button in [item.children]
        ]
        assert set(shown) <= codes
        listed += len(shown)
    assert listed > 0, "some province has something to rank"

