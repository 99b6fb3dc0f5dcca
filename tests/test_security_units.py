"""Accounts, sessions, rate limits, the audit log and access rules, against a real SQLite store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, text, update

from dashboard.access import tokens
from dashboard.access import users as auth
from dashboard.access.admin import AdminError, AdminOps
from dashboard.access.audit import AuditLog
from dashboard.access.limits import RateLimiter
from dashboard.access.scopes import Scope, ScopeSigner, mask_counts
from dashboard.access.tokens import create_token, revoke_token
from dashboard.access.users import (
    AccountError,
    authenticate,
    close_session,
    create_user,
    ensure_first_admin,
    open_session,
    session_user,
    session_valid,
    set_active,
)
from dashboard.access.viewer import Access, AccessRefused
from dashboard.settings import Settings
from dashboard.store.engine import open_store
from dashboard.store.models import LoginSession, Organisation, Token
from dashboard.store.tree import OrgTree

GOOD_PASSWORD = "correct horse battery staple"


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setattr(auth._cache, "ttl_s", 0.0)
    monkeypatch.setattr(tokens._cache, "ttl_s", 0.0)
    engine = open_store(f"sqlite:///{tmp_path}/security.db")
    with engine.begin() as conn:
        conn.execute(insert(Organisation), [
            {"id": 1, "code": "TOP", "name": "top", "kind": "committee", "parent_id": None, "level": 0, "path": "/1/"},
            {"id": 2, "code": "A", "name": "branch a", "kind": "branch", "parent_id": 1, "level": 1, "path": "/1/2/"},
            {"id": 3, "code": "B", "name": "branch b", "kind": "branch", "parent_id": 1, "level": 1, "path": "/1/3/"},
        ])
    return engine


def access_of(engine: Engine, **settings: object) -> Access:
    return Access(engine, OrgTree.load(engine), Settings(ingest_token=None, admin_token=None, **settings), AuditLog(engine))


def test_a_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=2, burst=3, clock=lambda: now[0])
    assert [limiter.allow("k") for _ in range(4)] == [True, True, True, False]
    assert limiter.retry_after("k") == 1
    assert limiter.allow("other")
    now[0] = 0.5
    assert limiter.allow("k") and not limiter.allow("k")


def test_a_flood_of_new_keys_keeps_the_limiter_bounded() -> None:
    limiter = RateLimiter(rate=1, burst=1, max_keys=100)
    for i in range(10_000):
        limiter.allow(f"address-{i}")
    assert len(limiter) == 100


def test_passwords_are_argon2_hashes_and_only_the_right_one_signs_in(engine: Engine) -> None:
    user = create_user(engine, "alice", GOOD_PASSWORD, role="leader", org_code="A")
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users")).scalar_one()
    assert stored.startswith("$argon2id$") and GOOD_PASSWORD not in stored
    signed_in = authenticate(engine, "alice", GOOD_PASSWORD)
    assert signed_in is not None and (signed_in.id, signed_in.role, signed_in.org_id, signed_in.level) == (user.id, "leader", 2, "full")
    for name, password in (("alice", "wrong password!"), ("bob", GOOD_PASSWORD), ("alice", ""), ("alice", "x" * 10_000)):
        assert authenticate(engine, name, password) is None


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"username": "", "password": GOOD_PASSWORD, "role": "leader"}, "1 to 64 characters"),
        ({"username": "a" * 65, "password": GOOD_PASSWORD, "role": "leader"}, "1 to 64 characters"),
        ({"username": "x'; DROP TABLE users; --", "password": GOOD_PASSWORD, "role": "leader"}, "letters, digits"),
        ({"username": "ok", "password": "short", "role": "leader"}, "12 to 256"),
        ({"username": "ok", "password": GOOD_PASSWORD, "role": "root"}, "unknown role"),
        ({"username": "ok", "password": GOOD_PASSWORD, "role": "staff", "level": "secret"}, "unknown level"),
        ({"username": "ok", "password": GOOD_PASSWORD, "role": "staff", "org_code": "' OR 1=1 --"}, "unknown organisation"),
    ],
)
def test_a_user_that_cannot_be_made_is_refused_in_one_line(engine: Engine, kwargs: dict, says: str) -> None:
    with pytest.raises(AccountError) as refused:
        create_user(engine, **kwargs)
    assert says in str(refused.value) and "\n" not in str(refused.value)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar_one() == 0


def test_the_first_admin_gets_a_random_password_once(engine: Engine) -> None:
    first = ensure_first_admin(engine)
    assert first is not None and len(first) >= 20
    assert ensure_first_admin(engine) is None
    assert authenticate(engine, "admin", first) is not None
    other = open_store(str(engine.url.render_as_string(hide_password=False)).replace("security.db", "other.db"))
    assert ensure_first_admin(other) not in (None, first)


def test_a_session_lives_until_sign_out_expiry_or_deactivation(engine: Engine) -> None:
    user = create_user(engine, "carol", GOOD_PASSWORD, role="staff", org_code="B", level="public")
    secret = open_session(engine, user.id, "127.0.0.1", "pytest")
    with engine.connect() as conn:
        assert secret not in repr(conn.execute(text("SELECT * FROM sessions")).all())
    found = session_user(engine, secret)
    assert found is not None and (found.username, found.org_id, found.level) == ("carol", 3, "public")
    assert session_valid(engine, found.session_id)
    assert session_user(engine, secret + "x") is None and session_user(engine, None) is None

    close_session(engine, secret)
    assert session_user(engine, secret) is None and not session_valid(engine, found.session_id)

    second = open_session(engine, user.id)
    with engine.begin() as conn:
        conn.execute(update(LoginSession).where(LoginSession.revoked.is_(False)).values(expires_at=dt.datetime(2000, 1, 1)))
    assert session_user(engine, second) is None

    third = open_session(engine, user.id)
    set_active(engine, user.id, False)
    assert session_user(engine, third) is None
    assert authenticate(engine, "carol", GOOD_PASSWORD) is None


def test_anonymous_viewers_get_the_public_whole_tree_only_when_allowed(engine: Engine) -> None:
    viewer = access_of(engine, anonymous_public=True).viewer(token=None, session=None)
    assert (viewer.scope, viewer.role, viewer.grant, viewer.may_read_members) == (Scope(1, "public"), "anonymous", None, False)
    with pytest.raises(AccessRefused) as refused:  # closed by default
        access_of(engine).viewer(token=None, session=None)
    assert (refused.value.status, refused.value.code) == (401, "sign_in")


def test_tokens_decide_scope_and_level_and_bad_ones_are_refused_not_downgraded(engine: Engine) -> None:
    access = access_of(engine)
    display = create_token(engine, role="display", org_code="A", level="full")
    public = create_token(engine, role="display", org_code="B", level="public")
    admin = create_token(engine, role="admin")
    ingest = create_token(engine, role="ingest")
    v = access.viewer(token=display, session=None)
    assert (v.scope, v.role, v.may_read_members, v.grant) == (Scope(2, "full"), "display", True, "token:1")
    assert access.viewer(token=public, session=None).scope == Scope(3, "public")
    assert access.viewer(token=display, session=None, exhibition=True).scope == Scope(2, "public")
    a = access.viewer(token=admin, session=None)
    assert (a.scope, a.is_admin) == (Scope(1, "full"), True)
    for token, status in ((ingest, 403), ("lx_guess", 401)):
        with pytest.raises(AccessRefused) as refused:
            access.viewer(token=token, session=None)
        assert refused.value.status == status
    assert access.grant_valid("token:1")
    revoke_token(engine, 1)
    assert not access.grant_valid("token:1")
    with pytest.raises(AccessRefused):
        access.viewer(token=display, session=None)
    with engine.begin() as conn:
        conn.execute(update(Token).where(Token.id == 2).values(expires_at=dt.datetime(2000, 1, 1)))
    with pytest.raises(AccessRefused):
        access.viewer(token=public, session=None)
    assert not access.grant_valid("token:2") and not access.grant_valid("session:x") and not access.grant_valid("nonsense")


def test_the_environment_admin_token_is_an_admin(engine: Engine) -> None:
    access = Access(engine, OrgTree.load(engine), Settings(ingest_token=None, admin_token="env-admin"), AuditLog(engine))
    viewer = access.viewer(token="env-admin", session=None)
    assert viewer.is_admin and viewer.scope == Scope(1, "full") and viewer.actor == "env-admin-token"


def test_tickets_carry_their_grant_and_cannot_be_widened() -> None:
    signer = ScopeSigner()
    ticket = signer.sign(Scope(2, "public"), grant="token:7")
    assert signer.verify_grant(ticket) == (Scope(2, "public"), "token:7")
    assert signer.verify(ticket) == Scope(2, "public")
    body, mac = ticket.split(".")
    import base64

    widened = base64.urlsafe_b64encode(base64.urlsafe_b64decode(body).replace(b'"public"', b'"full"')).decode()
    assert signer.verify_grant(f"{widened}.{mac}") is None


def test_public_masking_hides_small_counts_everywhere_in_a_snapshot() -> None:
    snap = {"members": 3, "events_total": 120, "structure": {"gender": {"M": 2, "F": 40}}, "rate": 0.4, "flag": True, "top": [{"points": 4}]}
    assert mask_counts(snap, Scope(1, "public")) == {
        "members": None, "events_total": 120, "structure": {"gender": {"M": None, "F": 40}}, "rate": 0.4, "flag": True, "top": [{"points": None}],
    }
    assert mask_counts(snap, Scope(1, "full")) == snap


def test_every_admin_action_is_audited_and_bad_input_is_refused(engine: Engine) -> None:
    audit = AuditLog(engine)
    ops = AdminOps(engine, audit, OrgTree.load(engine))
    name, password = ops.create_user("user:root", username="dora", role="leader", org_code="A")
    assert name == "dora" and password is not None and authenticate(engine, "dora", password) is not None
    token = ops.create_token("user:root", role="display", org_code="B", level="public", label="lobby", days="30")
    assert token.startswith("lx_")
    ops.revoke_token("user:root", ops.tokens()[0]["id"])
    ops.rename_org("user:root", "A", "第一支部")
    for bad in (
        lambda: ops.create_token("user:root", role="display", label="x" * 201),
        lambda: ops.create_token("user:root", role="display", days="forever"),
        lambda: ops.create_token("user:root", role="root"),
        lambda: ops.rename_org("user:root", "A", "bad\x00name"),
        lambda: ops.rename_org("user:root", "'; DROP TABLE organisations; --", "x"),
        lambda: ops.revoke_token("user:root", "1 OR 1=1"),
        lambda: ops.find_orgs("x" * 101),
    ):
        with pytest.raises(AdminError):
            bad()
    assert [o["code"] for o in ops.find_orgs("第一")] == ["A"]
    actions = [(row.actor, row.action, row.outcome) for row in audit.recent()]
    assert ("user:root", "user.create", "ok") in actions and ("user:root", "token.revoke", "ok") in actions
    assert ("user:root", "org.rename", "ok") in actions
    assert [row.action for row in audit.recent(search="rename")] == ["org.rename"]
    assert audit.recent(search="%") == []


def test_token_use_is_audited_once_per_interval(engine: Engine) -> None:
    audit = AuditLog(engine, use_interval_s=3600)
    assert audit.record_use("token:1", "token.use", target="page")
    assert not audit.record_use("token:1", "token.use", target="page")
    assert audit.record_use("token:1", "token.use", target="api")
    assert len(audit.recent()) == 2


def test_the_cli_creates_users_lists_and_revokes_tokens(engine: Engine) -> None:
    import subprocess
    import sys

    url = engine.url.render_as_string(hide_password=False)
    root = Path(__file__).resolve().parents[1]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "dashboard", *args, "--database-url", url], cwd=root,
                              capture_output=True, text=True, timeout=120)

    made = cli("user", "create", "--username", "eve", "--role", "staff", "--org", "A", "--level", "public")
    assert made.returncode == 0 and authenticate(engine, "eve", made.stdout.strip()) is not None
    refused = cli("user", "create", "--username", "eve", "--role", "staff")
    assert refused.returncode == 2 and refused.stderr.strip() == "error: the user name 'eve' is taken"

    token = create_token(engine, role="display", org_code="A", level="public", label="hall")
    listed = cli("token", "list")
    assert listed.returncode == 0 and token not in listed.stdout and '"label": "hall"' in listed.stdout
    assert cli("token", "revoke", "1").returncode == 0
    assert not access_of(engine).grant_valid("token:1")
    assert cli("token", "revoke", "42").stderr.strip() == "error: no token with id 42"
    actions = [(row.actor, row.action) for row in AuditLog(engine).recent()]
    assert ("cli", "token.revoke") in actions and ("cli", "user.create") in actions


def test_refused_and_used_tokens_are_audited_by_who_and_where(engine: Engine) -> None:
    access = access_of(engine)
    display = create_token(engine, role="display", org_code="A", level="public")
    ingest = create_token(engine, role="ingest")
    access.viewer(token=display, session=None, purpose="page", address="10.0.0.7")
    for bad in ("lx_guess", ingest):
        with pytest.raises(AccessRefused):
            access.viewer(token=bad, session=None, purpose="api /api/snapshot", address="10.0.0.8")
    entries = {(row.actor, row.action, row.target, row.outcome) for row in AuditLog(engine).recent()}
    assert ("token:1", "token.use", "page", "ok") in entries
    assert ("10.0.0.8", "token.refused", "api /api/snapshot", "refused") in entries
    assert ("token:2", "token.refused", "api /api/snapshot", "refused") in entries
