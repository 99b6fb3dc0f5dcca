"""The topology's parts of every frame: which organisations just had activity, and everyone's health.

The server does not know which nodes a screen has drawn (each person opens
and folds their own), so both sections name organisations by their preorder
position relative to the scope's top (dashboard/topology/radial.py); a drawn node
holds the range ``[pre, end)``, and the page maps each position to the
deepest drawn node holding it (assets/topology.js).

* ``topo_pulse`` — positions with events since the last tick, with counts
  (``{"s": last event seq, "o": [...], "c": [...]}``); nothing when the
  scope had no activity, so a quiet screen gets no frames for it. A screen
  that skips frames misses pulses, which is what a pulse is for.
* ``topo_health`` — the health level (0 unknown, 1–10) of every
  organisation in the scope (at the public level, from the shown counts), four bits each, base64 (``{"n", "b"}``): ~74 kB
  for 110,000 organisations, recomputed at most every few seconds and sent
  only when a level changed. It is whole state, not a delta, so a screen
  that skipped frames is still right.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from dashboard.access.scopes import Scope
from dashboard.domain.events import StoredEvent
from dashboard.live.publisher import FrameSection
from dashboard.topology.health import Health
from dashboard.topology.service import Topology

MAX_PULSES = 2000
QUIET_TYPES = frozenset({"notice"})


class PulseSection:
    key = "topo_pulse"

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self._batch: Sequence[StoredEvent] | None = None
        self._pre = np.zeros(0, dtype=np.int64)
        self._seq = np.zeros(0, dtype=np.int64)

    def _positions(self, recent: Sequence[StoredEvent]) -> tuple[np.ndarray, np.ndarray]:
        """Preorder positions and seqs of this tick's events, computed once for all channels."""
        if recent is not self._batch:
            active = [ev for ev in recent if ev.type not in QUIET_TYPES]
            pre = self.topology.index.pre(np.fromiter((ev.org_id for ev in active), dtype=np.int64, count=len(active)))
            seq = np.fromiter((ev.seq for ev in active), dtype=np.int64, count=len(active))
            self._batch, self._pre, self._seq = recent, pre[pre >= 0], seq[pre >= 0]
        return self._pre, self._seq

    def compute(self, scope: Scope, changed_orgs: set[int], recent: Sequence[StoredEvent]) -> dict[str, Any] | None:
        if not recent:
            return None
        pre, seq = self._positions(recent)
        start = self.topology.scope_pre(scope.org_id)
        inside = (pre >= start) & (pre < self.topology.index.end[start])
        if not inside.any():
            return None
        positions, counts = np.unique(pre[inside] - start, return_counts=True)
        if len(positions) > MAX_PULSES:
            busiest = np.sort(np.argsort(-counts, kind="stable")[:MAX_PULSES])
            positions, counts = positions[busiest], counts[busiest]
        return {"s": int(seq[inside].max()), "o": positions.tolist(), "c": counts.tolist()}


class HealthSection:
    """``topo_health``; a public scope gets the levels of the public health (computed from the shown counts)."""

    key = "topo_health"

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self._packed: dict[tuple[bool, int], dict[str, Any]] = {}
        self._health: dict[bool, Health] = {}

    def compute(self, scope: Scope, changed_orgs: set[int], recent: Sequence[StoredEvent]) -> dict[str, Any]:
        health = self.topology.health.current(scope.public)
        if health is not self._health.get(scope.public):
            self._health[scope.public] = health
            self._packed = {key: value for key, value in self._packed.items() if key[0] != scope.public}
        start = self.topology.scope_pre(scope.org_id)
        value = self._packed.get((scope.public, start))
        if value is None:
            stop = int(self.topology.index.end[start])
            value = self._packed[(scope.public, start)] = {"n": stop - start, "b": health.packed(start, stop)}
        return value


def topology_sections(topology: Topology) -> list[FrameSection]:
    return [PulseSection(topology), HealthSection(topology)]
