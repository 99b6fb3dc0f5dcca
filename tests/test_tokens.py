"""Tokens: created at random, stored hashed, checked with a short cache; the CLI that makes them."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, text, update

from dashboard.access import tokens
from dashboard.access.recent import RecentChecks
from dashboard.access.tokens import TokenError, TokenInfo, create_token, revoke_token, token_from_request, verify_token
from dashboard.settings import Settings
from dashboard.store.engine import open_store
from dashboard.store.models import Organisation, Token

REPO = Path(__file__).resolve().parents[1]
NO_ENV_TOKENS = Settings(ingest_token=None, admin_token=None)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = open_store(f"sqlite:///{tmp_path}/tokens.db")
    with engine.begin() as conn:
        conn.execute(insert(Organisation), [
            {"id": 1, "code": "TOP", "name": "top", "kind": "committee", "parent_id": None, "level": 0, "path": "/1/"},
            {"id": 2, "code": "BR-7", "name": "branch", "kind": "branch", "parent_id": 1, "level": 1, "path": "/1/2/"},
        ])
    return engine


def test_a_new_token_is_random_url_safe_and_only_its_sha256_is_stored(engine: Engine) -> None:
    first = create_token(engine, role="display", org_code="BR-7", level="public", label="lobby screen", days=30)
    second = create_token(engine, role="display", org_code="BR-7", level="public")
    assert first != second and len(first) >= 43
    assert all(c.isalnum() or c in "-_" for c in first)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM tokens")).mappings().all()
    dump = repr(rows)
    assert first not in dump and second not in dump
    stored = next(r for r in rows if r["label"] == "lobby screen")
    assert stored["token_hash"] == hashlib.sha256(first.encode()).hexdigest()
    assert (stored["role"], stored["org_id"], stored["level"]) == ("display", 2, "public")
    assert stored["expires_at"] is not None


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"role": "ingest", "org_code": "NOPE"}, "unknown organisation 'NOPE'"),
        ({"role": "root"}, "unknown role 'root'"),
        ({"role": "display", "level": "secret"}, "unknown level 'secret'"),
        ({"role": "ingest", "days": 0}, "days must be at least 1"),
    ],
)
def test_a_token_that_cannot_be_made_is_refused_in_one_line(engine: Engine, kwargs: dict, says: str) -> None:
    with pytest.raises(TokenError) as refused:
        create_token(engine, **kwargs)
    assert says in str(refused.value) and "\n" not in str(refused.value)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM tokens")).scalar_one() == 0


def test_verify_tells_role_scope_and_level_and_refuses_unknown_tokens(engine: Engine) -> None:
    whole = create_token(engine, role="ingest")
    branch = create_token(engine, role="display", org_code="BR-7", level="public")
    assert verify_token(engine, whole, NO_ENV_TOKENS) == TokenInfo("ingest", None, "full", token_id=1)
    info = verify_token(engine, branch, NO_ENV_TOKENS)
    assert info is not None and (info.role, info.org_id, info.level, info.may_ingest) == ("display", 2, "public", False)
    for wrong in (None, "", "lx_guess", whole + "x"):
        assert verify_token(engine, wrong, NO_ENV_TOKENS) is None


def test_expired_and_revoked_tokens_stop_working_within_the_cache_time(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]  # the cache's clock, stepped by the test instead of slept through
    monkeypatch.setattr(tokens, "_cache", RecentChecks(tokens.CACHE_TTL_S, tokens.CACHE_SIZE, clock=lambda: now[0]))
    expiring = create_token(engine, role="ingest", days=1)
    revoked = create_token(engine, role="ingest")
    assert verify_token(engine, expiring, NO_ENV_TOKENS) is not None
    revoked_info = verify_token(engine, revoked, NO_ENV_TOKENS)
    assert revoked_info is not None and revoked_info.token_id is not None

    with engine.begin() as conn:
        conn.execute(update(Token).where(Token.token_hash == tokens.token_digest(expiring)).values(expires_at=text("'2000-01-01 00:00:00'")))
    assert revoke_token(engine, revoked_info.token_id) is True
    assert revoke_token(engine, 999) is False
    now[0] += tokens.CACHE_TTL_S - 0.1
    assert verify_token(engine, revoked, NO_ENV_TOKENS) == revoked_info  # remembered for the cache time …
    now[0] += 0.2
    assert verify_token(engine, expiring, NO_ENV_TOKENS) is None  # … and not a moment longer
    assert verify_token(engine, revoked, NO_ENV_TOKENS) is None


def test_the_environment_tokens_are_whole_tree_ingest_and_admin_tokens(engine: Engine) -> None:
    settings = Settings(ingest_token="env-ingest-secret", admin_token="env-admin-secret")
    assert verify_token(engine, "env-ingest-secret", settings) == TokenInfo("ingest", None, "full")
    assert verify_token(engine, "env-admin-secret", settings) == TokenInfo("admin", None, "full")
    assert verify_token(engine, "env-ingest-secre", settings) is None
    assert verify_token(engine, "env-ingest-secret", NO_ENV_TOKENS) is None
    assert verify_token(engine, "ünïcode", settings) is None


def test_the_cache_stays_bounded(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "_cache", RecentChecks(tokens.CACHE_TTL_S, 3))
    for i in range(10):
        verify_token(engine, f"unknown-{i}", NO_ENV_TOKENS)
    assert len(tokens._cache._entries) <= 3


@pytest.mark.parametrize(
    ("authorization", "query", "expected"),
    [
        ("Bearer abc", None, "abc"),
        ("bearer  abc ", "q", "abc"),
        ("Basic dXNlcg==", "q", "q"),
        ("Bearer ", "q", "q"),
        (None, None, None),
        (None, "", None),
    ],
)
def test_the_token_comes_from_the_bearer_header_or_the_query(authorization: str | None, query: str | None, expected: str | None) -> None:
    assert token_from_request(authorization, query) == expected


def test_the_cli_prints_only_the_new_token_and_refuses_an_unknown_organisation(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    made = subprocess.run(
        [sys.executable, "-m", "dashboard", "token", "create", "--database-url", url, "--role", "ingest", "--org", "BR-7", "--days", "7"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert made.stdout.count("\n") == 1 and verify_token(engine, token, NO_ENV_TOKENS) == TokenInfo("ingest", 2, "full", token_id=1)

    refused = subprocess.run(
        [sys.executable, "-m", "dashboard", "token", "create", "--database-url", url, "--role", "ingest", "--org", "XYZ"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.strip() == "error: unknown organisation 'XYZ'"
