"""What the views render, prepared from the live state (Grafana's data-source side).

Views never touch storage: they ask these functions, which read the runtime's
tree and aggregator only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashboard.aggregator import Aggregator
from dashboard.topology import TreeIndex, radial_layout
from dashboard.tree import OrgTree


@dataclass(frozen=True)
class TopologyNode:
    org_id: int
    code: str
    name: str
    x: float
    y: float
    members: int


def topology_nodes(tree: OrgTree, aggregator: Aggregator, scope_id: int, depth: int = 2) -> list[TopologyNode]:
    """The scope's top ``depth`` levels with stable radial positions and member counts."""
    index = TreeIndex.build(tree)
    top = index.pre_of(scope_id)
    inside = np.arange(top, index.end[top])
    pos = radial_layout(index, inside[index.depth[inside] - index.depth[top] <= depth])
    return [
        TopologyNode(i, tree.nodes[i].code, tree.nodes[i].name, x, y, int(aggregator.snapshot(i).get("members") or 0))
        for i, x, y in zip(index.ids[pos.pre].tolist(), pos.x.tolist(), pos.y.tolist())
    ]
