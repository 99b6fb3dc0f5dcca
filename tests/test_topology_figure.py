"""The topology figure: what it draws for a view, checked on its data (no browser)."""

from __future__ import annotations

import numpy as np

from dashboard.access.scopes import public_count
from dashboard.live.aggregator import Aggregator
from dashboard.topology.health import compute_health, public_table
from dashboard.topology.links import CrossLinks, MemberGroupLink
from dashboard.topology.lod import Detail, ViewSpec
from dashboard.topology.picture import make_picture
from dashboard.topology.radial import TreeIndex
from dashboard.topology.view import build_view
from layouts.i18n import fmt_percent
from layouts.topology import HEALTH_COLOURS, detail_card, svg_path, topology_graph_figure
from tests.topology_helpers import random_parents, tree_from_parents


def _picture(public: bool = True, target: int | None = None, busy: bool = False):  # type: ignore[no-untyped-def]
    tree = tree_from_parents(random_parents(300, seed=9, fan_out=5))
    index = TreeIndex.build(tree)
    leaves = [i for i in tree.nodes if not tree.children[i]]
    links = CrossLinks(
        np.array([(leaves[0], leaves[-1]), (leaves[1], leaves[-2])], dtype=np.int64),
        (MemberGroupLink(1, "G1", "读书会", tuple(leaves[2:6])),),
        (0,),
    )
    spec = ViewSpec(0, 0)
    view = build_view(index, Detail(index, auto_budget=40), links, spec)
    table = Aggregator(tree).table()
    table["members"] = np.arange(len(table["org_id"])) % 7  # some counts small enough to point at people
    if busy:  # members active today and branches without a meeting
        table["active_today"] = table["members"] // 2
        table["no_meeting"] = np.arange(len(table["org_id"])) % 3
    health = compute_health(index, public_table(table) if public else table, now=0.0, public=public)  # as HealthBoard.current(public)
    return make_picture(tree, index, view, health, public, target)


def _shapes(fig: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {s["name"]: s["path"] for s in fig["layout"]["shapes"]}


def test_every_drawn_organisation_is_a_node_with_its_range_for_the_frames() -> None:
    pic = _picture()
    fig = topology_graph_figure(pic, "zh")
    nodes = next(t for t in fig["data"] if t["name"] == "nodes")
    assert nodes["customdata"] == pic.codes and len(nodes["x"]) == pic.size
    assert nodes["marker"]["color"] == [HEALTH_COLOURS[h] for h in pic.health]
    meta = fig["layout"]["meta"]["topology"]
    assert meta["pre"] == pic.pre and meta["end"] == pic.end and meta["parent"] == pic.parent
    assert all(meta["pre"][i] < meta["pre"][i + 1] for i in range(pic.size - 1)), "in preorder, for the page's binary search"


def test_links_are_one_path_per_kind_with_a_segment_per_link() -> None:
    pic = _picture()
    shapes = _shapes(topology_graph_figure(pic, "zh"))
    assert shapes["tree"].count("M") == pic.size - 1 and shapes["tree"].count("C") == pic.size - 1
    assert shapes["partnerships"].count("Q") == len(pic.partner_pairs) > 0
    assert shapes["group-spokes"].count("L") == sum(len(h.spokes) for h in pic.hubs) > 0
    assert "path" not in shapes, "nothing searched, nothing highlighted"


def test_a_target_gets_its_path_and_ring() -> None:
    plain = _picture()
    deep = max(range(plain.size), key=lambda i: plain.ring[i])
    index_target = plain.pre[deep]  # relative to the scope, which is the top here
    pic = _picture(target=index_target)
    fig = topology_graph_figure(pic, "en")
    assert _shapes(fig)["path"].count("C") == pic.ring[deep]
    target = next(t for t in fig["data"] if t["name"] == "target")
    assert (target["x"], target["y"]) == ([pic.x[deep]], [pic.y[deep]])
    labels = next(t for t in fig["data"] if t["name"] == "labels")
    assert pic.names[deep] in labels["text"], "the target is always labelled"


def test_svg_paths_name_every_control_point() -> None:
    cubic = np.array([[[0, 0], [1, 0], [1, 1], [2, 1]]], dtype=float)
    assert svg_path(cubic) == "M0.0,0.0C1.0,0.0 1.0,1.0 2.0,1.0"
    lines = np.array([[[0, 0], [1, 1]], [[2, 2], [3, 3.25]]], dtype=float)
    assert svg_path(lines) == "M0.0,0.0L1.0,1.0M2.0,2.0L3.0,3.25"
    assert svg_path(np.zeros((0, 3, 2))) == ""


def test_the_public_level_hides_small_member_counts() -> None:
    public, full = _picture(public=True), _picture(public=False)
    assert any(0 < m < 5 for m in full.members)
    assert [public_count(m) for m in full.members] == public.members, "the one masking rule: <5 (0 too) hidden, others to tens"
    hover = next(t for t in topology_graph_figure(public, "zh")["data"] if t["name"] == "nodes")["text"]
    assert any("党员 <5" in text for text in hover)


def test_the_card_and_hover_show_real_figures_not_indices() -> None:
    pic = _picture(public=False, busy=True)  # the full level: figures to the unit, as a signed-in leader sees them
    i = next(k for k in range(pic.size) if pic.active_share[k] is not None and pic.alerts[k] > 0)
    cells = [c.children for c in detail_card(pic, i, "zh")[2].children]  # dt, dd, dt, dd, …
    rows = dict(zip(cells[::2], cells[1::2], strict=True))
    assert rows["今日活跃占比"] == fmt_percent(pic.active_share[i])
    assert rows["待处理预警"] == f"{pic.alerts[i]} 项"
    assert "活跃度" not in rows and "无预警" not in rows
    hover = next(t for t in topology_graph_figure(pic, "en")["data"] if t["name"] == "nodes")["text"][i]
    assert f"Active today {fmt_percent(pic.active_share[i])}" in hover and f"Open alerts {pic.alerts[i]}" in hover
