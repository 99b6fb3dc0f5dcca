"""Access state a cluster's processes share through Redis: sign-in budgets and the audit throttle.

A process alone keeps these in memory (``MemoryThrottleState``,
``MemoryUseGate``); the processes of a cluster (docs/scale.md) keep them in
their Redis so a limit hit at one process holds at the others and a token's
use is written to the audit log once an interval by the whole cluster, not
once per process.

- A sign-in budget is a token bucket in a hash (``p`` permits, ``t`` the time
  it was last taken from), updated by one Lua script so two processes
  taking at once never both get the last permit; it expires once full again.
- Wrong passwords in a row are a hash (``n``, ``t``) with a day's expiry.
- The audit throttle is ``SET key NX PX interval``: whoever sets it writes the entry.

The clock is the wall clock (``time.time``): monotonic clocks of two
processes have nothing in common. When Redis does not answer, a sign-in is
refused for ``UNAVAILABLE_RETRY_S`` (a throttle that cannot count must not
let guessing through) and a token use is written to the audit log (too many
entries rather than none).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

import redis

log = logging.getLogger(__name__)

UNAVAILABLE_RETRY_S = 5
FAILURES_TTL_S = 24 * 3600

_TAKE = """
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local held = redis.call('HMGET', KEYS[1], 'p', 't')
local permits = tonumber(held[1]) or burst
local at = tonumber(held[2]) or now
permits = math.min(burst, permits + math.max(0, now - at) * rate)
local wait = 0
if permits >= 1 then permits = permits - 1 else wait = math.ceil((1 - permits) / rate) end
redis.call('HSET', KEYS[1], 'p', tostring(permits), 't', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - permits) / rate * 1000) + 1000)
return wait
"""

_FAIL = """
local count = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 't', ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return count
"""


def _reason(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class RedisThrottleState:
    """``ThrottleState`` (dashboard/access/throttle.py) in Redis, shared by every process of a cluster."""

    def __init__(self, client: redis.Redis, prefix: str, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._prefix = prefix + ":throttle:"
        self.clock = clock
        self._take = client.register_script(_TAKE)
        self._fail = client.register_script(_FAIL)

    def _key(self, key: str) -> str:
        return self._prefix + hashlib.sha256(key.encode()).hexdigest()[:32]

    def take(self, key: str, rate: float, burst: float) -> int:
        try:
            return int(self._take(keys=[self._key(f"{rate}:{burst}:{key}")], args=[rate, burst, self.clock()]))
        except redis.RedisError as exc:
            log.warning("sign-in refused: the shared throttle in Redis does not answer (%s)", _reason(exc))
            return UNAVAILABLE_RETRY_S

    def failures(self, key: str) -> tuple[int, float]:
        try:
            count, at = self._client.hmget(self._key("f:" + key), ["n", "t"])
        except redis.RedisError as exc:
            log.warning("the shared throttle in Redis does not answer (%s)", _reason(exc))
            return 0, 0.0
        return (int(count), float(at)) if count is not None and at is not None else (0, 0.0)

    def fail(self, key: str) -> int:
        try:
            return int(self._fail(keys=[self._key("f:" + key)], args=[self.clock(), FAILURES_TTL_S]))
        except redis.RedisError as exc:
            log.warning("a wrong password not counted: the shared throttle in Redis does not answer (%s)", _reason(exc))
            return 0

    def forget(self, key: str) -> None:
        try:
            self._client.delete(self._key("f:" + key))
        except redis.RedisError as exc:
            log.warning("failures not cleared: the shared throttle in Redis does not answer (%s)", _reason(exc))


class RedisUseGate:
    """The audit throttle's ``UseGate`` (dashboard/access/audit.py) in Redis: one entry an interval for the cluster."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix + ":audit-use:"

    def first(self, key: tuple[Any, ...], interval_s: float) -> bool:
        name = self._prefix + hashlib.sha256(repr(key).encode()).hexdigest()[:32]
        try:
            return bool(self._client.set(name, 1, nx=True, px=max(1, int(interval_s * 1000))))
        except redis.RedisError as exc:
            log.warning("token use written unthrottled: the audit throttle in Redis does not answer (%s)", _reason(exc))
            return True
