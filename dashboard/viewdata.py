"""What the views render, prepared from the live state (Grafana's data-source side).

Views never touch storage: they ask these functions, which read the runtime's
tree and aggregator only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from dashboard.aggregator import Aggregator
from dashboard.topology import TreeIndex, radial_layout
from dashboard.tree import OrgTree


def region_values(tree: OrgTree, aggregator: Aggregator, scope_id: int, key: str = "members") -> dict[str, float]:
    """A snapshot figure summed per region over the scope's top-most organisations that carry a region.

    Walks down from the scope until it meets organisations with a region code,
    so a national tree sums its provincial committees and a provincial scope
    its own subtree.
    """
    totals: dict[str, float] = defaultdict(float)
    stack = [scope_id]
    while stack:
        org_id = stack.pop()
        node = tree.nodes[org_id]
        if node.region_code and org_id != tree.root_id:
            totals[node.region_code] += float(aggregator.snapshot(org_id).get(key) or 0)
        else:
            stack.extend(tree.children.get(org_id, []))
    if not totals and tree.nodes[scope_id].region_code:
        totals[tree.nodes[scope_id].region_code] = float(aggregator.snapshot(scope_id).get(key) or 0)
    return dict(totals)


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
