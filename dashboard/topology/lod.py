"""Level of detail: which organisations a topology view draws, never more than MAX_DRAWN.

A view is a *focus* (the organisation in the centre), the levels below it
opened automatically (as many whole levels as fit in ``AUTO_BUDGET``), and
the person's own changes: organisations they opened (oldest first) and
automatically opened ones they folded. Everything deeper is folded into the
drawn organisation that holds it. Opening an organisation when the view is
full folds the oldest other openings first, so the drawn count stays under
MAX_DRAWN whatever is clicked; the drawing itself is cut at MAX_DRAWN as a
last guard.

Everything here works on preorder positions (see dashboard/topology/radial.py).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from dashboard.topology.radial import TreeIndex

MAX_DRAWN = 2000
AUTO_BUDGET = 400
REVEAL_DEPTH = 2
REVEAL_MIN_SIZE = 40


@dataclass(frozen=True)
class ViewSpec:
    """What one screen asked to see (preorder positions)."""

    scope: int  # the top of what this screen may see
    focus: int
    opened: tuple[int, ...] = ()
    folded: tuple[int, ...] = ()


class Detail:
    """Level-of-detail decisions for one tree."""

    def __init__(
        self, index: TreeIndex, max_drawn: int = MAX_DRAWN, auto_budget: int = AUTO_BUDGET, reveal_min_size: int = REVEAL_MIN_SIZE
    ) -> None:
        self.index = index
        self.max_drawn = max_drawn
        self.auto_budget = auto_budget
        self.reveal_min_size = reveal_min_size
        self.auto_depth = lru_cache(maxsize=4096)(self._auto_depth)

    def _auto_depth(self, focus: int) -> int:
        """Whole levels below ``focus`` that fit in the automatic budget (at least one)."""
        index = self.index
        rel = index.depth[focus : index.end[focus]] - index.depth[focus]
        per_level = np.cumsum(np.bincount(rel))
        return max(1, int(np.searchsorted(per_level, self.auto_budget, side="right")) - 1)

    def is_open(self, spec: ViewSpec, p: int) -> bool:
        """Whether ``p``'s children are drawn (when ``p`` is)."""
        if p in spec.opened:
            return True
        rel = int(self.index.depth[p] - self.index.depth[spec.focus])
        return rel < self.auto_depth(spec.focus) and p not in spec.folded

    def drawn(self, spec: ViewSpec) -> np.ndarray:
        """Preorder positions of the drawn organisations, breadth first from the focus, at most ``max_drawn``."""
        opened, folded = set(spec.opened), set(spec.folded)
        depth, focus = self.index.depth, spec.focus
        auto = self.auto_depth(focus)
        out = [focus]
        queue = deque([focus])
        while queue and len(out) < self.max_drawn:
            p = queue.popleft()
            if p in opened or (depth[p] - depth[focus] < auto and p not in folded):
                for c in self.index.children(p):
                    if len(out) == self.max_drawn:
                        break
                    out.append(c)
                    queue.append(c)
        return np.array(out, dtype=np.int64)

    # --- changes a person makes ------------------------------------------------------

    def toggle(self, spec: ViewSpec, p: int) -> ViewSpec:
        """A click on drawn ``p``: fold it if open, open it if folded; the centre steps one level out."""
        index = self.index
        if p == spec.focus:
            return self.refocus(spec, int(index.parent[p])) if p != spec.scope else spec
        if not index.end[p] > p + 1:
            return spec
        if self.is_open(spec, p):
            outside = tuple(q for q in spec.opened if not p <= q < index.end[p])
            unfolded = replace(spec, opened=outside)
            folded = (*spec.folded, p) if self.is_open(unfolded, p) else spec.folded
            return replace(unfolded, folded=folded)
        return self._fit(replace(spec, opened=(*spec.opened, p), folded=tuple(q for q in spec.folded if q != p)), keep=p)

    def refocus(self, spec: ViewSpec, p: int) -> ViewSpec:
        """Put ``p`` in the centre (inside the scope), keeping the openings that are under it."""
        if not spec.scope <= p < self.index.end[spec.scope]:
            p = spec.scope
        end = self.index.end[p]
        return self._fit(
            ViewSpec(spec.scope, p, tuple(q for q in spec.opened if p < q < end), tuple(q for q in spec.folded if p < q < end)),
            keep=p,
        )

    def reveal(self, spec: ViewSpec, target: int) -> ViewSpec:
        """Open the path down to ``target`` (and ``target`` itself).

        The focus stays if the target is under it and at most REVEAL_DEPTH
        levels (or the automatic depth) below; otherwise the view centres on
        the nearest ancestor at least REVEAL_DEPTH levels up that holds
        REVEAL_MIN_SIZE organisations (a committee with one branch makes a
        lopsided centre), so a branch found from the top of a
        100,000-organisation tree is drawn among its neighbours at a readable
        size, not at the end of a long thin spoke. The breadcrumb keeps the
        whole path from the top as the way back out.
        """
        index = self.index
        focus = spec.focus if spec.focus <= target < index.end[spec.focus] else spec.scope
        chain = index.chain(target)
        if index.depth[target] - index.depth[focus] > max(REVEAL_DEPTH, self.auto_depth(focus)):
            above = chain[chain.index(spec.scope) : max(chain.index(spec.scope), len(chain) - REVEAL_DEPTH) + 1]
            wide = [p for p in above if index.end[p] - p >= self.reveal_min_size]
            focus = wide[-1] if wide else above[0]
        path = chain[chain.index(focus) :]
        opened = [q for q in spec.opened if q not in path] + path
        folded = tuple(q for q in spec.folded if q not in path)
        base = spec if focus == spec.focus else self.refocus(spec, focus)
        return self._fit(replace(base, opened=tuple(opened), folded=folded), keep=target)

    def _fit(self, spec: ViewSpec, keep: int) -> ViewSpec:
        """Fold the oldest openings not on ``keep``'s path until the view is within ``max_drawn``."""
        chain = set(self.index.chain(keep))
        while len(self.drawn(spec)) >= self.max_drawn:
            spare = [q for q in spec.opened if q not in chain]
            if not spare:
                break
            spec = replace(spec, opened=tuple(q for q in spec.opened if q != spare[0]))
        return spec


def holders(index: TreeIndex, drawn: np.ndarray, drawn_parent: np.ndarray, pre: np.ndarray) -> np.ndarray:
    """For each preorder position in ``pre``, the index (into sorted ``drawn``) of the deepest drawn
    organisation that holds it; -1 for positions outside the drawn part."""
    pre = np.asarray(pre, dtype=np.int64)
    at = np.searchsorted(drawn, pre, side="right") - 1
    out = np.where(at >= 0, at, -1)
    for _ in range(int(index.depth.max(initial=0)) + 1):
        safe = np.maximum(out, 0)
        outside = (out >= 0) & ~((drawn[safe] <= pre) & (pre < index.end[drawn[safe]]))
        if not outside.any():
            break
        out = np.where(outside, drawn_parent[safe], out)
    return out
