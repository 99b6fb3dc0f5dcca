"""The sign-in throttle (issue 17, hole 5): an attacker slows only themselves."""

from __future__ import annotations

import pytest

from dashboard.access.throttle import FREE_FAILURES, MAX_DELAY_S, LoginThrottle, MemoryThrottleState, delay_after

pytestmark = pytest.mark.unit


class Clock:
    """A clock the test moves by hand (the throttle reads time through it)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def throttle() -> tuple[LoginThrottle, Clock]:
    clock = Clock()
    return LoginThrottle(MemoryThrottleState(clock), clock), clock


def attempt(t: LoginThrottle, address: str, account: str, *, wrong: bool = True) -> int:
    """0 if the attempt went through to the password check, else the Retry-After it got."""
    refused = t.check(address, account)
    if refused is not None:
        return refused.retry_after
    if wrong:
        t.failed(address)
    else:
        t.succeeded(address)
    return 0


def test_wrong_passwords_from_everywhere_else_do_not_keep_the_owner_out() -> None:
    t, _ = throttle()
    for i in range(1000):
        attempt(t, f"10.0.{i // 250}.{i % 250}", "admin")
    for _ in range(200):
        attempt(t, "10.9.9.9", "admin")
    assert attempt(t, "192.168.1.20", "admin", wrong=False) == 0


def test_one_address_meets_a_delay_that_grows_with_its_failures() -> None:
    t, clock = throttle()
    waits = []
    for _ in range(FREE_FAILURES):
        assert attempt(t, "10.9.9.9", "admin") == 0
    for _ in range(5):
        wait = attempt(t, "10.9.9.9", "admin")
        assert wait > 0
        clock.now += wait
        assert attempt(t, "10.9.9.9", f"user{len(waits)}") == 0  # after the wait, one more try goes through
        waits.append(wait)
    assert waits == sorted(waits) and waits[-1] > waits[0]
    assert delay_after(FREE_FAILURES + 50) == MAX_DELAY_S


def test_an_address_has_a_budget_and_so_has_each_of_its_accounts() -> None:
    t, clock = throttle()
    answers = [attempt(t, "10.1.1.1", "alice", wrong=False) for _ in range(6)]
    assert answers[:5] == [0] * 5 and answers[5] > 0  # 5 for the pair (the 6th still took one of the address's)
    answers = [attempt(t, "10.1.1.1", f"user{i}", wrong=False) for i in range(6)]
    assert answers == [0, 0, 0, 0, answers[4], answers[5]] and answers[4] > 0  # 10 in all for the address
    assert attempt(t, "10.2.2.2", "alice", wrong=False) == 0  # another address is not touched
    clock.now += 60
    assert attempt(t, "10.1.1.1", "alice", wrong=False) == 0


def test_a_good_sign_in_clears_the_address_s_failures() -> None:
    t, clock = throttle()
    for _ in range(FREE_FAILURES + 1):
        attempt(t, "10.3.3.3", "bob")
    assert t.check("10.3.3.3", "bob") is not None
    clock.now += MAX_DELAY_S
    assert attempt(t, "10.3.3.3", "bob", wrong=False) == 0
    assert t.state.failures("a:10.3.3.3")[0] == 0


def test_memory_stays_bounded() -> None:
    clock = Clock()
    state = MemoryThrottleState(clock, max_keys=100)
    for i in range(1000):
        state.fail(f"a:{i}")
    assert state.failures("a:999")[0] == 1 and state.failures("a:0") == (0, 0.0)
