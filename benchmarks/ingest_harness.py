"""What the ingest benchmarks share: a real server, a simulator-like client, and the plain-SQLite baseline.

The server is ``python app.py --no-simulate`` in its own process on a fresh
SQLite file. The client runs here: it draws events from the simulator's
stream model (the same mix as ``python -m dashboard simulate``), serialises
them before the clock starts, and sends them over several websocket
connections, each keeping a window of frames in flight. An event counts once
its frame's answer says it was accepted. The baseline appends the same rows
with plain ``executemany`` INSERTs into a fresh events table of the same
schema, one transaction per frame's worth of rows, in this process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard.demo.simulator import Population, StreamModel  # noqa: E402
from dashboard.ingest.ingestor import EVENT_COLUMNS, key_hash  # noqa: E402
from dashboard.store.engine import make_engine, open_store  # noqa: E402
from dashboard.store.tree import OrgTree  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    """``python app.py --no-simulate`` on a free port and a fresh database in ``workdir``.

    ``db_path`` reuses an existing (e.g. seeded) database; ``extra_args`` go to the
    server script (app.py, or a script that runs app.main with extra pages).
    """

    def __init__(
        self,
        workdir: Path,
        members: int,
        extra_args: tuple[str, ...] = (),
        db_path: Path | None = None,
        script: Path = ROOT / "app.py",
    ) -> None:
        self.db_path = db_path or workdir / "bench.db"
        self.script = script
        self.extra_args = extra_args
        self.port = _free_port()
        self.token = "bench-" + uuid.uuid4().hex
        self.members = members
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / "server.log"

    def __enter__(self) -> Server:
        env = {**os.environ, "LIANXIN_INGEST_TOKEN": self.token}
        # --public: the benchmarks' pages look without a token, as the demo does (servers are closed by
        # default); --history-days 0: an empty log, as the figures in docs/benchmarks.md were measured.
        cmd = [sys.executable, str(self.script), "--no-simulate", "--public", "--port", str(self.port),
               "--database-url", f"sqlite:///{self.db_path}", "--demo-members", str(self.members),
               "--history-days", "0", *self.extra_args]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/api/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("server did not start in 600 s")

    def __exit__(self, *_: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/ingest?token={self.token}"

    @property
    def rss_mb(self) -> float:
        assert self.proc is not None
        return rss_mb(self.proc.pid)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def simulated_events(db_path: Path, n: int, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` events from the simulator's stream model over the server's own organisation."""
    engine = make_engine(f"sqlite:///{db_path}")
    model = StreamModel(OrgTree.load(engine), Population.load(engine), seed=seed)
    events: list[dict[str, Any]] = []
    while len(events) < n:
        events.extend(model.next_batch(min(1000, n - len(events))))
    engine.dispose()
    return events


@dataclass
class Tally:
    frames: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0


class FrameSource:
    """Pre-serialised frames, reused round after round with fresh ids so every event is new."""

    def __init__(self, events: list[dict[str, Any]], batch: int) -> None:
        if batch == 1:
            self._frames = [orjson.dumps(e) for e in events]
        else:
            self._frames = [orjson.dumps(events[i : i + batch]) for i in range(0, len(events), batch)]
        self._next = 0

    def take(self) -> bytes:
        round_, i = divmod(self._next, len(self._frames))
        self._next += 1
        return self._frames[i].replace(b'"id":"sim-', b'"id":"r%d-sim-' % round_)


async def _connection(url: str, source: FrameSource, window: int, stop_at: float, tally: Tally) -> None:
    async with connect(url, compression=None, max_size=None, ping_interval=None) as ws:
        room = asyncio.Semaphore(window)
        sent = 0

        async def send() -> None:
            nonlocal sent
            while time.monotonic() < stop_at:
                await room.acquire()
                await ws.send(source.take().decode())
                sent += 1

        sender = asyncio.create_task(send())
        answered = 0
        while not sender.done() or answered < sent:
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except TimeoutError:
                continue
            answer = orjson.loads(raw)
            answered += 1
            tally.frames += 1
            tally.accepted += answer["accepted"]
            tally.duplicates += answer["duplicates"]
            tally.rejected += len(answer["rejected"]) + (1 if "error" in answer else 0)
            room.release()
        await sender


def run_clients(url: str, source: FrameSource, connections: int, window: int, seconds: float) -> tuple[Tally, float]:
    """Send for ``seconds``, then wait for the last answers; the tally and the seconds from start to last answer."""
    tally = Tally()

    async def main() -> float:
        start = time.monotonic()
        await asyncio.gather(*(_connection(url, source, window, start + seconds, tally) for _ in range(connections)))
        return time.monotonic() - start

    return tally, asyncio.run(main())


def baseline_rows(db_path: Path, events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The rows the events become, codes resolved to ids as the server does."""
    engine = make_engine(f"sqlite:///{db_path}")
    tree = OrgTree.load(engine)
    with engine.connect() as conn:
        member_ids = dict(conn.exec_driver_sql("SELECT code, id FROM members").all())
    engine.dispose()
    now_ms = int(time.time() * 1000)
    return [
        (key_hash(e["id"]), e["id"], e["type"], now_ms, tree.by_code[e["org"]], member_ids.get(e["member"]),
         orjson.dumps(e["data"]).decode())
        for e in events
    ]


def plain_append_rate(rows: list[tuple[Any, ...]], rows_per_commit: int, seconds: float) -> float:
    """Rows per second of plain executemany INSERTs + COMMIT into a fresh events table (same schema).

    Only the INSERTs and COMMITs are timed, for up to ``seconds``; the rows are
    renamed round after round (outside the clock) so the unique key stays unique.
    """
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_store(f"sqlite:///{tmp}/baseline.db")
        sql = f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"
        raw = engine.raw_connection()
        cur = raw.cursor()
        done, timed, round_ = 0, 0.0, 0
        while timed < seconds:
            for i in range(0, len(rows), rows_per_commit):
                chunk = [(key_hash(f"r{round_}-{r[1]}"), f"r{round_}-{r[1]}", *r[2:]) for r in rows[i : i + rows_per_commit]]
                start = time.perf_counter()
                cur.executemany(sql, chunk)
                raw.commit()
                timed += time.perf_counter() - start
                done += len(chunk)
                if timed >= seconds:
                    break
            round_ += 1
        raw.close()
        engine.dispose()
    return done / timed


def main(name: str, *, batch: int, window: int, events: int, baseline_rows_per_commit: int, doc: str) -> None:
    """Parse the command line, run one benchmark, print its JSON object."""
    p = argparse.ArgumentParser(description=doc)
    p.add_argument("--seconds", type=float, default=20.0, help="how long to send (default %(default)s)")
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--window", type=int, default=window, help="frames in flight per connection (default %(default)s)")
    p.add_argument("--members", type=int, default=50_000, help="size of the demo organisation (default %(default)s)")
    p.add_argument("--events", type=int, default=events, help="distinct simulated events, reused with new ids")
    if batch > 1:
        p.add_argument("--batch", type=int, default=batch, help="events per frame (default %(default)s)")
    a = p.parse_args()
    batch = getattr(a, "batch", 1)
    with tempfile.TemporaryDirectory() as tmp, Server(Path(tmp), a.members) as server:
        simulated = simulated_events(server.db_path, a.events)
        source = FrameSource(simulated, batch)
        rows = baseline_rows(server.db_path, simulated)
        # The baseline runs before and after the server's run, so a machine busy with
        # something else for a while weighs on both sides of the ratio alike.
        baseline_seconds = min(a.seconds, 10.0) / 2
        baselines = [plain_append_rate(rows, baseline_rows_per_commit, baseline_seconds)]
        rss_before = server.rss_mb
        tally, elapsed = run_clients(server.ws_url, source, a.connections, a.window, a.seconds)
        rss_after = server.rss_mb
        baselines.append(plain_append_rate(rows, baseline_rows_per_commit, baseline_seconds))
    baseline = sum(baselines) / len(baselines)
    rate = tally.accepted / elapsed
    print(json.dumps({
        "benchmark": name,
        "store": "sqlite",
        "batch": batch,
        "connections": a.connections,
        "window": a.window,
        "members": a.members,
        "seconds": round(elapsed, 2),
        "frames_answered": tally.frames,
        "accepted": tally.accepted,
        "duplicates": tally.duplicates,
        "rejected": tally.rejected,
        "accepted_per_s": round(rate),
        "baseline": f"plain executemany INSERT into SQLite, one COMMIT per {baseline_rows_per_commit} rows",
        "baseline_per_s": round(baseline),
        "baseline_runs_per_s": [round(b) for b in baselines],
        "ratio_to_baseline": round(rate / baseline, 3),
        "server_rss_mb": {"before": round(rss_before), "after": round(rss_after)},
    }))
