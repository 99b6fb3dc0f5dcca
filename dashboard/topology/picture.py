"""What a topology page renders: one view's geometry joined with names, members and health.

JSON-ready lists, one entry per drawn organisation, in the view's order
(preorder). ``pre``/``end`` are each node's subtree range relative to the
scope's top, which is how the frames name organisations (see
dashboard/topology/frames.py); the page keeps them to map a pulse to the
drawn node that holds it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashboard.store.tree import OrgTree
from dashboard.topology.health import COMPONENTS, Health
from dashboard.topology.radial import TreeIndex
from dashboard.topology.view import Hub, TopologyView


@dataclass(frozen=True)
class TopologyPicture:
    codes: list[str]
    names: list[str]
    kinds: list[str]
    x: list[float]
    y: list[float]
    ring: list[int]
    members: list[int | None]  # None: hidden at the public level (the public health holds 0 for hidden)
    health: list[int]  # level, 0 (unknown) or 1..10
    components: dict[str, list[float | None]]
    active_share: list[float | None]  # the real share of members active today (the "activity" component is relative)
    alerts: list[int]  # open alerts in the subtree (rule breaks + overdue transfers), a count
    hidden: list[int]  # organisations folded into the node
    is_open: list[bool]
    parent: list[int]  # drawn index of the parent, -1 at the centre
    pre: list[int]
    end: list[int]
    partner_pairs: list[tuple[int, int]]
    partner_weights: list[int]
    hubs: tuple[Hub, ...]
    path: list[int]  # drawn indices from the centre down to the target
    target: int  # drawn index of the searched or selected organisation, -1 if none

    @property
    def size(self) -> int:
        return len(self.codes)


def _rounded(values: np.ndarray) -> list[float]:
    return np.round(values, 4).tolist()


def _nullable(values: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v), 3) for v in values]


def make_picture(tree: OrgTree, index: TreeIndex, view: TopologyView, health: Health, public: bool, target: int | None) -> TopologyPicture:
    """Names and live numbers for ``view``; ``target`` (a preorder position) is highlighted with its path.

    ``health`` is the public level's (``HealthBoard.current(public=True)``)
    when ``public``: its counts are the shown ones, 0 where hidden.
    """
    pos = view.positions
    pre = pos.pre
    base = view.spec.scope
    nodes = [tree.nodes[i] for i in index.ids[pre].tolist()]
    members = health.members[pre].tolist()
    if public:
        members = [m or None for m in members]
    at = view.index_of(target) if target is not None else -1
    path: list[int] = []
    if at >= 0:
        k = at
        while k >= 0:
            path.append(k)
            k = int(pos.drawn_parent[k])
        path.reverse()
    return TopologyPicture(
        codes=[n.code for n in nodes],
        names=[n.name for n in nodes],
        kinds=[n.kind for n in nodes],
        x=_rounded(pos.x),
        y=_rounded(pos.y),
        ring=pos.ring.astype(int).tolist(),
        members=members,
        health=health.level[pre].tolist(),
        components={c: _nullable(health.components[c][pre]) for c in COMPONENTS},
        active_share=_nullable(health.active_share[pre]),
        alerts=health.breaks[pre].tolist(),
        hidden=view.hidden.tolist(),
        is_open=view.is_open.tolist(),
        parent=pos.drawn_parent.tolist(),
        pre=(pre - base).tolist(),
        end=(index.end[pre] - base).tolist(),
        partner_pairs=[tuple(p) for p in view.partner_pairs.tolist()],
        partner_weights=view.partner_weights.tolist(),
        hubs=view.hubs,
        path=path,
        target=at,
    )
