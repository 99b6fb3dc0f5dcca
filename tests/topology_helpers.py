"""Small organisation trees for the topology tests."""

from __future__ import annotations

import random

from dashboard.store.tree import OrgNode, OrgTree


def tree_from_parents(parents: dict[int, int | None], kinds: dict[int, str] | None = None) -> OrgTree:
    """A tree from ``{id: parent id}``; codes are ``O<id>``, names ``组织<id>``."""
    kinds = kinds or {}

    def depth(i: int) -> int:
        d = 0
        while parents[i] is not None:
            i, d = parents[i], d + 1
        return d

    return OrgTree.from_nodes(
        OrgNode(i, f"O{i}", f"组织{i}", kinds.get(i, "committee"), p, depth(i), None, None, None, None)
        for i, p in parents.items()
    )


def random_parents(n: int, seed: int, fan_out: int = 6) -> dict[int, int | None]:
    """A random tree of ``n`` organisations: each joins a random earlier one that still has room."""
    rng = random.Random(seed)
    parents: dict[int, int | None] = {1: None}
    kids: dict[int, int] = {}
    open_ = [1]
    for i in range(2, n + 1):
        p = rng.choice(open_[-50:])
        parents[i] = p
        kids[p] = kids.get(p, 0) + 1
        if kids[p] >= fan_out:
            open_.remove(p)
        open_.append(i)
    return parents
