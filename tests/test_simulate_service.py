"""``python -m dashboard simulate`` as a service's neighbour: it stops when told, and a rate limit slows it down
rather than ending it (issue 21 item 7, issue 14 item 5)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from tests.conftest import LiveServer
from tests.test_simulator import simulate_cli, stored_sim_events

pytestmark = pytest.mark.live

FRAMES_PER_S_LIMIT = 20


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose ingest takes at most 20 frames a second per token (40 at once)."""
    path = tmp_path_factory.mktemp("limited") / "lianxin.db"
    server = LiveServer(path, extra_args=["--no-simulate", "--ingest-rate-limit", str(FRAMES_PER_S_LIMIT)], demo_members=300)
    server.start()
    yield server
    server.stop()


def test_duration_is_seconds_of_sending_not_rate_times_duration_events(limited_server: LiveServer) -> None:
    """--rate 1,000,000 --duration 2 cannot send two million events in two seconds here: it stops anyway."""
    done = simulate_cli(limited_server, "--rate", "1000000", "--duration", "2", "--batch", "50", "--seed", "3")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert 0 < summary["sent"] < 2_000_000, summary
    assert summary["sending_s"] >= 2.0, summary  # it sent for the time asked …
    assert summary["sending_s"] < 2.0 + 8.0 * summary["rate_limited"] + 2.0, summary  # … and stopped then (waits included)
    assert summary["unacknowledged"] == 0
    assert summary["sent"] == summary["accepted"] + summary["duplicates"] + summary["rejected"]


def test_a_rate_limit_close_slows_the_client_down_and_it_finishes(limited_server: LiveServer) -> None:
    # 4,000 events/s in frames of 50 is 80 frames/s: four times the server's limit, past its burst of 40.
    done = simulate_cli(limited_server, "--rate", "4000", "--events", "6000", "--batch", "50", "--seed", "4")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["rate_limited"] >= 1, summary
    assert summary["final_rate"] < 4000, summary
    assert summary["sent"] == 6000 == summary["accepted"] + summary["duplicates"], summary
    assert summary["rejected"] == 0 and summary["unacknowledged"] == 0, summary
    assert stored_sim_events(limited_server.db_url, summary["run"]) == (6000, 6000), "each event stored exactly once"


def test_when_it_gives_up_it_names_the_rate_limit_and_prints_its_summary(limited_server: LiveServer) -> None:
    from dashboard.demo.client import SimulationError, simulate
    from dashboard.demo.simulator import model_from_store
    from dashboard.store.engine import open_store

    engine = open_store(limited_server.db_url)
    try:
        model = model_from_store(engine, seed=5)
    finally:
        engine.dispose()
    with pytest.raises(SimulationError) as caught:
        asyncio.run(simulate(limited_server.ws_ingest, model, rate=5000, duration=None, events=20_000, batch=20,
                             token=limited_server.token, max_rate_limited=0))  # fmt: skip
    message = str(caught.value)
    assert "rate limit" in message and "1008" in message and "--token" not in message, message
    assert caught.value.summary is not None and caught.value.summary["rate_limited"] == 1


def test_simulate_needs_a_duration_or_a_count(limited_server: LiveServer) -> None:
    done = simulate_cli(limited_server, "--rate", "100")
    assert done.returncode == 2
    assert "--duration" in done.stderr and "--events" in done.stderr and "Traceback" not in done.stderr
