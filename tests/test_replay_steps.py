"""How often a replaying screen steps: four times a second while a step is cheap, less often (each step
covering more of the period) once a step would keep more than half a core busy."""

from __future__ import annotations

import pytest

from callbacks.replay import MAX_BUSY, STEP_S, rest_after

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("busy", "elapsed", "rest"),
    [
        (0.004, 0.010, STEP_S - 0.010),  # a cheap step: the rest of the quarter second
        (0.100, 0.120, STEP_S - 0.120),  # still within half of the quarter second
        (0.400, 0.450, 0.400),  # a costly step: as long a rest as the work took
        (0.300, 0.300, 0.300),
    ],
)
def test_rest_keeps_a_replay_to_half_a_core(busy: float, elapsed: float, rest: float) -> None:
    assert rest_after(busy, elapsed) == pytest.approx(rest)
    assert busy / (elapsed + rest_after(busy, elapsed)) <= MAX_BUSY + 1e-9
