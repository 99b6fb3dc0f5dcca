"""Attacks on a live server, on the wire: origins, tokens, scopes, floods, injections, sizes, headers, sessions."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from dashboard.access.scopes import public_count
from dashboard.access.tokens import create_token
from dashboard.live.screen_client import ScreenClient, find_ticket, page_layout, stream_callback_id
from dashboard.store.engine import open_store
from tests.conftest import LiveServer

FOREIGN = "http://evil.example"
INJECTIONS = ["' OR '1'='1", "'; DROP TABLE members; --", '" OR 1=1 --', "%", "_", "\\", "1; SELECT * FROM users", "😀" * 50]
PAGES_OUTPUT = ".._pages_content.children..._pages_store.data.."


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A server with tight limits: 20 ingest frames a second, websockets closed after 2 idle seconds."""
    server = LiveServer(
        tmp_path_factory.mktemp("edge") / "lianxin.db",
        extra_args=["--no-simulate", "--ingest-rate-limit", "20", "--ws-idle-timeout", "2",
                    "--allowed-origins", "https://wall.example.org", "--frame-origins", "https://portal.example.org"],
        demo_members=300,
    ).start()
    yield server
    server.stop()


def db(server: LiveServer, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.db_url.removeprefix("sqlite:///")) as conn:
        return conn.execute(sql).fetchall()


def first_admin_password(server: LiveServer) -> str:
    found = re.findall(r"with the password (\S+) ", server.log_path.read_text())
    assert len(found) == 1, "the first-start password must be printed exactly once"
    return found[0]


def token(server: LiveServer, **kwargs: Any) -> str:
    return create_token(open_store(server.db_url), **kwargs)


def province(server: LiveServer) -> tuple[str, str]:
    """(code, path) of the first level-1 organisation."""
    code, path = db(server, "SELECT code, path FROM organisations WHERE level = 1 ORDER BY id")[0]
    return code, path


def layout(client: httpx.Client, path: str, search: str = "") -> httpx.Response:
    """The page Dash renders for ``path?search`` for this client (its cookies, and the CSRF header Dash's page sends)."""
    body = {
        "output": PAGES_OUTPUT,
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                   {"id": "_pages_location", "property": "search", "value": search}],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }
    csrf = client.cookies.get("_csrf_token")
    return client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": csrf} if csrf else {})


def signed_in(server: LiveServer, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=30)
    r = client.post("/auth/login", data={"username": username, "password": password})
    assert r.status_code == 303 and "lx_session" in client.cookies, r.text
    return client


async def ws_refusal(url: str, origin: str | None) -> int | None:
    """The HTTP status refusing the handshake, or None if the websocket opened."""
    try:
        async with connect(url, origin=origin, open_timeout=10) as ws:  # type: ignore[arg-type]
            await ws.close()
            return None
    except InvalidStatus as refused:
        return refused.response.status_code


async def closed_with(url: str, frames: list[str], origin: str | None = None, wait_s: float = 30) -> int | None:
    """Send frames and read until the server closes; its close code."""
    try:
        async with connect(url, origin=origin, max_size=None) as ws:  # type: ignore[arg-type]
            for frame in frames:
                await ws.send(frame)
            while True:
                await asyncio.wait_for(ws.recv(), timeout=wait_s)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    except TimeoutError:
        return None


# --- origins -----------------------------------------------------------------------


def test_a_foreign_origin_is_refused_on_every_websocket(live_server: LiveServer, edge: LiveServer) -> None:
    dash_ws = f"ws://127.0.0.1:{live_server.port}/_dash-ws-callback"
    ingest_ws = f"{live_server.ws_ingest}?token={live_server.token}"
    assert asyncio.run(ws_refusal(dash_ws, FOREIGN)) == 403
    assert asyncio.run(ws_refusal(ingest_ws, FOREIGN)) == 403
    assert asyncio.run(ws_refusal(dash_ws, "null")) == 403
    assert asyncio.run(ws_refusal(dash_ws, None)) == 403, "a browser always sends Origin: without one it is not a page of ours"
    # The page's own origin, and a producer without a browser, get through.
    assert asyncio.run(ws_refusal(dash_ws, live_server.url)) is None
    assert asyncio.run(ws_refusal(ingest_ws, None)) is None
    # An origin configured with --allowed-origins (a reverse proxy's public name) gets through too.
    assert asyncio.run(ws_refusal(f"ws://127.0.0.1:{edge.port}/_dash-ws-callback", "https://wall.example.org")) is None
    assert asyncio.run(ws_refusal(f"ws://127.0.0.1:{edge.port}/_dash-ws-callback", "https://wall.example.org.evil.example")) == 403


# --- tokens --------------------------------------------------------------------------


def test_expired_and_revoked_tokens_are_refused_everywhere(live_server: LiveServer) -> None:
    code, _ = province(live_server)
    engine = open_store(live_server.db_url)
    display = token(live_server, role="display", org_code=code, level="full", days=1)
    ingest = token(live_server, role="ingest", days=1)
    assert httpx.get(f"{live_server.url}/api/snapshot", params={"token": display}).status_code == 200
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE tokens SET expires_at = '2000-01-01 00:00:00' WHERE role = 'ingest'")
        conn.exec_driver_sql("UPDATE tokens SET revoked = 1 WHERE role = 'display'")
    time.sleep(5.5)  # the token cache's lifetime
    for path in ("/api/snapshot", "/api/orgs", f"/api/members?org={code}"):
        r = httpx.get(f"{live_server.url}{path}", headers={"Authorization": f"Bearer {display}"})
        assert r.status_code == 401 and "revoked or expired" in r.json()["detail"]
    page = layout(httpx.Client(base_url=live_server.url), "/", f"?token={display}")
    assert page.status_code == 200 and "live-meta" not in page.text, "a revoked token's page must carry no live ticket"
    event = [{"type": "like", "org": code}]
    assert httpx.post(f"{live_server.url}/api/events", json=event, headers={"Authorization": f"Bearer {ingest}"}).status_code == 401
    assert asyncio.run(closed_with(f"{live_server.ws_ingest}?token={ingest}", [])) == 1008


def test_a_screen_whose_token_is_revoked_stops_receiving(live_server: LiveServer) -> None:
    code, _ = province(live_server)
    display = token(live_server, role="display", org_code=code, level="public")
    engine = open_store(live_server.db_url)

    async def scenario() -> tuple[ScreenClient, float]:
        ticket = find_ticket(await page_layout(live_server.url, "/", f"?token={display}"))
        screen = ScreenClient(live_server.url, ticket, await stream_callback_id(live_server.url))
        running = asyncio.create_task(screen.run(30))
        revoked_at = 0.0
        for i in range(50):
            events = [{"id": uuid.uuid4().hex, "type": "like", "org": code}]
            await asyncio.to_thread(httpx.post, f"{live_server.url}/api/events", json=events,
                                    headers={"Authorization": f"Bearer {live_server.token}"})
            if i == 6:
                with engine.begin() as conn:
                    conn.exec_driver_sql(f"UPDATE tokens SET revoked = 1 WHERE token_hash = '{_sha(display)}'")
                revoked_at = time.time()
            await asyncio.sleep(0.5)
        await running
        return screen, revoked_at

    screen, revoked_at = asyncio.run(scenario())
    before = [f for f in screen.frames if f["ts"] / 1000 < revoked_at]
    late = [f for f in screen.frames if f["ts"] / 1000 > revoked_at + 12]  # cache (5 s) + the stream's check (5 s) + a tick
    assert before, "the screen got nothing while its token was good"
    assert late == [], f"{len(late)} frames after the token was revoked"


def _sha(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


# --- scopes and levels -------------------------------------------------------------------


def test_member_data_needs_the_full_level_and_stays_in_the_subtree(live_server: LiveServer) -> None:
    code, path = province(live_server)
    public = token(live_server, role="display", org_code=code, level="public")
    full = token(live_server, role="display", org_code=code, level="full")
    url = f"{live_server.url}/api/members"
    assert httpx.get(url, params={"org": code}).status_code == 403
    refused = httpx.get(url, params={"org": code}, headers={"Authorization": f"Bearer {public}"})
    assert refused.status_code == 403 and "full-level" in refused.json()["detail"]

    page = httpx.get(url, params={"org": code, "limit": 1000}, headers={"Authorization": f"Bearer {full}"}).json()
    inside = {c for (c,) in db(live_server, f"SELECT m.code FROM members m JOIN organisations o ON o.id = m.org_id WHERE o.path LIKE '{path}%'")}
    assert page["total"] == len(inside) and {m["code"] for m in page["members"]} <= inside
    assert page["members"] and all("name" in m and "phone" not in m for m in page["members"])
    other = db(live_server, f"SELECT code FROM organisations WHERE level = 1 AND path <> '{path}' LIMIT 1")[0][0]
    assert httpx.get(url, params={"org": other}, headers={"Authorization": f"Bearer {full}"}).status_code == 404
    with_phone = httpx.get(url, params={"org": code, "limit": 1}, headers={"Authorization": f"Bearer {live_server.admin_token}"}).json()
    assert "phone" in with_phone["members"][0]


def test_a_scoped_token_sees_its_subtree_only_through_the_api(live_server: LiveServer) -> None:
    code, path = province(live_server)
    scoped = token(live_server, role="display", org_code=code, level="public")
    auth = {"Authorization": f"Bearer {scoped}"}
    orgs = httpx.get(f"{live_server.url}/api/orgs", headers=auth).json()
    inside = {c for (c,) in db(live_server, f"SELECT code FROM organisations WHERE path LIKE '{path}%'")}
    assert {o["code"] for o in orgs} == inside
    assert httpx.get(f"{live_server.url}/api/snapshot", headers=auth).json()["org"] == code
    top = db(live_server, "SELECT code FROM organisations WHERE level = 0")[0][0]
    other = db(live_server, f"SELECT code FROM organisations WHERE level = 1 AND path <> '{path}' LIMIT 1")[0][0]
    for org in (top, other):
        r = httpx.get(f"{live_server.url}/api/snapshot", params={"org": org}, headers=auth)
        assert r.status_code == 404 and r.json()["detail"] == f"unknown organisation {org!r}"
        assert httpx.get(f"{live_server.url}/api/orgs", params={"parent": org}, headers=auth).status_code == 404
    # A page asking for another subtree than its token's answers as unknown, with no ticket.
    page = layout(httpx.Client(base_url=live_server.url), "/", f"?token={scoped}&org={other}")
    assert "live-meta" not in page.text
    assert httpx.get(f"{live_server.url}/api/snapshot", headers={"Authorization": f"Bearer {live_server.token}"}).status_code == 403


def test_public_snapshots_hide_small_counts(live_server: LiveServer) -> None:
    admin = {"Authorization": f"Bearer {live_server.admin_token}"}
    for (code,) in db(live_server, "SELECT code FROM organisations WHERE kind = 'branch'"):
        full = httpx.get(f"{live_server.url}/api/snapshot", params={"org": code}, headers=admin).json()
        if 1 <= full["probationary"] <= 4:
            break
    else:
        raise AssertionError("no branch with 1 to 4 probationary members in the demo")
    public = httpx.get(f"{live_server.url}/api/snapshot", params={"org": code}).json()
    assert public["probationary"] is None and public["structure"]["status"]["probationary"] is None
    assert public["members"] == public_count(full["members"]) and full["members"] >= 5
    assert public["events_total"] == full["events_total"]  # events are not people: exact


# --- sign-in --------------------------------------------------------------------------------


def test_a_thousand_wrong_passwords_meet_429_long_before_the_end(edge: LiveServer) -> None:
    statuses = []
    with httpx.Client(base_url=edge.url, timeout=30) as client:
        for i in range(1000):
            statuses.append(client.post("/auth/login", data={"username": "admin", "password": f"guess-{i:04d}-xxxxx"}).status_code)
        assert client.post("/auth/login", data={"username": "admin", "password": first_admin_password(edge)}).status_code == 429
    first_429 = statuses.index(429)
    assert first_429 <= 25, f"the first 429 came only at attempt {first_429 + 1}"
    assert statuses.count(429) >= 950 and set(statuses) <= {303, 429}
    refused = db(edge, "SELECT count(*) FROM audit_log WHERE action LIKE 'login%' AND outcome = 'refused'")[0][0]
    assert refused >= 1


def test_sessions_admin_pages_and_the_csrf_check(live_server: LiveServer) -> None:
    anonymous = httpx.Client(base_url=live_server.url)
    assert "admin-page" not in layout(anonymous, "/admin").text
    assert "admin-page" in layout(anonymous, "/admin", f"?token={live_server.admin_token}").text

    admin = signed_in(live_server, "admin", first_admin_password(live_server))
    assert "admin-page" in layout(admin, "/admin").text
    who = admin.get("/auth/whoami").json()
    assert (who["role"], who["level"]) == ("admin", "full")
    # A forged callback (the cookie rides along, the CSRF header does not) runs as nobody.
    csrf = admin.cookies.get("_csrf_token")
    admin.cookies.delete("_csrf_token")
    assert "admin-page" not in layout(admin, "/admin").text
    admin.cookies.set("_csrf_token", csrf or "")

    code, _ = province(live_server)
    from dashboard.access.users import create_user

    create_user(open_store(live_server.db_url), "leader-" + uuid.uuid4().hex[:6], "a long enough password", role="leader", org_code=code)
    leader_name = db(live_server, "SELECT username FROM users WHERE role = 'leader' ORDER BY id DESC LIMIT 1")[0][0]
    leader = signed_in(live_server, leader_name, "a long enough password")
    assert "admin-page" not in layout(leader, "/admin").text
    assert leader.get("/api/snapshot").json()["org"] == code
    assert leader.get("/api/members", params={"org": code}).status_code == 200
    leader.post("/auth/logout")
    assert leader.get("/auth/whoami").json()["role"] == "anonymous"
    actions = {a for (a,) in db(live_server, "SELECT action FROM audit_log")}
    assert {"login", "logout", "token.use"} <= actions


def test_the_first_admin_password_is_printed_once(fresh_server: LiveServer) -> None:
    password = first_admin_password(fresh_server)
    assert len(password) >= 20
    fresh_server.restart()
    assert first_admin_password(fresh_server) == password
    signed_in(fresh_server, "admin", password)


# --- floods, sizes, idleness -------------------------------------------------------------------


def test_ingest_is_rate_limited_per_token_and_address(edge: LiveServer) -> None:
    ingest = token(edge, role="ingest")
    code, _ = province(edge)

    async def burst() -> list[httpx.Response]:
        """100 posts at once: over the budget (burst 40, 20 a second) however slowly the server answers."""
        async with httpx.AsyncClient(base_url=edge.url, headers={"Authorization": f"Bearer {ingest}"}, timeout=60) as client:
            return await asyncio.gather(*(client.post("/api/events", json=[{"type": "like", "org": code}]) for _ in range(100)))

    answers = asyncio.run(burst())
    statuses = [r.status_code for r in answers]
    retry_after = next((r.headers.get("retry-after") for r in answers if r.status_code == 429), None)
    assert 200 in statuses and 429 in statuses and retry_after is not None
    time.sleep(3)
    flood = [json.dumps({"type": "like", "org": code})] * 200
    assert asyncio.run(closed_with(f"{edge.ws_ingest}?token={ingest}", flood)) == 1008


def test_silent_websockets_are_closed(edge: LiveServer) -> None:
    ingest = token(edge, role="ingest")
    started = time.monotonic()
    assert asyncio.run(closed_with(f"{edge.ws_ingest}?token={ingest}", [])) == 1000
    assert time.monotonic() - started < 20


def test_an_oversized_message_on_dash_s_websocket_closes_it(live_server: LiveServer) -> None:
    dash_ws = f"ws://127.0.0.1:{live_server.port}/_dash-ws-callback"
    assert asyncio.run(closed_with(dash_ws, ["x" * (2 * 1024 * 1024)], origin=live_server.url)) == 1009
    big = httpx.post(f"{live_server.url}/_dash-update-component", content=b"{" + b" " * (9 * 1024 * 1024) + b"}",
                     headers={"content-type": "application/json"}, timeout=60)
    assert big.status_code == 413


# --- injections and errors -----------------------------------------------------------------------


def test_injections_and_oversized_values_in_every_api_field_harm_nothing(live_server: LiveServer) -> None:
    before = db(live_server, "SELECT (SELECT count(*) FROM members), (SELECT count(*) FROM organisations), (SELECT count(*) FROM users)")
    admin = {"Authorization": f"Bearer {live_server.admin_token}"}
    values = [*INJECTIONS, "x" * 5000]
    for value in values:
        for path, param in (("/api/snapshot", "org"), ("/api/orgs", "parent"), ("/api/members", "org")):
            r = httpx.get(f"{live_server.url}{path}", params={param: value}, headers=admin)
            assert r.status_code in (404, 422), (path, value[:20], r.status_code)
        r = httpx.get(f"{live_server.url}/api/snapshot", params={"token": value})
        assert r.status_code == 401
        r = httpx.post(f"{live_server.url}/auth/login", data={"username": value, "password": value})
        assert r.status_code in (303, 429)
        r = httpx.post(f"{live_server.url}/api/events", json=[{"type": "study", "org": value, "member": value, "id": value,
                                                                 "data": {"title": value, "points": value}}],
                       headers={"Authorization": f"Bearer {live_server.token}"})
        assert r.status_code == 200 and r.json()["rejected"], value[:20]
    huge = httpx.post(f"{live_server.url}/auth/login", content=b"username=" + b"a" * 100_000,
                      headers={"content-type": "application/x-www-form-urlencoded"})
    assert huge.status_code == 413
    assert db(live_server, "SELECT (SELECT count(*) FROM members), (SELECT count(*) FROM organisations), (SELECT count(*) FROM users)") == before
    assert httpx.get(f"{live_server.url}/api/health").status_code == 200


def test_errors_reach_clients_without_stack_traces(live_server: LiveServer) -> None:
    answers = [
        httpx.post(f"{live_server.url}/_dash-update-component", content=b"{not json", headers={"content-type": "application/json"}),
        httpx.post(f"{live_server.url}/_dash-update-component", json={"output": "nope..x", "inputs": [], "outputs": []}),
        httpx.post(f"{live_server.url}/auth/login", content=b"\xff\xfe\xfd", headers={"content-type": "application/x-www-form-urlencoded"}),
        httpx.post(f"{live_server.url}/api/events", content=b"\xff", headers={"Authorization": f"Bearer {live_server.token}"}),
        httpx.get(f"{live_server.url}/api/members", params={"org": "x", "limit": "-1"}, headers={"Authorization": f"Bearer {live_server.admin_token}"}),
    ]
    for r in answers:
        assert r.status_code < 600
        assert "Traceback" not in r.text and 'File "' not in r.text, r.text[:300]


def test_security_headers_and_framing(live_server: LiveServer, edge: LiveServer) -> None:
    page = httpx.get(f"{live_server.url}/")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'self'" in csp and "'unsafe-eval'" not in csp
    assert re.search(r"script-src 'self'( 'sha256-[A-Za-z0-9+/=]+')+;", csp)
    assert page.headers["x-frame-options"] == "SAMEORIGIN"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert httpx.get(f"{live_server.url}/api/health").headers["cache-control"] == "no-store"
    framed = httpx.get(f"{edge.url}/")
    assert "frame-ancestors 'self' https://portal.example.org" in framed.headers["content-security-policy"]
    assert "x-frame-options" not in framed.headers
