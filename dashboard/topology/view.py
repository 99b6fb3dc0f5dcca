"""The geometry of one topology view: drawn organisations, their positions, and the links between them.

Cross-links are drawn between the drawn organisations that hold their ends:
a 共建 partnership between two branches folded into two counties becomes one
county-to-county link (with a weight when several fold together), and
vanishes when both ends fold into the same node. A member group becomes a
hub with a spoke to each drawn organisation holding some of its members;
groups whose spokes reach the same drawn organisations share one hub. Pure
geometry: no live numbers here, so a view is computed once and cached.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashboard.topology.links import CrossLinks
from dashboard.topology.lod import Detail, ViewSpec, holders
from dashboard.topology.radial import RadialPositions, TreeIndex, radial_layout

MAX_HUBS = 80  # the groups reaching most drawn organisations; more make a fan-shaped fog
HUB_INSET = 0.55  # a hub sits this far inside the innermost ring its spokes reach


@dataclass(frozen=True)
class Hub:
    """One or more member groups whose members sit in the same drawn organisations."""

    group_codes: tuple[str, ...]
    group_names: tuple[str, ...]
    x: float
    y: float
    spokes: tuple[int, ...]  # indices of drawn organisations


@dataclass(frozen=True)
class TopologyView:
    spec: ViewSpec
    positions: RadialPositions
    is_open: np.ndarray  # bool per drawn node: its children are drawn
    hidden: np.ndarray  # organisations folded into each drawn node
    partner_pairs: np.ndarray  # (k, 2) drawn indices, a < b
    partner_weights: np.ndarray  # partnerships folded into each pair
    hubs: tuple[Hub, ...]

    @property
    def size(self) -> int:
        return len(self.positions.pre)

    def index_of(self, pre: int) -> int:
        """Drawn index of preorder position ``pre``; -1 if it is not drawn."""
        at = int(np.searchsorted(self.positions.pre, pre))
        return at if at < self.size and int(self.positions.pre[at]) == pre else -1


def build_view(index: TreeIndex, detail: Detail, links: CrossLinks, spec: ViewSpec) -> TopologyView:
    positions = radial_layout(index, detail.drawn(spec))
    pre = positions.pre
    n = len(pre)
    descendants_drawn = positions.drawn_end - np.arange(1, n + 1)
    hidden = (index.end[pre] - pre - 1) - descendants_drawn
    is_open = descendants_drawn > 0
    pairs, weights = _partner_pairs(index, positions, links)
    return TopologyView(spec, positions, is_open, hidden, pairs, weights, _hubs(index, positions, links))


def _partner_pairs(index: TreeIndex, positions: RadialPositions, links: CrossLinks) -> tuple[np.ndarray, np.ndarray]:
    if not len(links.partnerships):
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64)
    ends = holders(index, positions.pre, positions.drawn_parent, index.pre(links.partnerships.reshape(-1))).reshape(-1, 2)
    ends = np.sort(ends[(ends >= 0).all(axis=1) & (ends[:, 0] != ends[:, 1])], axis=1)
    pairs, weights = np.unique(ends, axis=0, return_counts=True)
    return pairs.reshape(-1, 2), weights


def _hubs(index: TreeIndex, positions: RadialPositions, links: CrossLinks) -> tuple[Hub, ...]:
    groups = [g for g in links.groups if len(g.org_ids) > 1]
    if not groups:
        return ()
    flat = np.concatenate([np.array(g.org_ids, dtype=np.int64) for g in groups])
    held = holders(index, positions.pre, positions.drawn_parent, index.pre(flat))
    bounds = np.cumsum([0] + [len(g.org_ids) for g in groups])
    merged: dict[tuple[int, ...], list[int]] = {}
    for k in range(len(groups)):
        spokes = np.unique(held[bounds[k] : bounds[k + 1]])
        spokes = tuple(spokes[spokes >= 0].tolist())
        if len(spokes) > 1:
            merged.setdefault(spokes, []).append(k)
    ranked = sorted(merged.items(), key=lambda item: (-len(item[0]) * len(item[1]), item[0]))[:MAX_HUBS]
    hubs = []
    for spokes, members in ranked:
        at = np.array(spokes)
        angle = np.arctan2(np.sin(positions.angle[at]).sum(), np.cos(positions.angle[at]).sum())
        radius = max(0.35, float(positions.ring[at].min()) - HUB_INSET)
        hubs.append(
            Hub(
                tuple(groups[k].code for k in members),
                tuple(groups[k].name for k in members),
                radius * float(np.cos(angle)),
                radius * float(np.sin(angle)),
                spokes,
            )
        )
    return tuple(hubs)
