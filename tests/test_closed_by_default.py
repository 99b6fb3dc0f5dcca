"""A server is closed by default, and its sign-in cannot be turned against an account (issue 17, holes 4 and 5)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app import parse_args
from tests.conftest import LiveServer
from tests.test_security_attacks import layout

pytestmark = pytest.mark.live

@pytest.fixture(scope="module")
def closed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """No --public: what every deployment gets. Trusts 127.0.0.1 as a proxy, so tests can speak from many addresses."""
    server = LiveServer(tmp_path_factory.mktemp("closed") / "lianxin.db", public=False, demo_members=300,
                        extra_args=["--no-simulate", "--trusted-proxies", "127.0.0.1"]).start()
    yield server
    server.stop()


def page(client: httpx.Client, path: str, search: str = "") -> str:
    """What Dash's page callback renders for ``path?search`` for this client."""
    r = layout(client, path, search)
    assert r.status_code in (200, 204), r.text[:200]
    return r.text


def password(server: LiveServer) -> str:
    return re.findall(r"with the password (\S+) ", server.log_path.read_text())[0]


def test_without_a_token_or_session_the_api_answers_401_and_pages_ask_to_sign_in(closed: LiveServer) -> None:
    with httpx.Client(base_url=closed.url, timeout=30) as anonymous:
        for path in ("/api/orgs", "/api/snapshot", "/api/members?org=X", "/auth/whoami"):
            r = anonymous.get(path)
            assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", (path, r.text)
        for path in ("/", "/kpi", "/map", "/topology", "/admin", "/org/LX-110000?lang=en"):
            r = anonymous.get(path)
            assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
        assert anonymous.get("/?lang=en").headers["location"] == "/login?next=%2F%3Flang%3Den&lang=en"
        assert anonymous.get("/login").status_code == 200
        for path in ("/", "/kpi", "/map", "/topology"):
            rendered = page(anonymous, path)
            assert "live-meta" not in rendered and "kpi-" not in rendered, path
        assert "login-page" in page(anonymous, "/admin")
        assert "live-meta" not in page(anonymous, "/", "?mode=exhibition")  # asking for exhibition opens nothing
    with httpx.Client(base_url=closed.url, timeout=30) as holder:
        auth = {"Authorization": f"Bearer {closed.admin_token}"}
        assert holder.get("/api/snapshot", headers=auth).status_code == 200
        assert holder.get(f"/?token={closed.admin_token}").status_code == 200
        assert "live-meta" in page(holder, "/", f"?token={closed.admin_token}")


def test_the_demo_is_open_on_loopback_only_and_says_so(tmp_path: Any) -> None:
    assert parse_args([]).anonymous_public  # `python app.py`: the demo, on 127.0.0.1
    assert not parse_args(["--host", "0.0.0.0"]).anonymous_public
    assert not parse_args(["--no-simulate"]).anonymous_public
    assert not parse_args(["--trusted-proxies", "127.0.0.1"]).anonymous_public
    assert not parse_args(["--no-anonymous"]).anonymous_public
    assert parse_args(["--host", "0.0.0.0", "--public"]).anonymous_public
    assert parse_args(["--host", "0.0.0.0", "--exhibition"]).anonymous_public
    demo = LiveServer(tmp_path / "demo.db", public=False, demo_members=200, extra_args=["--rate", "2"]).start()
    try:
        assert httpx.get(f"{demo.url}/api/snapshot", timeout=30).status_code == 200
        assert "demo: anyone on this machine sees the public level" in demo.log_tail(200)
    finally:
        demo.stop()


def audit(server: LiveServer, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.db_url.removeprefix("sqlite:///")) as conn:
        return conn.execute(sql).fetchall()


def test_wrong_passwords_from_other_addresses_do_not_lock_the_administrator_out(closed: LiveServer) -> None:
    with httpx.Client(base_url=closed.url, timeout=30) as client:
        def login(address: str, secret: str) -> httpx.Response:
            return client.post("/auth/login", data={"username": "admin", "password": secret},
                               headers={"X-Forwarded-For": address})

        for i in range(30):  # thirty addresses, one wrong guess each: above any per-account budget
            assert login(f"10.0.0.{i + 1}", f"guess-{i:04d}-xxxxx").status_code == 303
        attacker = [login("10.9.9.9", f"again-{i:04d}-xxxxx") for i in range(40)]
        refused = [r for r in attacker if r.status_code == 429]
        assert len(refused) >= 30 and all(int(r.headers["retry-after"]) >= 1 for r in refused)
        good = login("192.168.7.7", password(closed))
        assert good.status_code == 303 and "lx_session" in good.cookies
    bursts = audit(closed, "SELECT address FROM audit_log WHERE action LIKE 'login.rate_limited%' AND outcome = 'refused'")
    assert ("10.9.9.9",) in bursts and len(bursts) <= 3  # one entry per burst and rule, not one per attempt
