"""The sign-in throttle: guessing is slowed per address, and nobody can lock an account for its owner.

Three rules, checked before any password is hashed:

- **per address**: 10 attempts at once, then one every 6 s, whatever the names tried;
- **per address and account**: 5 attempts at once, then one every 30 s;
- **a growing delay per address**: after 5 wrong passwords in a row from one
  address, each further attempt from it must wait 1 s, 2 s, 4 s … up to
  5 minutes after the last failure; a successful sign-in from the address
  clears it.

There is deliberately no budget per account alone: a budget shared by every
address would let anyone keep the real user out (ten wrong passwords from
elsewhere made the administrator's own correct password answer 429). The
price is that many addresses guess one account in parallel, each at its own
slow pace — which argon2id's cost and the audit log's record of every
refused burst are there for.

The counters live behind ``ThrottleState``: ``MemoryThrottleState`` keeps
them in this process (bounded: the least recently used keys are forgotten);
a Redis-backed state with the same four methods shares them between
processes.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from dashboard.access.limits import RateLimiter

ADDRESS_RATE, ADDRESS_BURST = 1 / 6, 10
PAIR_RATE, PAIR_BURST = 1 / 30, 5
FREE_FAILURES = 5
FIRST_DELAY_S = 1.0
MAX_DELAY_S = 300.0
MAX_KEYS = 100_000


class ThrottleState(Protocol):
    """Where the throttle's counters live (this process, or a store shared by several)."""

    def take(self, key: str, rate: float, burst: float) -> int:
        """Take one attempt from ``key``'s budget: 0 if taken, else the whole seconds until one is available."""
        ...

    def failures(self, key: str) -> tuple[int, float]:
        """Wrong passwords in a row under ``key``, and the clock reading of the last one."""
        ...

    def fail(self, key: str) -> int:
        """One more wrong password under ``key``; the count in a row now."""
        ...

    def forget(self, key: str) -> None:
        """A good sign-in: the failures in a row under ``key`` are cleared."""
        ...


class MemoryThrottleState:
    """``ThrottleState`` in this process's memory, bounded to the most recently used keys."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = MAX_KEYS) -> None:
        self.clock = clock
        self._max_keys = max_keys
        self._buckets: dict[tuple[float, float], RateLimiter] = {}
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str, rate: float, burst: float) -> int:
        limiter = self._buckets.get((rate, burst))
        if limiter is None:
            limiter = self._buckets.setdefault((rate, burst), RateLimiter(rate, burst, self._max_keys, self.clock))
        return 0 if limiter.allow(key) else limiter.retry_after(key)

    def failures(self, key: str) -> tuple[int, float]:
        with self._lock:
            return self._failures.get(key, (0, 0.0))

    def fail(self, key: str) -> int:
        with self._lock:
            count = self._failures.get(key, (0, 0.0))[0] + 1
            self._failures[key] = (count, self.clock())
            self._failures.move_to_end(key)
            while len(self._failures) > self._max_keys:
                self._failures.popitem(last=False)
            return count

    def forget(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


@dataclass(frozen=True)
class Refusal:
    retry_after: int
    reason: str  # which rule: address, account, delay


def delay_after(failures: int) -> float:
    """The wait an address owes after ``failures`` wrong passwords in a row (0 for the first few)."""
    if failures < FREE_FAILURES:
        return 0.0
    return min(MAX_DELAY_S, FIRST_DELAY_S * 2 ** (failures - FREE_FAILURES))


class LoginThrottle:
    def __init__(self, state: ThrottleState | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.state: ThrottleState = state or MemoryThrottleState(clock)
        self._clock = clock

    @staticmethod
    def _keys(address: str, account: str) -> tuple[str, str]:
        return "a:" + address, "p:" + address + "\x00" + account.strip().lower()[:256]

    def check(self, address: str, account: str) -> Refusal | None:
        """Whether this attempt may go on to the password check; a refusal says how long to wait."""
        by_address, by_pair = self._keys(address, account)
        failures, last = self.state.failures(by_address)
        owed = delay_after(failures) - (self._clock() - last)
        if owed > 0:
            return Refusal(max(1, math.ceil(owed)), "delay")
        for key, rate, burst, reason in ((by_address, ADDRESS_RATE, ADDRESS_BURST, "address"),
                                         (by_pair, PAIR_RATE, PAIR_BURST, "account")):
            wait = self.state.take(key, rate, burst)
            if wait:
                return Refusal(wait, reason)
        return None

    def failed(self, address: str) -> None:
        self.state.fail(self._keys(address, "")[0])

    def succeeded(self, address: str) -> None:
        self.state.forget(self._keys(address, "")[0])
