"""Tablet navigation on the organisation tree: any branch within three taps of the top; dates and counts per language."""

from __future__ import annotations

import pytest

from callbacks.tablet import org_href, tap_targets
from dashboard.demo.seed import seed_demo
from dashboard.store.engine import open_store
from dashboard.store.tree import OrgTree
from layouts.i18n import fmt_count, fmt_date


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> OrgTree:
    engine = open_store(f"sqlite:///{tmp_path_factory.mktemp('taps') / 'taps.db'}")
    seed_demo(engine, members=20_000, seed=7)
    return OrgTree.load(engine)


def within_taps(tree: OrgTree, start: int, viewer_root: int, taps: int) -> dict[int, int]:
    """Every organisation reachable from ``start``'s page, with the fewest taps it takes."""
    best = {start: 0}
    frontier = [start]
    for tap in range(1, taps + 1):
        following = []
        for org in frontier:
            for target in tap_targets(tree, org, viewer_root):
                if target not in best:
                    best[target] = tap
                    following.append(target)
        frontier = following
    return best


def test_every_branch_and_group_is_within_three_taps_of_the_top(tree: OrgTree) -> None:
    assert tree.root_id is not None
    depth = max(n.level for n in tree.nodes.values())
    assert depth >= 4, "the demo tree is deep enough for this to mean something"
    reached = within_taps(tree, tree.root_id, tree.root_id, 3)
    missing = [n.code for n in tree.nodes.values() if n.id not in reached]
    assert missing == []
    assert max(reached.values()) == 3


def test_a_viewer_below_the_top_is_three_taps_from_everything_they_may_see_and_nothing_else(tree: OrgTree) -> None:
    assert tree.root_id is not None
    province = tree.children[tree.root_id][3]
    reached = within_taps(tree, province, province, 3)
    assert set(reached) == set(tree.walk(province))


def test_links_keep_language_token_and_mode_and_escape_codes() -> None:
    assert org_href("LX-110000", {}) == "/org/LX-110000"
    assert org_href("A/B C", {"lang": "en", "token": "t k"}, page=2) == "/org/A%2FB%20C?lang=en&token=t+k&page=2"


def test_counts_and_dates_per_language() -> None:
    assert fmt_count(1_234_567, "zh") == "123.5万" and fmt_count(1_234_567, "en") == "1,234,567"
    assert fmt_count(250_000_000, "zh") == "2.50亿" and fmt_count(99_999, "zh") == "99,999"
    assert fmt_date("2021-07-01", "zh") == "2021年7月1日" and fmt_date("2021-07-01", "en") == "1 Jul 2021"
