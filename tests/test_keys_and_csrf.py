"""The signing key belongs to the deployment, and CSRF tokens to their session (issue 17, hole 8)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx
import pytest

from dashboard.access.keys import load_signing_key
from dashboard.access.scopes import Scope, ScopeSigner
from dashboard.store.engine import open_store
from tests.conftest import LiveServer
from tests.test_security_attacks import first_admin_password, layout, signed_in


@pytest.mark.unit
def test_each_deployment_has_its_own_key_in_its_database_not_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LIANXIN_SECRET_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    one, two = (open_store(f"sqlite:///{tmp_path / name}") for name in ("one.db", "two.db"))
    key_one, key_two = load_signing_key(one), load_signing_key(two)
    assert len(key_one) == 32 and key_one != key_two
    assert load_signing_key(one) == key_one  # stable across restarts
    assert {p.name.split(".")[0] for p in tmp_path.iterdir()} == {"one", "two"}  # the databases only (and their WAL)
    ticket = ScopeSigner(key_one).sign(Scope(1, "full"))
    assert ScopeSigner(key_one).verify(ticket) == Scope(1, "full") and ScopeSigner(key_two).verify(ticket) is None


@pytest.mark.unit
def test_a_configured_key_file_is_used_and_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIANXIN_SECRET_KEY", raising=False)
    engine = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    path = tmp_path / "keys" / "lianxin.key"
    key = load_signing_key(engine, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and load_signing_key(engine, path) == key != load_signing_key(engine)


def plant(client: httpx.Client, csrf: str) -> None:
    client.cookies.delete("_csrf_token")
    client.cookies.set("_csrf_token", csrf)


@pytest.mark.live
def test_a_csrf_token_works_only_with_its_own_session(live_server: LiveServer) -> None:
    password = first_admin_password(live_server)
    admin = signed_in(live_server, "admin", password)
    other = signed_in(live_server, "admin", password)
    assert admin.cookies["lx_session"] != other.cookies["lx_session"]
    assert "admin-page" in layout(admin, "/admin").text
    own = admin.cookies["_csrf_token"]
    # A token planted by someone else (cookie and header agree, as double-submit alone would accept) is refused.
    plant(admin, "planted-by-someone-else")
    assert "admin-page" not in layout(admin, "/admin").text
    # So is another session's genuine token.
    plant(admin, other.cookies["_csrf_token"])
    assert "admin-page" not in layout(admin, "/admin").text
    plant(admin, own)
    assert "admin-page" in layout(admin, "/admin").text
    with httpx.Client(base_url=live_server.url) as nobody:
        assert "admin-page" not in layout(nobody, "/admin").text
