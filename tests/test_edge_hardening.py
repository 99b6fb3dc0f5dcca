"""The edge answers malformed and abandoned requests briefly, and the OpenAPI document is the API (issue 17, hole 7).

A bounded schemathesis run against the OpenAPI document is part of it: no 5xx.
"""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import LiveServer

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    srv = LiveServer(tmp_path_factory.mktemp("edge7") / "lianxin.db", demo_members=300,
                     extra_args=["--no-simulate", "--body-timeout", "2", "--header-timeout", "2"]).start()
    yield srv
    srv.stop()


def tracebacks(server: LiveServer) -> int:
    return server.log_path.read_text(errors="replace").count("Traceback")


def raw(server: LiveServer, request: bytes, *, close: bool) -> bytes:
    """Send ``request`` on a plain socket; hang up at once, or read what the server answers."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(request)
        if close:
            return b""
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer:
                break
        return answer


def test_wrong_methods_are_405_not_the_html_shell(server: LiveServer) -> None:
    for path in ("/api/events", "/auth/login", "/auth/logout", "/_dash-update-component"):
        for method in ("GET", "PUT", "DELETE"):
            r = httpx.request(method, f"{server.url}{path}", timeout=30)
            assert r.status_code == 405 and r.headers["allow"] == "POST", (method, path, r.status_code)


def test_malformed_dash_callbacks_are_4xx_without_a_traceback(server: LiveServer) -> None:
    before = tracebacks(server)
    url = f"{server.url}/_dash-update-component"
    assert httpx.post(url, content=b"output=x", headers={"Content-Type": "text/plain"}, timeout=30).status_code == 415
    for body in (b"[1, 2]", b"{not json", b"{}", b'{"output": 1, "inputs": []}', b'"text"'):
        r = httpx.post(url, content=body, headers={"Content-Type": "application/json"}, timeout=30)
        assert r.status_code == 400 and "callback" in r.json()["detail"], body

    async def send_array() -> int | None:
        async with connect(f"ws://127.0.0.1:{server.port}/_dash-ws-callback", origin=server.url) as ws:  # type: ignore[arg-type]
            await ws.send("[1, 2, 3]")
            try:
                await asyncio.wait_for(ws.recv(), 30)
            except ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None
        return None

    assert asyncio.run(send_array()) == 1007
    assert httpx.get(f"{server.url}/api/health", timeout=30).status_code == 200
    assert tracebacks(server) == before


def test_an_abandoned_body_is_one_log_line_and_a_stalled_one_is_408(server: LiveServer) -> None:
    before, lines = tracebacks(server), len(server.log_path.read_text(errors="replace").splitlines())
    head = (f"POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nusername=ad").encode()
    for _ in range(5):
        raw(server, head, close=True)
    deadline = time.monotonic() + 30
    while server.log_path.read_text(errors="replace").count("left before sending its whole body") < 5:
        assert time.monotonic() < deadline, server.log_tail()
        time.sleep(0.2)
    new = server.log_path.read_text(errors="replace").splitlines()[lines:]
    assert tracebacks(server) == before and len(new) <= 6, new
    answer = raw(server, head, close=False)  # stalls: the server answers 408 after --body-timeout (2 s)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]


def until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (the socket's own timeout bounds the wait)."""
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    return answer


def test_a_slow_request_head_is_closed_and_others_are_still_served(server: LiveServer) -> None:
    """--header-timeout 2: half a request line, a head trickled a byte at a time, or nothing at all is cut off."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as half, \
            socket.create_connection(("127.0.0.1", server.port), timeout=60) as silent:
        half.sendall(b"GET /api/hea")
        assert httpx.get(f"{server.url}/api/health", timeout=30).status_code == 200, "others are served meanwhile"
        assert until_closed(half).startswith(b"HTTP/1.1 408"), "a head begun and not finished: 408, then closed"
        assert until_closed(silent) == b"", "nothing sent: closed without a word"
    head = f"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nX-Pad: {'a' * 200}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as trickle:
        sent = 0
        try:
            for byte in head:  # a byte every 0.1 s: data keeps arriving, the head is still never complete in time
                trickle.sendall(bytes([byte]))
                sent += 1
                time.sleep(0.1)
        except OSError:
            pass  # closed by the server while sending: what is checked below
        assert sent < len(head) or until_closed(trickle).startswith(b"HTTP/1.1 408")
        assert not until_closed(trickle).startswith(b"HTTP/1.1 200")


def test_kept_alive_connections_serve_many_requests_and_idle_out_without_a_408(server: LiveServer) -> None:
    """The head timer runs only while a head is arriving: between requests uvicorn's keep-alive timeout governs."""
    request = f"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        for _ in range(3):
            sock.sendall(request)
            answer = b""
            while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
                answer += sock.recv(65536)
            assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert until_closed(sock) == b"", "closed idle (keep-alive timeout), no 408 for a head never begun"


def test_the_openapi_document_has_its_security_and_every_status(server: LiveServer) -> None:
    doc = httpx.get(f"{server.url}/api/openapi.json", timeout=30).json()
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer",
                                                              "description": doc["components"]["securitySchemes"]["bearer"]["description"]}
    paths = doc["paths"]
    snapshot = paths["/api/snapshot"]["get"]
    assert {"bearer": []} in snapshot["security"] and {"401", "403", "404", "429"} <= set(snapshot["responses"])
    assert {"400", "401", "403", "413", "429", "503"} <= set(paths["/api/events"]["post"]["responses"])
    assert "409" in paths["/api/admin/imports"]["post"]["responses"]
    assert "security" not in paths["/api/health"]["get"]


def test_schemathesis_finds_no_server_error(server: LiveServer, tmp_path: Path) -> None:
    """Bounded: the documented examples and 25 fuzzed cases an operation (about 40 s here), two minutes at most.

    The admin import routes are left out: each case would start an import job and write its files.
    """
    cmd = [sys.executable, "-m", "schemathesis.cli", "run", f"{server.url}/api/openapi.json",
           "--checks", "not_a_server_error", "--phases", "examples,fuzzing", "--max-examples", "25", "--seed", "17",
           "--request-timeout", "30",
           "--header", f"Authorization: Bearer {server.admin_token}", "--exclude-path-regex", "^/api/admin/"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)  # its cache stays out of the tree
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    cases = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert cases is not None and int(cases[1]) == int(cases[2]) >= 50, run.stdout[-1500:]


def test_abandoned_uploads_free_their_import_slots(server: LiveServer) -> None:
    auth = {"Authorization": f"Bearer {server.admin_token}"}
    with httpx.Client(base_url=server.url, headers=auth, timeout=30) as admin:
        for _ in range(20):  # more than the 16 open imports allowed
            job = admin.post("/api/admin/imports")
            assert job.status_code == 200, job.text
            head = (f"PUT /api/admin/imports/{job.json()['id']}/files/members?name=m.csv HTTP/1.1\r\n"
                    f"Host: 127.0.0.1:{server.port}\r\nAuthorization: Bearer {server.admin_token}\r\n"
                    "Content-Length: 100000\r\n\r\ncode,name\r\n").encode()
            raw(server, head, close=True)
            deadline = time.monotonic() + 30
            while admin.get(f"/api/admin/imports/{job.json()['id']}").status_code != 404:
                assert time.monotonic() < deadline, "the abandoned import was not freed"
                time.sleep(0.1)
