"""The topology on the server at a million members: layout, views, analysis, level of detail.

Reads a seeded store (``python -m dashboard seed --members 1000000 --database-url
sqlite:////tmp/x/big.db``, ~111,000 organisations) and measures, each as the
median of ``--repeat`` runs:

* ``layout_s`` — the server-side layout of the whole tree: the preorder index
  (``TreeIndex.build``) plus the radial layout of every organisation at once;
  baseline in the same run: networkx's own breadth-first traversal of the
  same tree on a ready ``nx.DiGraph`` — ``list(nx.bfs_edges(G, top))`` and
  ``list(nx.bfs_layers(G, top))``, the ratio taken against the faster — and,
  for reference, ``nx.bfs_layout`` (networkx's layered tree layout);
* ``view_default_ms`` / ``view_full_ms`` — one screen's view (level of detail,
  layout of the drawn part, cross-links folded onto it) for the overview and
  for a view opened to the limit; ``figure_*`` the Plotly figure built from it
  and its JSON size;
* ``analysis_s`` — bridges and centrality on the cross-link graph (the isolated-branch
  ranking apart: ``isolated_ranking_ms``), against the
  same BFS baseline;
* ``max_drawn_*`` — the most nodes (organisations and group hubs) ever drawn
  over ``--clicks`` random clicks (eight in ten opening a folded node, the
  rest folding or searching), and over ``--clicks``/4 clicks that only open
  (limit 2,000).

    python benchmarks/topology_layout.py --database-url sqlite:////tmp/x/big.db [--repeat 5] [--clicks 2000]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.live.aggregator import Aggregator
from dashboard.store.engine import open_store
from dashboard.store.tree import OrgTree
from dashboard.topology.analysis import analyse_links, isolated_branches
from dashboard.topology.lod import MAX_DRAWN
from dashboard.topology.radial import TreeIndex, full_layout
from dashboard.topology.service import Topology
from layouts.topology import topology_graph_figure


def median_s(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url", required=True)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--clicks", type=int, default=2000)
    a = p.parse_args()

    engine = open_store(a.database_url)
    started = time.perf_counter()
    tree = OrgTree.load(engine)
    load_tree_s = time.perf_counter() - started
    aggregator = Aggregator(tree)  # counts do not change layout or analysis times; an empty one keeps the run short
    topology = Topology(engine, tree, aggregator)
    index = topology.index

    graph = nx.DiGraph()
    graph.add_edges_from((n.parent_id, i) for i, n in tree.nodes.items() if n.parent_id is not None)
    root = tree.root_id
    bfs_s = median_s(lambda: list(nx.bfs_edges(graph, root)), a.repeat)
    bfs_layers_s = median_s(lambda: list(nx.bfs_layers(graph, root)), a.repeat)
    fastest_bfs_s = min(bfs_s, bfs_layers_s)
    layout_s = median_s(lambda: full_layout(TreeIndex.build(tree)), a.repeat)
    index_s = median_s(lambda: TreeIndex.build(tree), a.repeat)
    bfs_layout_s = median_s(lambda: nx.bfs_layout(graph, root), 1)

    default = topology.default_spec(root)
    view_default_ms = median_s(lambda: topology.view(default), 1) * 1000
    topology._views.clear()
    full_spec = default
    rng = random.Random(1)
    while len(topology.view(full_spec).positions.pre) < MAX_DRAWN * 0.8:
        view = topology.view(full_spec)
        folded = [int(q) for q, opened, hidden in zip(view.positions.pre, view.is_open, view.hidden) if not opened and hidden]
        full_spec = topology.detail.toggle(full_spec, rng.choice(folded))
    topology._views.clear()
    view_full_ms = median_s(lambda: topology.view(full_spec), 1) * 1000

    pictures = {"default": topology.picture(default, public=True), "full": topology.picture(full_spec, public=True)}
    figures = {k: median_s(lambda pic=pic: topology_graph_figure(pic, "zh"), a.repeat) * 1000 for k, pic in pictures.items()}
    sizes = {k: len(orjson.dumps(topology_graph_figure(pic, "zh"), option=orjson.OPT_SERIALIZE_NUMPY)) for k, pic in pictures.items()}

    analysis_s = median_s(lambda: analyse_links(index, topology.links), a.repeat)
    links = analyse_links(index, topology.links)
    health = topology.health.current()
    isolated_s = median_s(lambda: isolated_branches(index, topology.state.is_branch, links.linked, health), a.repeat)

    rng = random.Random(2)
    spec, max_drawn = default, 0
    for _ in range(a.clicks):
        drawn = topology.detail.drawn(spec)
        view = topology.view(spec)
        max_drawn = max(max_drawn, len(drawn) + len(view.hubs))
        folded = [int(q) for q, opened, hidden in zip(view.positions.pre, view.is_open, view.hidden) if not opened and hidden]
        action = rng.random()
        if action < 0.1:
            spec = topology.detail.reveal(spec, rng.randrange(len(index)))
        elif action < 0.2 or not folded:
            spec = topology.detail.toggle(spec, int(rng.choice(drawn)))
        else:
            spec = topology.detail.toggle(spec, rng.choice(folded))
    spec, opening_max = default, 0
    for _ in range(a.clicks // 4):  # nothing but opening: the limit must hold
        view = topology.view(spec)
        opening_max = max(opening_max, view.size + len(view.hubs))
        folded = [int(q) for q, opened, hidden in zip(view.positions.pre, view.is_open, view.hidden) if not opened and hidden]
        spec = topology.detail.toggle(spec, rng.choice(folded))

    print(json.dumps({
        "benchmark": "topology_layout",
        "organisations": len(tree),
        "depth": int(index.depth.max()) + 1,
        "partnerships": int(len(topology.links.partnerships)),
        "member_groups": len(topology.links.groups),
        "load_tree_s": round(load_tree_s, 3),
        "layout_s": round(layout_s, 4),
        "of_which_index_s": round(index_s, 4),
        "baseline_nx_bfs_edges_s": round(bfs_s, 4),
        "baseline_nx_bfs_layers_s": round(bfs_layers_s, 4),
        "ratio_layout_vs_fastest_bfs": round(layout_s / fastest_bfs_s, 3),
        "target_ratio": 20,
        "reference_nx_bfs_layout_s": round(bfs_layout_s, 3),
        "view_default_ms": round(view_default_ms, 1),
        "view_default_nodes": pictures["default"].size,
        "view_default_hubs": len(pictures["default"].hubs),
        "view_default_partner_pairs": len(pictures["default"].partner_pairs),
        "figure_default_ms": round(figures["default"], 1),
        "figure_default_kb": round(sizes["default"] / 1024, 1),
        "view_full_ms": round(view_full_ms, 1),
        "view_full_nodes": pictures["full"].size,
        "figure_full_ms": round(figures["full"], 1),
        "figure_full_kb": round(sizes["full"] / 1024, 1),
        "analysis_s": round(analysis_s, 3),
        "ratio_analysis_vs_fastest_bfs": round(analysis_s / fastest_bfs_s, 2),
        "isolated_ranking_ms": round(isolated_s * 1000, 1),
        "linked_organisations": links.linked_orgs,
        "bridges": int(len(links.bridges.pre)),
        "clicks": a.clicks,
        "max_drawn_mixed_clicks": max_drawn,
        "max_drawn_opening_only": opening_max,
        "drawn_limit": MAX_DRAWN,
        "numpy": np.__version__,
        "networkx": nx.__version__,
    }))


if __name__ == "__main__":
    main()
