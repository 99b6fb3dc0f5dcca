"""The tree index, the radial layout and the level of detail, on trees small enough to check by hand."""

from __future__ import annotations

import random

import numpy as np
import pytest

from dashboard.topology.lod import Detail, ViewSpec, holders
from dashboard.topology.radial import TreeIndex, full_layout, radial_layout
from tests.topology_helpers import random_parents, tree_from_parents

# 1 ─┬─ 2 ─┬─ 4
#    │     └─ 5 ── 8
#    ├─ 3 ── 6
#    └─ 7
SMALL = {1: None, 2: 1, 3: 1, 4: 2, 5: 2, 6: 3, 7: 1, 8: 5}


def test_index_numbers_subtrees_as_contiguous_ranges() -> None:
    tree = tree_from_parents(random_parents(500, seed=3))
    index = TreeIndex.build(tree)
    for p in range(len(index)):
        org = int(index.ids[p])
        subtree = set(tree.walk(org))
        assert set(index.ids[p : index.end[p]].tolist()) == subtree
        assert index.depth[p] == len(tree.ancestors[org]) - 1
        if p:
            assert int(index.ids[index.parent[p]]) == tree.nodes[org].parent_id


def test_index_looks_up_ids_and_answers_minus_one_for_strangers() -> None:
    index = TreeIndex.build(tree_from_parents(SMALL))
    assert index.ids.tolist() == [1, 2, 4, 5, 8, 3, 6, 7]
    assert index.pre(np.array([8, 7, 99, -1])).tolist() == [4, 7, -1, -1]
    assert list(index.children(0)) == [1, 5, 7]
    assert index.chain(4) == [0, 1, 3, 4]


def test_layout_puts_levels_on_rings_and_subtrees_in_their_parents_wedge() -> None:
    index = TreeIndex.build(tree_from_parents(random_parents(300, seed=5)))
    pos = full_layout(index)
    assert (pos.x[0], pos.y[0]) == (0.0, 0.0)
    assert np.allclose(np.hypot(pos.x, pos.y), index.depth)
    for i in range(1, len(index)):
        inside = slice(i + 1, pos.drawn_end[i])
        if pos.drawn_end[i] > i + 1:
            assert pos.angle[inside].min() <= pos.angle[i] <= pos.angle[inside].max()
    leaves = pos.drawn_end == np.arange(1, len(index) + 1)
    assert np.all(np.diff(pos.angle[leaves]) > 0), "every leaf has its own angle, in preorder"


def test_layout_is_a_pure_function_of_the_drawn_set() -> None:
    index = TreeIndex.build(tree_from_parents(random_parents(400, seed=8)))
    drawn = np.array([p for p in range(len(index)) if index.depth[p] <= 2])
    a, b = radial_layout(index, drawn), radial_layout(index, drawn[::-1].copy())
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)


def test_siblings_sit_closer_than_cousins() -> None:
    index = TreeIndex.build(tree_from_parents(SMALL))
    pos = full_layout(index)
    leaf_angle = dict(zip(index.ids.tolist(), pos.angle.tolist()))
    siblings = leaf_angle[7] - leaf_angle[6]  # children of different parents (3 and 1) — cousins' gap
    assert leaf_angle[8] - leaf_angle[4] == pytest.approx(siblings)  # 4 and 8 hang from 2 and 5: cousins
    assert leaf_angle[6] - leaf_angle[8] == pytest.approx(siblings)


def test_holders_find_the_deepest_drawn_organisation() -> None:
    index = TreeIndex.build(tree_from_parents(SMALL))
    drawn = np.array([0, 1, 5, 7])  # 1, 2, 3, 7: 2 and 3 folded
    pos = radial_layout(index, drawn)
    found = holders(index, pos.pre, pos.drawn_parent, np.arange(len(index)))
    assert [int(pos.pre[h]) for h in found] == [0, 1, 1, 1, 1, 5, 5, 7]
    assert holders(index, pos.pre[1:2], np.array([-1]), np.array([0, 5])).tolist() == [-1, -1]


def test_auto_depth_opens_whole_levels_within_the_budget() -> None:
    index = TreeIndex.build(tree_from_parents(random_parents(2000, seed=2, fan_out=8)))
    per_level = np.bincount(index.depth)
    detail = Detail(index, max_drawn=500, auto_budget=100)
    k = detail.auto_depth(0)
    assert per_level[: k + 1].sum() <= 100 < per_level[: k + 2].sum()
    assert len(detail.drawn(ViewSpec(0, 0))) == per_level[: k + 1].sum()


def test_click_opens_and_folds_and_the_centre_steps_out() -> None:
    index = TreeIndex.build(tree_from_parents(SMALL))
    detail = Detail(index, max_drawn=100, auto_budget=4)  # shows 1 and its children
    spec = ViewSpec(0, 0)
    assert detail.drawn(spec).tolist() == [0, 1, 5, 7]
    opened = detail.toggle(spec, 1)
    assert sorted(detail.drawn(opened).tolist()) == [0, 1, 2, 3, 5, 7]
    assert detail.toggle(opened, 1) == ViewSpec(0, 0)
    folded_centre_child = detail.toggle(spec, 5)
    assert sorted(detail.drawn(folded_centre_child).tolist()) == [0, 1, 5, 6, 7]
    focused = detail.refocus(spec, 1)
    assert sorted(detail.drawn(focused).tolist()) == [1, 2, 3, 4], "its whole subtree fits the budget"
    assert detail.toggle(focused, 1).focus == 0
    assert detail.toggle(spec, 0) == spec, "the top of the scope has nowhere to step out to"
    assert detail.toggle(spec, 7) == spec, "a leaf has nothing to open"


def test_reveal_opens_the_path_to_a_deep_organisation() -> None:
    index = TreeIndex.build(tree_from_parents(SMALL))
    detail = Detail(index, max_drawn=100, auto_budget=4, reveal_min_size=3)
    near = detail.reveal(ViewSpec(0, 0), 3)  # organisation 5, two levels down: seen from the top
    assert near.focus == 0 and {0, 1, 3} <= set(detail.drawn(near).tolist())
    far = detail.reveal(ViewSpec(0, 0), 4)  # organisation 8, three levels down: seen from 2, two levels up
    assert far.focus == 1 and {1, 3, 4} <= set(detail.drawn(far).tolist())
    elsewhere = detail.reveal(detail.refocus(ViewSpec(0, 0), 5), 3)
    assert elsewhere.focus == 0, "a target outside the focus brings the view back to the top"
    lopsided = Detail(index, max_drawn=100, auto_budget=4, reveal_min_size=5).reveal(ViewSpec(0, 0), 4)
    assert lopsided.focus == 0, "2 holds only 4 organisations: too small a centre"


def test_no_sequence_of_clicks_draws_more_than_the_maximum() -> None:
    index = TreeIndex.build(tree_from_parents(random_parents(6000, seed=11, fan_out=12)))
    detail = Detail(index, max_drawn=300, auto_budget=60)
    rng = random.Random(4)
    spec = ViewSpec(0, 0)
    for _ in range(300):
        drawn = detail.drawn(spec)
        assert len(drawn) <= 300
        action = rng.random()
        if action < 0.1:
            spec = detail.reveal(spec, rng.randrange(len(index)))
        else:
            spec = detail.toggle(spec, int(rng.choice(drawn)))
        assert len(set(detail.drawn(spec).tolist())) == len(detail.drawn(spec))
