"""Shared fixtures: a live Lianxin server in a subprocess, PostgreSQL, headless Chromium.

Tests talk to real parts: ``python app.py`` on a free port with a real SQLite
file, the PostgreSQL and Redis of this machine, Debian's Chromium driven by
Playwright. Tests that need a service skip with the reason when it is absent,
unless ``LIANXIN_REQUIRE_SERVICES=1`` (CI), where they fail instead.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_INGEST_TOKEN = "test-ingest-" + uuid.uuid4().hex
TEST_ADMIN_TOKEN = "test-admin-" + uuid.uuid4().hex
POSTGRES_URL = os.environ.get("LIANXIN_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("LIANXIN_TEST_REDIS", "redis://127.0.0.1:6379/0")
CHROMIUM = os.environ.get("LIANXIN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def services_required() -> bool:
    return os.environ.get("LIANXIN_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip with a visible reason, or fail when CI requires the service."""
    if services_required():
        pytest.fail(f"{reason} (LIANXIN_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """``python app.py`` in a subprocess on a free port, with kill -9 and restart on the same database."""

    def __init__(
        self,
        db_path: Path,
        extra_args: list[str] | None = None,
        demo_members: int = 2000,
        history_days: int | None = 0,
        public: bool = True,
    ) -> None:
        """``history_days``: the past seeded with the demo (0: none, as tests that count from zero need; None: app.py's default)."""
        self.db_url = f"sqlite:///{db_path}"
        self.history_days = history_days
        self.port = free_port()
        self.extra_args = extra_args or ["--no-simulate"]
        # Servers are closed by default; tests of the public view run one that is explicitly --public.
        self.public = public and "--no-anonymous" not in self.extra_args
        self.demo_members = demo_members
        self.log_path = db_path.with_suffix(".log")
        self.proc: subprocess.Popen[bytes] | None = None
        self.token = TEST_INGEST_TOKEN
        self.admin_token = TEST_ADMIN_TOKEN

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_ingest(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/ingest"

    def start(self, timeout: float = 120.0) -> LiveServer:
        self.launch()
        return self.wait_started(timeout)

    def launch(self) -> None:
        """Start the process and return at once (``wait_started`` waits for it to answer)."""
        env = {**os.environ, "LIANXIN_INGEST_TOKEN": self.token, "LIANXIN_ADMIN_TOKEN": self.admin_token, "PYTHONUNBUFFERED": "1"}
        cmd = [
            sys.executable,
            str(ROOT / "app.py"),
            "--port",
            str(self.port),
            "--database-url",
            self.db_url,
            "--demo-members",
            str(self.demo_members),
            *([] if self.history_days is None else ["--history-days", str(self.history_days)]),
            *self.extra_args,
            *(["--public"] if self.public else []),
        ]
        log = open(self.log_path, "ab")  # noqa: SIM115 - the server process writes to it for its whole life
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def wait_started(self, timeout: float = 120.0) -> LiveServer:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not answer /api/health within {timeout}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """kill -9: no shutdown hooks, no flushing — what a crash looks like."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> LiveServer:
        self.stop()
        return self.start()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server shared by one test module (2,000-member demo organisation, simulator off)."""
    server = LiveServer(tmp_path_factory.mktemp("live") / "lianxin.db").start()
    yield server
    server.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server of the test's own, for tests that kill or restart it."""
    server = LiveServer(tmp_path / "lianxin.db").start()
    yield server
    server.stop()


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    """A PostgreSQL URL on a schema of its own, dropped afterwards (skips, or fails in CI, without PostgreSQL)."""
    from sqlalchemy import create_engine, text

    schema = "lx_test_" + uuid.uuid4().hex[:12]
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # any connection failure means: no PostgreSQL here
        admin.dispose()
        skip_or_fail(f"PostgreSQL not reachable at {POSTGRES_URL}: {str(exc).splitlines()[0]}")
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL on a schema of the test's own, dropped afterwards."""
    with postgres_schema() as url:
        yield url


def reachable_redis() -> str:
    """The Redis of this machine (LIANXIN_TEST_REDIS); others use it too, so each test keeps to keys of its own."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        skip_or_fail(f"Redis not reachable at {REDIS_URL}: {str(exc).splitlines()[0]}")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def redis_url() -> str:
    return reachable_redis()


def wait_until(page: Any, expression: str, timeout_s: float = 30) -> None:
    """Poll a page expression until it is true.

    Not Playwright's ``wait_for_function``: it polls with eval, which the
    pages' Content-Security-Policy forbids (docs/security.md).
    """
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(f"() => {expression}"):
        assert time.monotonic() < deadline, f"not true within {timeout_s} s: {expression}"
        page.wait_for_timeout(100)


@pytest.fixture(autouse=True, scope="session")
def _asyncio_run_beside_playwright() -> Iterator[None]:
    """Let tests call asyncio.run while the session's Playwright holds this thread's event loop.

    Playwright's sync API keeps an event loop running in the main thread for
    as long as the browser lives; asyncio.run refuses to start inside it. In
    that case the coroutine runs on a fresh loop in a worker thread instead.
    """
    original = asyncio.run

    def run(main, **kwargs):  # type: ignore[no-untyped-def]
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return original(main, **kwargs)
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(original, main, **kwargs).result()

    asyncio.run = run
    yield
    asyncio.run = original


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """Debian's headless Chromium, driven by Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"Chromium not found at {CHROMIUM} (scripts/test installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# Test tiers (pyproject.toml's markers): a test's tier follows from the real parts it uses.
# A test that marks itself keeps its own tier; the others are tiered by their fixtures and
# by the files listed here, whose tests start servers or browsers without a fixture, and tests
# of the command line are live: they run it as a process.
TIERS = ("unit", "heavy", "api", "live", "browser", "services")
TIER_OF_FIXTURE = {
    "browser": "browser",
    "postgres_url": "services",
    "redis_url": "services",
    "live_server": "live",
    "fresh_server": "live",
}
TIER_OF_FILE = {
    "test_app_start.py": "live",
    "test_map_regions_start.py": "live",
    "test_security_wire.py": "live",
    "test_security_attacks.py": "live",
    "test_simulator.py": "live",
    "test_ingest.py": "live",
    "test_import_live.py": "live",
    "test_tablet_links.py": "live",
}
# In memory like the unit tests, but seconds of CPU each: generating and replaying months of demo
# history. Out of `-m unit` so that stays seconds; `-m heavy` runs them (and .ci/run, which runs every
# tier). Listed by test name, per file; a renamed test falls back to unit. A module that marks itself
# (test_report.py's pytestmark = unit) keeps its own tier: its report drawing is for its owner to move.
HEAVY_TESTS = {
    "test_history.py": {
        "test_history_for_a_database_with_events_is_refused_unless_forced",
        "test_first_second_kpis_after_seeding_are_believable",
        "test_history_then_live_across_midnight_and_a_month_end_counted_once",
        "test_first_frame_after_app_start_shows_a_living_organisation",
        "test_shares_at_50000_members_are_within_the_stated_bounds",
        "test_same_seed_same_history_other_seed_other_history",
        "test_every_history_event_passes_the_ingest_checks",
    },
}
TIER_ORDER = ("browser", "services", "live", "api", "heavy", "unit")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(item.get_closest_marker(tier) for tier in TIERS):
            continue
        found = {TIER_OF_FIXTURE[f] for f in getattr(item, "fixturenames", ()) if f in TIER_OF_FIXTURE}
        if "browser" in item.path.name:
            found.add("browser")
        if item.path.name in TIER_OF_FILE:
            found.add(TIER_OF_FILE[item.path.name])
        if getattr(item, "originalname", item.name) in HEAVY_TESTS.get(item.path.name, ()):
            found.add("heavy")
        if "cli" in item.name.split("_") or "command_line" in item.name:
            found.add("live")  # runs `python -m dashboard …` as a real process
        tier = next((t for t in TIER_ORDER if t in found), "unit")
        item.add_marker(getattr(pytest.mark, tier))
