"""Server-side layout of the organisation tree: stable positions, computed once.

A radial tree: the top organisation in the centre, each level on its own ring,
every subtree given an angle in proportion to its number of leaves, so the
picture never jumps from frame to frame.
"""

from __future__ import annotations

import math

from dashboard.tree import OrgTree


def radial_layout(tree: OrgTree, root_id: int, max_depth: int) -> dict[int, tuple[float, float]]:
    """(x, y) of every organisation down to ``max_depth`` levels below ``root_id``."""
    leaves: dict[int, int] = {}

    def count(node: int, depth: int) -> int:
        kids = tree.children.get(node, []) if depth < max_depth else []
        leaves[node] = sum(count(k, depth + 1) for k in kids) or 1
        return leaves[node]

    count(root_id, 0)
    positions: dict[int, tuple[float, float]] = {root_id: (0.0, 0.0)}
    stack = [(root_id, 0, 0.0, 2 * math.pi)]
    while stack:
        node, depth, start, span = stack.pop()
        if depth >= max_depth:
            continue
        angle = start
        for kid in tree.children.get(node, []):
            share = span * leaves[kid] / leaves[node]
            mid = angle + share / 2
            radius = depth + 1.0
            positions[kid] = (radius * math.cos(mid), radius * math.sin(mid))
            stack.append((kid, depth + 1, angle, share))
            angle += share
    return positions
