"""Graph analysis for a committee: isolated branches, bridges, the most connected organisations.

The cross-link graph has a node for every organisation with a link and one
for every member group: a partnership is an edge between two organisations,
a group an edge from the group to each organisation holding some of its
members (a bipartite graph — the same connectivity as joining all of a
group's organisations to each other, with a few thousand edges instead of
a hundred thousand).

* **Bridges** are organisations whose removal cuts the cross-link graph
  (networkx articulation points), ranked by how many organisations would be
  cut off from the larger part — computed for all of them at once on the
  block-cut tree of the biconnected components.
* **Most connected** ranks organisations by networkx degree centrality on
  the graph of organisations (partners plus every organisation sharing a
  member group), so the value is "linked to N organisations".
* **Isolated branches** are branches with no cross-link anywhere in their
  subtree (their 党小组 included) and less activity today than the median
  branch (or none at all), least active first, larger first on ties.

Links change rarely, so the graph part is recomputed only when they do; the
isolation ranking also depends on today's activity and is cheap (numpy over
the branches), so it is refreshed on its own schedule.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import networkx as nx
import numpy as np

from dashboard.topology.health import Health
from dashboard.topology.links import CrossLinks
from dashboard.topology.radial import TreeIndex


@dataclass(frozen=True)
class Ranking:
    """Preorder positions, best first, with the number each is ranked by."""

    pre: np.ndarray
    value: np.ndarray

    def within(self, start: int, stop: int, limit: int) -> list[tuple[int, float]]:
        """The first ``limit`` entries inside the subtree range ``[start, stop)``."""
        inside = (self.pre >= start) & (self.pre < stop)
        return list(zip(self.pre[inside][:limit].tolist(), self.value[inside][:limit].tolist()))


@dataclass(frozen=True)
class LinkAnalysis:
    bridges: Ranking  # value: organisations cut off if it goes
    connected: Ranking  # value: organisations it is linked to
    linked: np.ndarray  # bool per preorder position: has at least one cross-link
    linked_orgs: int
    components: int
    largest_component: int
    seconds: float


@dataclass(frozen=True)
class AnalysisReport:
    links: LinkAnalysis
    isolated: Ranking  # value: share of members active today
    computed_at: float  # epoch seconds
    signature: tuple[int, ...]


def cross_link_graph(index: TreeIndex, links: CrossLinks) -> nx.Graph:
    """Organisations (preorder positions) and member groups (``("g", id)``) joined by their links."""
    graph = nx.Graph()
    pairs = index.pre(links.partnerships.reshape(-1)).reshape(-1, 2)
    graph.add_edges_from(map(tuple, pairs[(pairs >= 0).all(axis=1)].tolist()))
    for group in links.groups:
        orgs = index.pre(np.array(group.org_ids, dtype=np.int64))
        graph.add_edges_from((("g", group.id), p) for p in orgs[orgs >= 0].tolist())
    return graph


def organisation_graph(index: TreeIndex, links: CrossLinks) -> nx.Graph:
    """Organisations only: partners joined, and every two organisations sharing a member group."""
    graph = nx.Graph()
    pairs = index.pre(links.partnerships.reshape(-1)).reshape(-1, 2)
    graph.add_edges_from(map(tuple, pairs[(pairs >= 0).all(axis=1)].tolist()))
    for group in links.groups:
        orgs = index.pre(np.array(group.org_ids, dtype=np.int64))
        orgs = orgs[orgs >= 0].tolist()
        graph.add_nodes_from(orgs)
        graph.add_edges_from((a, b) for i, a in enumerate(orgs) for b in orgs[i + 1 :])
    return graph


def separations(graph: nx.Graph) -> dict[int, int]:
    """For each organisation that is an articulation point: organisations cut off from the larger part.

    Block-cut tree: one node per biconnected block and per cut vertex; a block
    weighs the organisations in it that are not cut vertices, a cut vertex 1
    if it is an organisation. Removing cut vertex c leaves one piece per
    neighbour in the tree; all but the largest are cut off.
    """
    cuts = set(nx.articulation_points(graph))
    tree = nx.Graph()
    weight: dict[object, int] = {}
    for b, block in enumerate(nx.biconnected_components(graph)):
        weight[("b", b)] = sum(1 for v in block if v not in cuts and not isinstance(v, tuple))
        tree.add_edges_from((("b", b), v) for v in block if v in cuts)
        tree.add_node(("b", b))
    for c in cuts:
        weight[c] = 0 if isinstance(c, tuple) else 1
    cut_off: dict[int, int] = {}
    for component in nx.connected_components(tree):
        root = next(iter(component))
        order = list(nx.dfs_preorder_nodes(tree, root))
        parent = dict(nx.dfs_predecessors(tree, root))
        below = {v: weight[v] for v in order}
        for v in reversed(order[1:]):
            below[parent[v]] += below[v]
        total = below[root]
        for c in component:
            if c not in cuts or isinstance(c, tuple):
                continue
            pieces = [below[k] for k in tree.neighbors(c) if parent.get(k) == c]
            if c != root:
                pieces.append(total - below[c])
            cut_off[c] = total - 1 - max(pieces, default=0)
    return cut_off


def _ranking(scores: dict[int, float], descending: bool = True) -> Ranking:
    items = sorted(scores.items(), key=lambda kv: (-kv[1] if descending else kv[1], kv[0]))
    return Ranking(np.array([k for k, _ in items], dtype=np.int64), np.array([v for _, v in items], dtype=np.float64))


def analyse_links(index: TreeIndex, links: CrossLinks) -> LinkAnalysis:
    started = time.perf_counter()
    graph = cross_link_graph(index, links)
    cut_off = separations(graph)
    orgs = organisation_graph(index, links)
    n = max(orgs.number_of_nodes() - 1, 1)
    degree = {v: round(c * n) for v, c in nx.degree_centrality(orgs).items()}
    linked = np.zeros(len(index), dtype=bool)
    linked[[v for v in graph.nodes if not isinstance(v, tuple)]] = True
    components = [len([v for v in c if not isinstance(v, tuple)]) for c in nx.connected_components(graph)]
    return LinkAnalysis(
        bridges=_ranking({v: k for v, k in cut_off.items() if k > 0}),
        connected=_ranking({v: d for v, d in degree.items() if d > 0}),
        linked=linked,
        linked_orgs=int(linked.sum()),
        components=len(components),
        largest_component=max(components, default=0),
        seconds=time.perf_counter() - started,
    )


def isolated_branches(index: TreeIndex, is_branch: np.ndarray, linked: np.ndarray, health: Health) -> Ranking:
    """Branches with no cross-link in their subtree and less activity today than the median branch (or none)."""
    has_link = np.concatenate([[0], np.cumsum(linked)])
    branches = np.flatnonzero(is_branch)
    alone = branches[has_link[index.end[branches]] == has_link[branches]]
    members = health.members[alone]
    alone, members = alone[members > 0], members[members > 0]
    if not len(alone):
        return Ranking(np.zeros(0, dtype=np.int64), np.zeros(0))
    share = np.nan_to_num(health.active_share[alone], nan=0.0)
    quiet = (share < np.median(np.nan_to_num(health.active_share[branches], nan=0.0))) | (share == 0)
    alone, share, members = alone[quiet], share[quiet], members[quiet]
    order = np.lexsort((alone, -members, share))
    return Ranking(alone[order], share[order])
