"""Token-bucket rate limits keyed by address, token or user name, in bounded memory.

Each key has a bucket of ``burst`` permits refilled at ``rate`` per second; a
request takes one (or ``cost``) and is refused when the bucket is empty. Only
the most recently used ``max_keys`` keys are remembered, so a flood of new
keys (addresses, guessed tokens) costs bounded memory: a forgotten key starts
again with a full bucket, which errs on the side of letting a request in.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class RateLimiter:
    def __init__(self, rate: float, burst: float, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a rate limit needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _level(self, key: str, now: float) -> float:
        permits, at = self._buckets.get(key, (self.burst, now))
        return min(self.burst, permits + (now - at) * self.rate)

    def allow(self, key: str, cost: float = 1.0) -> bool:
        """Take ``cost`` permits from ``key``'s bucket; False (and nothing taken) if it has fewer."""
        now = self._clock()
        with self._lock:
            permits = self._level(key, now)
            allowed = permits >= cost
            self._buckets[key] = (permits - cost if allowed else permits, now)
            self._buckets.move_to_end(key)
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
            return allowed

    def retry_after(self, key: str, cost: float = 1.0) -> int:
        """Whole seconds until ``key`` has ``cost`` permits again (at least 1)."""
        with self._lock:
            missing = cost - self._level(key, self._clock())
        return max(1, math.ceil(missing / self.rate))

    def __len__(self) -> int:
        return len(self._buckets)
