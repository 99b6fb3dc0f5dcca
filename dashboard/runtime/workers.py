"""``python app.py --workers N``: N cluster processes on one host sharing one port, and a supervisor that restarts them.

Each worker is an ordinary ``python app.py`` (the same arguments without
``--workers``) whose listening socket has ``SO_REUSEPORT``, so the kernel
spreads new connections over the workers; a screen's websocket stays on the
worker it reached. The workers form one cluster through PostgreSQL and Redis
exactly as processes on several hosts do (docs/scale.md), which is why
``--workers`` needs both. Chosen over uvicorn's own ``--workers``: uvicorn's
supervisor forks workers that each build the whole app from an import
string, which our start-up (lease, migration, seeding, live state) does not
fit, and it would not let the first worker seed an empty database alone.

The supervisor holds the port (a bound, not listening, ``SO_REUSEPORT``
socket: a stranger on the port is refused at once), starts the first worker
and waits for it to answer (it migrates and, on an empty database, seeds),
then starts the others. A worker that dies is started again after
``RESTART_DELAY_S``; one that exits with code 2 (a configuration error,
already printed as one line) stops them all with code 2. SIGTERM or SIGINT
stops every worker.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

import httpx

log = logging.getLogger(__name__)

WORKER_ENV = "LIANXIN_WORKER"  # set in a worker's environment: its socket shares the port
RESTART_DELAY_S = 1.0
FIRST_START_TIMEOUT_S = 3600.0  # seeding a big demo takes a while
STOP_TIMEOUT_S = 15.0


def cluster_problem(workers: int, database_url: str, redis_url: str | None) -> str | None:
    """Why ``--workers`` cannot run as asked (one line), or None."""
    if workers < 1:
        return "--workers must be at least 1"
    if workers > 1 and not redis_url:
        return "--workers needs --redis-url (or LIANXIN_REDIS_URL): the workers share their live state through Redis (docs/scale.md)"
    if workers > 1 and not database_url.startswith("postgresql"):
        return "--workers needs a PostgreSQL --database-url (postgresql+psycopg://…): SQLite serves one process (docs/scale.md)"
    return None


def worker_argv(argv: Sequence[str]) -> list[str]:
    """The command line of a worker: the supervisor's without ``--workers N``."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--workers":
            skip = True
        elif not arg.startswith("--workers="):
            out.append(arg)
    return out


def shares_port() -> bool:
    """True in a worker started by the supervisor."""
    return os.environ.get(WORKER_ENV) == "1"


class Supervisor:
    def __init__(self, script: str, argv: Sequence[str], workers: int, host: str, port: int, sock: socket.socket) -> None:
        self._command = [sys.executable, script, *worker_argv(argv)]
        self._count = workers
        self._health = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}/api/health"
        self._sock = sock  # held, not listening: the port stays ours while workers come and go
        self._procs: list[subprocess.Popen[bytes]] = []
        self._stopping = False

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self._command, env={**os.environ, WORKER_ENV: "1"})

    def _wait_first(self, proc: subprocess.Popen[bytes]) -> bool:
        deadline = time.monotonic() + FIRST_START_TIMEOUT_S
        while time.monotonic() < deadline and not self._stopping:
            if proc.poll() is not None:
                return False
            try:
                if httpx.get(self._health, timeout=2).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        return False

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        self._stopping = True

    def run(self) -> int:
        """Start the workers and keep them running until a signal; the exit code."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        first = self._spawn()
        self._procs.append(first)
        if not self._wait_first(first):
            code = first.poll()
            self._terminate()
            return 2 if code == 2 else (0 if self._stopping else 1)
        self._procs.extend(self._spawn() for _ in range(self._count - 1))
        log.info("%d workers serving, pids %s", self._count, ", ".join(str(p.pid) for p in self._procs))
        code = 0
        while not self._stopping:
            time.sleep(0.2)
            for n, proc in enumerate(self._procs):
                status = proc.poll()
                if status is None or self._stopping:
                    continue
                if status == 2:
                    log.error("worker %d (pid %d) refused to start; stopping every worker", n, proc.pid)
                    self._stopping, code = True, 2
                    break
                log.warning("worker %d (pid %d) exited with %d; starting it again", n, proc.pid, status)
                time.sleep(RESTART_DELAY_S)
                self._procs[n] = self._spawn()
        self._terminate()
        return code

    def _terminate(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for proc in self._procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._sock.close()
