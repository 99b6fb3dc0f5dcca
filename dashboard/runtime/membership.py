"""A Runtime joining its cluster: the access state and the signals shared through Redis (docs/scale.md).

Called from ``Runtime.start`` when ``--redis-url`` is set, after the bus
(which checked Redis). It swaps the process-local sign-in budgets and audit
throttle for Redis-backed ones, forwards this process's revocations to the
others and clears the check caches on theirs, and reloads the tree and roster
when another process announces a reload (after an import it applied).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from dashboard.access.revocation import forget_checks, on_revoked
from dashboard.access.shared import RedisThrottleState, RedisUseGate
from dashboard.access.throttle import LoginThrottle
from dashboard.live.cluster import SIGNAL_RELOAD, SIGNAL_REVOKED

if TYPE_CHECKING:
    from dashboard.runtime.core import Runtime


def join_cluster(runtime: Runtime) -> Callable[[], None]:
    """Share the runtime's access state through its cluster; returns what undoes the wiring at close."""
    cluster = runtime.cluster
    assert cluster is not None
    runtime.login_throttle = LoginThrottle(RedisThrottleState(cluster.client, cluster.prefix), clock=time.time)
    runtime.audit.gate = RedisUseGate(cluster.client, cluster.prefix)
    cluster.on_signal(SIGNAL_REVOKED, forget_checks, after_gap=True)
    cluster.on_signal(SIGNAL_RELOAD, lambda: runtime.reload(announce=False))
    return on_revoked(lambda: cluster.announce(SIGNAL_REVOKED))
