"""API and display tokens: created at random, stored as SHA-256, checked with a short-lived cache.

A token carries a role (ingest, display, admin), a scope (an organisation's
subtree; None is the whole tree) and a privacy level (full, public). The
database keeps only the token's SHA-256, so a leaked database does not leak
tokens. ``LIANXIN_INGEST_TOKEN`` / ``LIANXIN_ADMIN_TOKEN`` (in ``Settings``)
are accepted too, as whole-tree ingest / admin tokens.

Checks are cached for ``CACHE_TTL_S`` seconds (bounded to ``CACHE_SIZE``
entries), so a busy ingest connection does not query the store per request,
and a revoked or expired token stops working within those seconds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Engine, select, update

from dashboard.access.recent import RecentChecks
from dashboard.access.revocation import register_cache, revoked
from dashboard.settings import Settings
from dashboard.store.models import Organisation, Token

ROLES = ("ingest", "display", "admin")
LEVELS = ("full", "public")
INGEST_ROLES = frozenset({"ingest", "admin"})
TOKEN_PREFIX = "lx_"
CACHE_TTL_S = 5.0
CACHE_SIZE = 10_000


class TokenError(ValueError):
    """A token cannot be created as asked (unknown organisation, role or level); one line for the user."""


@dataclass(frozen=True, slots=True)
class TokenInfo:
    role: str
    org_id: int | None
    level: str
    token_id: int | None = None

    @property
    def may_ingest(self) -> bool:
        return self.role in INGEST_ROLES

    @property
    def actor(self) -> str:
        """How the audit log names this token: its number, or the environment variable's role."""
        return f"token:{self.token_id}" if self.token_id is not None else f"env-{self.role}-token"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    engine: Engine,
    *,
    role: str,
    org_code: str | None = None,
    level: str = "full",
    label: str | None = None,
    days: int | None = None,
) -> str:
    """Create a token and return it; only its SHA-256 is stored, so this is the one chance to see it."""
    if role not in ROLES:
        raise TokenError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if level not in LEVELS:
        raise TokenError(f"unknown level {level!r}: use one of {', '.join(LEVELS)}")
    if days is not None and days < 1:
        raise TokenError(f"days must be at least 1, got {days}")
    now = dt.datetime.now(dt.UTC)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        org_id = None
        if org_code is not None:
            org_id = conn.execute(select(Organisation.id).where(Organisation.code == org_code)).scalar_one_or_none()
            if org_id is None:
                raise TokenError(f"unknown organisation {org_code!r}")
        conn.execute(
            Token.__table__.insert().values(
                token_hash=token_digest(token),
                role=role,
                org_id=org_id,
                level=level,
                label=label,
                created_at=now,
                expires_at=now + dt.timedelta(days=days) if days is not None else None,
                revoked=False,
            )
        )
    return token


def revoke_token(engine: Engine, token_id: int) -> bool:
    """Revoke a stored token; checks cached here and (announced) in a cluster's other processes are forgotten. False if there is no such token."""
    with engine.begin() as conn:
        done = conn.execute(update(Token).where(Token.id == token_id).values(revoked=True)).rowcount == 1
    if done:
        revoked()
    return done


def token_from_request(authorization: str | None, query_token: str | None) -> str | None:
    """The token of a request: ``Authorization: Bearer T`` first, else ``?token=T``."""
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return query_token or None


_cache: RecentChecks[tuple[str, str], TokenInfo | None] = RecentChecks(CACHE_TTL_S, CACHE_SIZE)
register_cache(_cache.clear)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def verify_token(engine: Engine, token: str | None, settings: Settings) -> TokenInfo | None:
    """What ``token`` may do, or None if it is missing, unknown, revoked or expired."""
    if not token:
        return None
    if settings.admin_token and _same(token, settings.admin_token):
        return TokenInfo(role="admin", org_id=None, level="full")
    if settings.ingest_token and _same(token, settings.ingest_token):
        return TokenInfo(role="ingest", org_id=None, level="full")
    key = (engine.url.render_as_string(hide_password=True), token_digest(token))
    known, info = _cache.get(key)
    if known:
        return info
    info = _load(engine, Token.token_hash == key[1])
    _cache.put(key, info)
    return info


def verify_token_id(engine: Engine, token_id: int) -> bool:
    """Whether the stored token with this id is still good (live streams opened with it check again and again)."""
    key = (engine.url.render_as_string(hide_password=True), f"id:{token_id}")
    known, info = _cache.get(key)
    if not known:
        info = _load(engine, Token.id == token_id)
        _cache.put(key, info)
    return info is not None


def _load(engine: Engine, condition: ColumnElement[bool]) -> TokenInfo | None:
    """The stored token matching ``condition`` if it is neither revoked nor expired."""
    with engine.connect() as conn:
        row = conn.execute(
            select(Token.id, Token.role, Token.org_id, Token.level, Token.expires_at, Token.revoked).where(condition)
        ).one_or_none()
    if row is None or row.revoked or _expired(row.expires_at):
        return None
    return TokenInfo(role=row.role, org_id=row.org_id, level=row.level, token_id=row.id)


def _expired(expires_at: dt.datetime | None) -> bool:
    if expires_at is None:
        return False
    if expires_at.tzinfo is None:  # SQLite hands back naive UTC
        expires_at = expires_at.replace(tzinfo=dt.UTC)
    return expires_at <= dt.datetime.now(dt.UTC)
