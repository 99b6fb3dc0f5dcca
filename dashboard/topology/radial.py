"""Server-side layout of the organisation tree: a radial tree, stable and cheap.

``TreeIndex`` numbers the organisations in depth-first preorder once, at
start: a subtree is then the contiguous range ``[pre, end)``, so "is this
organisation under that one?", "which drawn node holds it?" and "which
organisations does this scope cover?" are array comparisons, and the frames
can name organisations by a small integer.

``radial_layout`` places any *drawn* part of the tree (a connected set of
organisations hanging from one centre): the centre in the middle, each level
on its own ring, every visible leaf its own angular slot (twice the gap
between leaves of different parents), every inner node at the middle of the
angles of its first and last leaf. It is a pure function of the drawn set —
no forces, no randomness — so the picture is the same on every frame and for
every screen, and the whole of a 100,000-organisation tree is laid out in a
few numpy passes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from dashboard.store.tree import OrgTree

SIBLING_GAP = 1.0
COUSIN_GAP = 2.0


@dataclass(frozen=True)
class TreeIndex:
    """The tree in depth-first preorder (children by id): position ``p`` holds organisation ``ids[p]``."""

    ids: np.ndarray  # org id at each preorder position
    end: np.ndarray  # one past the last position of each subtree
    depth: np.ndarray  # 0 at the top organisation
    parent: np.ndarray  # preorder position of the parent, -1 at the top
    _sorted_ids: np.ndarray
    _pre_of_sorted: np.ndarray

    @classmethod
    def build(cls, tree: OrgTree) -> TreeIndex:
        if tree.root_id is None:
            empty = np.zeros(0, dtype=np.int64)
            return cls(empty, empty, empty, empty, empty, empty)
        ids = np.fromiter(tree.walk(tree.root_id), dtype=np.int64, count=len(tree))
        depth = np.fromiter((len(tree.ancestors[i]) - 1 for i in ids.tolist()), dtype=np.int64, count=len(ids))
        order = np.argsort(ids, kind="stable")
        sorted_ids, pre_of_sorted = ids[order], order.astype(np.int64)
        parent = np.full(len(ids), -1, dtype=np.int64)
        parent_ids = np.array([tree.nodes[i].parent_id or -1 for i in ids[1:].tolist()], dtype=np.int64)
        parent[1:] = pre_of_sorted[np.searchsorted(sorted_ids, parent_ids)]
        return cls(ids, _subtree_ends(depth), depth, parent, sorted_ids, pre_of_sorted)

    def __len__(self) -> int:
        return len(self.ids)

    def pre(self, org_ids: np.ndarray) -> np.ndarray:
        """Preorder positions of ``org_ids``; -1 for ids not in the tree."""
        org_ids = np.asarray(org_ids, dtype=np.int64)
        if not len(self.ids):
            return np.full(org_ids.shape, -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self._sorted_ids, org_ids), len(self._sorted_ids) - 1)
        return np.where(self._sorted_ids[at] == org_ids, self._pre_of_sorted[at], -1)

    def pre_of(self, org_id: int) -> int:
        return int(self.pre(np.array([org_id]))[0])

    def children(self, p: int) -> Iterator[int]:
        """Preorder positions of the children of ``p``, in order (a jump from sibling to sibling)."""
        q, stop = p + 1, int(self.end[p])
        while q < stop:
            yield q
            q = int(self.end[q])

    def chain(self, p: int) -> list[int]:
        """``p`` and its ancestors, top first."""
        out = []
        while p >= 0:
            out.append(p)
            p = int(self.parent[p])
        return out[::-1]


def _subtree_ends(depth: np.ndarray) -> np.ndarray:
    """End of each subtree in a preorder sequence: the next position at the same depth or above.

    One reverse pass with a stack of positions of strictly rising depth.
    """
    n = len(depth)
    end = np.empty(n, dtype=np.int64)
    stack: list[int] = []
    depth_list = depth.tolist()
    for p in range(n - 1, -1, -1):
        d = depth_list[p]
        while stack and depth_list[stack[-1]] > d:
            stack.pop()
        end[p] = stack[-1] if stack else n
        stack.append(p)
    return end


@dataclass(frozen=True)
class RadialPositions:
    """Positions of a drawn set (preorder positions ``pre``, ascending), centre at (0, 0)."""

    pre: np.ndarray
    x: np.ndarray
    y: np.ndarray
    angle: np.ndarray  # radians, 0..2π
    ring: np.ndarray  # levels below the centre
    drawn_end: np.ndarray  # index (into ``pre``) one past each node's drawn descendants
    drawn_parent: np.ndarray  # index of the drawn parent, -1 at the centre


def radial_layout(index: TreeIndex, pre: np.ndarray) -> RadialPositions:
    """Lay out the drawn organisations ``pre`` (preorder positions; the first one is the centre).

    ``pre`` must be a connected part of the tree that contains, with every
    drawn organisation, its parent (except the centre). O(n log n) in numpy.
    """
    pre = np.sort(np.asarray(pre, dtype=np.int64))
    n = len(pre)
    drawn_end = np.searchsorted(pre, index.end[pre], side="left")
    leaf = drawn_end == np.arange(1, n + 1)
    parent_pre = index.parent[pre]
    drawn_parent = np.searchsorted(pre, parent_pre)
    drawn_parent[0] = -1
    leaf_idx = np.flatnonzero(leaf)
    gaps = np.where(parent_pre[leaf_idx][1:] == parent_pre[leaf_idx][:-1], SIBLING_GAP, COUSIN_GAP)
    slots = np.concatenate([[0.0], np.cumsum(gaps)])
    span = slots[-1] + COUSIN_GAP if len(leaf_idx) > 1 else 1.0
    cum = np.concatenate([[0], np.cumsum(leaf)])
    first_leaf = cum[np.arange(n)]
    last_leaf = cum[drawn_end] - 1
    angle = (slots[first_leaf] + slots[last_leaf]) / 2 * (2 * np.pi / span)
    ring = (index.depth[pre] - index.depth[pre[0]]).astype(np.float64)
    return RadialPositions(
        pre=pre,
        x=ring * np.cos(angle),
        y=ring * np.sin(angle),
        angle=angle,
        ring=ring,
        drawn_end=drawn_end,
        drawn_parent=drawn_parent,
    )


def full_layout(index: TreeIndex) -> RadialPositions:
    """Every organisation laid out at once: the largest view there can be (the benchmark's case)."""
    return radial_layout(index, np.arange(len(index), dtype=np.int64))
