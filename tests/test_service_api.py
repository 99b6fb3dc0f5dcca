"""Running it like a service (issue 21): readiness, the truth about a store that is away, restarts that
restore the live state from a snapshot, and origins normalised alike in Lianxin's and Dash's checks."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from callbacks.live import GRANT_CHECK_S
from dashboard.api.edge import normalise_origin, origin_problem
from dashboard.live.screen_client import ScreenClient, find_ticket, page_layout, stream_callback_id
from tests.conftest import ROOT, LiveServer
from tests.db_gate import DbGate

pytestmark = pytest.mark.api


def wait_until_true(predicate: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"not true within {timeout_s} s"
        time.sleep(0.2)


def test_health_and_ready_answer_at_once(live_server: LiveServer) -> None:
    health = httpx.get(live_server.url + "/api/health", timeout=10)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    ready = httpx.get(live_server.url + "/api/ready", timeout=10)
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready" and body["not_ready"] == {}
    assert ready.headers["cache-control"] == "no-store"


def test_while_it_starts_the_port_refuses_at_once_and_never_hangs(tmp_path: Path) -> None:
    """Before the live state is built a probe is refused, not left waiting in the listen backlog."""
    server = LiveServer(tmp_path / "lianxin.db", demo_members=2000)
    server.launch()
    refused = 0
    try:
        while True:
            assert server.proc is not None and server.proc.poll() is None, server.log_tail()
            try:
                answer = httpx.get(server.url + "/api/ready", timeout=httpx.Timeout(10.0, connect=10.0))
            except httpx.ConnectError:
                refused += 1
                time.sleep(0.1)
                continue
            except httpx.TimeoutException:
                pytest.fail("a request to a starting server hung instead of being refused")
            assert answer.status_code == 200, answer.text
            break
        assert refused > 0, "the server was never seen starting"
        assert "Lianxin serving at" in server.log_path.read_text(errors="replace")
    finally:
        server.stop()


# -- a database that refuses connections -------------------------------------------------


@pytest.fixture
def gated_server(postgres_url: str, tmp_path: Path) -> Iterator[tuple[LiveServer, DbGate]]:
    """A server on PostgreSQL reached through a gate the test can close."""
    parts = urlsplit(postgres_url)
    gate = DbGate((parts.hostname or "127.0.0.1", parts.port or 5432)).open()
    netloc = f"{parts.username}@127.0.0.1:{gate.port}" if parts.username else f"127.0.0.1:{gate.port}"
    url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    server = LiveServer(tmp_path / "unused.db", extra_args=["--no-simulate", "--database-url", url], demo_members=200)
    server.start()
    yield server, gate
    server.stop()
    gate.close()


def secrets_of(url: str, gate: DbGate) -> list[str]:
    """What no client may read: the database's host, ports, user and name."""
    parts = urlsplit(url)
    return [s for s in {"127.0.0.1:", str(gate.port), "5432", parts.username or "postgres", "psycopg", "postgresql",
                        "connection refused", parts.path.strip("/")} if s]  # fmt: skip


def assert_store_unavailable(response: httpx.Response, forbidden: list[str]) -> None:
    assert response.status_code == 503, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    assert int(response.headers["retry-after"]) >= 1
    body = response.json()
    assert body["detail"] and "unavailable" in body["detail"]
    for secret in forbidden:
        assert secret.lower() not in response.text.lower(), f"{secret!r} reached the client: {response.text}"


async def ws_ingest_close(url: str, token: str, frame: dict | None = None) -> tuple[int | None, str, list[str]]:
    """Connect, maybe send a frame; the close code and reason and whatever was answered."""
    answers: list[str] = []
    try:
        async with connect(f"{url}?token={token}", open_timeout=10) as ws:
            if frame is not None:
                await ws.send(json.dumps(frame))
            while True:
                answers.append(str(await asyncio.wait_for(ws.recv(), 15)))
                if frame is not None:
                    return None, "", answers
    except ConnectionClosed as exc:
        return (exc.rcvd.code if exc.rcvd else None), (exc.rcvd.reason if exc.rcvd else ""), answers
    return None, "", answers


def test_a_database_that_refuses_gets_503_json_everywhere_and_names_nothing(gated_server: tuple[LiveServer, DbGate]) -> None:
    server, gate = gated_server
    database_url = server.extra_args[-1]
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    top = httpx.get(server.url + "/api/snapshot", timeout=10).json()["org"]
    assert httpx.get(server.url + "/api/ready", timeout=10).status_code == 200
    display = subprocess.run([sys.executable, "-m", "dashboard", "token", "create", "--role", "display", "--database-url", database_url],
                             cwd=ROOT, capture_output=True, text=True, timeout=120).stdout.strip()  # fmt: skip
    ticket = find_ticket(asyncio.run(page_layout(server.url, "/", f"token={display}")))
    callback_id = asyncio.run(stream_callback_id(server.url))
    gate.close()
    forbidden = secrets_of(database_url, gate)

    # A wall opened with a display token keeps its frames: its grant cannot be re-checked, nor revoked, meanwhile.
    screen = asyncio.run(ScreenClient(server.url, ticket, callback_id).run(GRANT_CHECK_S + 4))
    assert screen.received_ms and screen.received_ms[-1] - screen.received_ms[0] > (GRANT_CHECK_S + 1) * 1000, screen.received_ms

    ready = httpx.get(server.url + "/api/ready", timeout=10)
    assert ready.status_code == 503 and ready.json()["not_ready"]["store"] == "unreachable", ready.text
    assert httpx.get(server.url + "/api/health", timeout=10).status_code == 200, "liveness does not ask the store"
    assert httpx.get(server.url + "/api/snapshot", timeout=10).status_code == 200, "the live state still answers"

    event = {"id": "refused-1", "type": "like", "org": top}
    # a token not seen before must be looked up in the store: 503, not 500 with a traceback
    assert_store_unavailable(httpx.post(server.url + "/api/events", json=[event], timeout=30,
                                        headers={"Authorization": "Bearer lx_not_seen_before"}), forbidden)  # fmt: skip
    # a known token, and the commit fails
    assert_store_unavailable(httpx.post(server.url + "/api/events", json=[event], timeout=30,
                                        headers={"Authorization": f"Bearer {server.token}"}), forbidden)  # fmt: skip
    assert_store_unavailable(httpx.get(server.url + f"/api/members?org={top}", headers=admin, timeout=30), forbidden)

    code, reason, _ = asyncio.run(ws_ingest_close(server.ws_ingest, "lx_not_seen_before"))
    assert code == 1013 and "unavailable" in reason, (code, reason)
    code, reason, answers = asyncio.run(ws_ingest_close(server.ws_ingest, server.token, {"events": [event]}))
    assert answers, (code, reason)
    answer = json.loads(answers[0])
    assert answer["accepted"] == 0 and "unavailable" in answer["error"], answer
    assert not any(s.lower() in answers[0].lower() for s in forbidden), answers[0]

    gate.open()  # the database is back: ready again, and events are taken, without a restart
    wait_until_true(lambda: httpx.get(server.url + "/api/ready", timeout=10).status_code == 200, timeout_s=60)
    taken = httpx.post(server.url + "/api/events", json=[event], headers={"Authorization": f"Bearer {server.token}"}, timeout=30)
    assert taken.status_code == 200 and taken.json()["accepted"] == 1, taken.text
    log = server.log_path.read_text(errors="replace")
    assert str(gate.port) in log, "the log keeps the database's own message"


# -- restarts ----------------------------------------------------------------------------------


def send_likes(server: LiveServer, org: str, n: int, prefix: str) -> None:
    events = [{"id": f"{prefix}-{i}", "type": "like", "org": org} for i in range(n)]
    r = httpx.post(server.url + "/api/events", json=events, headers={"Authorization": f"Bearer {server.token}"}, timeout=30)
    assert r.json()["accepted"] == n, r.text


def test_a_restart_restores_the_live_state_from_a_snapshot_and_equals_it(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "lianxin.db", demo_members=300).start()
    try:
        top = httpx.get(server.url + "/api/snapshot", timeout=10).json()["org"]
        send_likes(server, top, 500, "before-stop")
        before = httpx.get(server.url + "/api/snapshot", timeout=10).json()
        server.stop()  # a clean stop writes a last snapshot
        server.start()
        log = server.log_path.read_text(errors="replace")
        assert re.search(r"live state restored from the snapshot at seq \d+ plus 0 events", log), log[-2000:]
        after = httpx.get(server.url + "/api/snapshot", timeout=10).json()
        assert after["events_total"] == before["events_total"] and after["members"] == before["members"]

        send_likes(server, top, 300, "before-kill")
        server.kill()  # kill -9: the snapshot written at the last start, plus the events after it
        server.start()
        log = server.log_path.read_text(errors="replace")
        assert re.findall(r"restored from the snapshot at seq \d+ plus (\d+) events", log)[-1] != "0"
        again = httpx.get(server.url + "/api/snapshot", timeout=10).json()
        assert again["events_total"] == before["events_total"] + 300
    finally:
        server.stop()


# -- origins behind a reverse proxy --------------------------------------------------------------


def test_origins_are_normalised_and_unmatchable_ones_named() -> None:
    assert normalise_origin("HTTP://Wall.Example.org:80/") == "http://wall.example.org"
    assert normalise_origin("https://wall.example.org:443/path") == "https://wall.example.org"
    assert normalise_origin("http://wall.example.org:8080/") == "http://wall.example.org:8080"
    assert origin_problem("http://wall.example.org:8080/") is None
    assert "not an origin" in (origin_problem("wall.example.org") or "")
    assert "wildcard" in (origin_problem("https://*.example.org") or "")


def test_a_trailing_slash_in_allowed_origins_lets_the_browser_socket_in(tmp_path: Path) -> None:
    proxy_origin = "http://proxy.example.org:9000"
    server = LiveServer(tmp_path / "lianxin.db", demo_members=200,
                        extra_args=["--no-simulate", "--allowed-origins", f"{proxy_origin}/,wall.example.org"]).start()  # fmt: skip
    try:
        async def dash_socket(origin: str) -> bool:
            try:
                async with connect(f"ws://127.0.0.1:{server.port}/_dash-ws-callback", origin=origin, open_timeout=10):  # type: ignore[arg-type]
                    return True
            except Exception:
                return False

        assert asyncio.run(dash_socket(proxy_origin)), "the allowed origin was refused by one of the two checks"
        assert not asyncio.run(dash_socket("http://elsewhere.example.org")), "a foreign origin must stay refused"
        log = server.log_path.read_text(errors="replace")
        assert "allowed origin 'wall.example.org' can never match" in log, log[-2000:]
        assert f"allowed origin '{proxy_origin}/'" not in log
    finally:
        server.stop()
