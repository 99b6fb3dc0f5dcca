"""A Runtime joining its cluster: shared access state, signals and the snapshot lease (docs/scale.md).

Called from ``Runtime.start`` when ``--redis-url`` is set, after the bus
(which checked Redis). It swaps the process-local sign-in budgets and audit
throttle for Redis-backed ones, forwards this process's revocations to the
others and clears the check caches on theirs, reloads the tree and roster
when another process announces a reload (after an import it applied), and
writes the live snapshots only while it holds the cluster's snapshot lease.

Why snapshots need care in a cluster: several ingest processes commit out of
seq order, so an aggregator that counted seq 101 may not have counted 100
yet (it arrives late, from the stream or the catch-up). A snapshot filed
under 101 would then lack 100 for ever (a start replays only what is above
it). So the snapshot is taken on the bus's delivery thread — no batch is
being applied meanwhile — right after a batch whose admission left no seq
below the aggregator's last one undelivered (``RedisBus.settled_low``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from dashboard.access.revocation import forget_checks, on_revoked
from dashboard.access.shared import RedisThrottleState, RedisUseGate
from dashboard.access.throttle import LoginThrottle
from dashboard.domain.events import StoredEvent
from dashboard.live.aggregator.snapshot import SnapshotWriter
from dashboard.live.cluster import SIGNAL_RELOAD, SIGNAL_REVOKED, Cluster, Lease
from dashboard.live.redis_bus import RedisBus

if TYPE_CHECKING:
    from dashboard.runtime.core import Runtime

SNAPSHOT_LEASE_S = 15.0


class ClusterSnapshots:
    """The bus subscriber (after the aggregator's feed) that writes snapshots while this process holds the lease."""

    def __init__(self, runtime: Runtime, bus: RedisBus, writer: SnapshotWriter, lease: Lease) -> None:
        self._runtime, self._bus, self._writer, self.lease = runtime, bus, writer, lease
        self._due = time.monotonic() + writer.interval_s
        self.written = 0

    def __call__(self, events: Sequence[StoredEvent]) -> None:
        low = self._bus.settled_low()
        if not self.lease.held or time.monotonic() < self._due or self._runtime.reloading:
            return
        if low < self._runtime.aggregator.last_seq:  # a seq below is still on its way: try after a later batch
            return
        if self._writer.write_now():
            self.written += 1
            self._due = time.monotonic() + self._writer.interval_s


class Membership:
    """What joining the cluster wired: the background tasks it needs and what undoes it at close."""

    def __init__(self, cluster: Cluster, snapshots: ClusterSnapshots, undo: list[Callable[[], None]]) -> None:
        self.cluster, self.snapshots, self._undo = cluster, snapshots, undo

    def tasks(self) -> list[Coroutine[Any, Any, None]]:
        return [self.cluster.run(), self.snapshots.lease.run()]

    def close(self) -> None:
        for undo in self._undo:
            undo()
        self.cluster.close()


def join_cluster(runtime: Runtime, cluster: Cluster, writer: SnapshotWriter) -> Membership:
    """Share the runtime's access state and snapshots through its cluster (``runtime.bus`` is its RedisBus)."""
    assert isinstance(runtime.bus, RedisBus)
    runtime.login_throttle = LoginThrottle(RedisThrottleState(cluster.client, cluster.prefix), clock=time.time)
    runtime.audit.gate = RedisUseGate(cluster.client, cluster.prefix)
    cluster.on_signal(SIGNAL_REVOKED, forget_checks, after_gap=True)
    cluster.on_signal(SIGNAL_RELOAD, lambda: runtime.reload(announce=False))
    snapshots = ClusterSnapshots(runtime, runtime.bus, writer, cluster.lease("snapshots", SNAPSHOT_LEASE_S))
    undo = [on_revoked(lambda: cluster.announce(SIGNAL_REVOKED)), runtime.bus.subscribe(snapshots)]
    return Membership(cluster, snapshots, undo)
