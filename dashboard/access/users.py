"""Users, passwords and sign-in sessions.

Passwords are hashed with argon2id (argon2-cffi's defaults: 64 MiB, 3
passes); a hash made with older parameters is replaced at the next good
sign-in. A session is a random secret in an HttpOnly cookie; the store keeps
only its SHA-256, so a leaked database holds neither passwords nor live
sessions. Session checks are cached for ``CACHE_TTL_S`` seconds, so a
sign-out, a revoked session or a deactivated user takes effect within them.

Roles: ``admin`` manages everything; ``leader`` and ``staff`` read their
subtree (``org_id``, None is the whole tree) at their level (full or public).
The first start of an empty store creates the user ``admin`` with a random
password that is printed once (``ensure_first_admin``); there is no default
password.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import unicodedata
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from dashboard.access.recent import RecentChecks
from dashboard.access.revocation import register_cache, revoked
from dashboard.store.models import LoginSession, Organisation, User

ROLES = ("admin", "leader", "staff")
LEVELS = ("full", "public")
FIRST_ADMIN = "admin"
USERNAME_MAX = 64
PASSWORD_MIN = 12
PASSWORD_MAX = 256
SESSION_TTL = dt.timedelta(hours=12)
CACHE_TTL_S = 5.0
CACHE_SIZE = 10_000

_hasher = PasswordHasher()
# Checked against when the user name is unknown, so an unknown name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A user cannot be created or changed as asked; one line for the person asking."""


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    username: str
    role: str
    org_id: int | None
    level: str
    active: bool
    created_at: dt.datetime | None = None
    last_login_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class SessionUser:
    """A valid session and the user it belongs to."""

    session_id: int
    user_id: int
    username: str
    role: str
    org_id: int | None
    level: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # SQLite hands back naive UTC


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_password() -> str:
    """A random password of 20 URL-safe characters (about 120 bits)."""
    return secrets.token_urlsafe(15)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_username(username: str) -> str:
    """The user name, normalised (NFKC, trimmed), or AccountError saying what is wrong with it."""
    name = unicodedata.normalize("NFKC", username).strip()
    if not 1 <= len(name) <= USERNAME_MAX:
        raise AccountError(f"a user name has 1 to {USERNAME_MAX} characters")
    if not all(c.isalnum() or c in "._-@" for c in name):
        raise AccountError("a user name may hold letters, digits and . _ - @ only")
    return name


def check_password(password: str) -> str:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise AccountError(f"a password has {PASSWORD_MIN} to {PASSWORD_MAX} characters")
    return password


def _check_role_level(role: str, level: str) -> None:
    if role not in ROLES:
        raise AccountError(f"unknown role {role[:40]!r}: use one of {', '.join(ROLES)}")
    if level not in LEVELS:
        raise AccountError(f"unknown level {level[:40]!r}: use one of {', '.join(LEVELS)}")


def _org_id(engine: Engine, org_code: str | None) -> int | None:
    if not org_code:
        return None
    with engine.connect() as conn:
        org_id = conn.execute(select(Organisation.id).where(Organisation.code == org_code[:64])).scalar_one_or_none()
    if org_id is None or len(org_code) > 64:
        raise AccountError(f"unknown organisation {org_code[:64]!r}")
    return org_id


def create_user(
    engine: Engine, username: str, password: str, *, role: str, org_code: str | None = None, level: str = "full"
) -> UserInfo:
    """Create a user; AccountError (one line) for a bad name, password, role, level, organisation or a taken name."""
    name = check_username(username)
    check_password(password)
    _check_role_level(role, level)
    org_id = _org_id(engine, org_code)
    now = _now()
    try:
        with engine.begin() as conn:
            user_id = conn.execute(
                insert(User)
                .values(username=name, password_hash=hash_password(password), role=role, org_id=org_id,
                        level=level, active=True, created_at=now)
                .returning(User.id)
            ).scalar_one()
    except IntegrityError:
        raise AccountError(f"the user name {name!r} is taken") from None
    return UserInfo(user_id, name, role, org_id, level, True, now, None)


def ensure_first_admin(engine: Engine) -> str | None:
    """On a store with no administrator, create ``admin`` with a random password and return it (else None)."""
    with engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(User).where(User.role == "admin")).scalar_one():
            return None
    password = generate_password()
    try:
        create_user(engine, FIRST_ADMIN, password, role="admin")
    except AccountError:  # another process created it first, or a non-admin took the name
        return None
    return password


def list_users(engine: Engine) -> list[UserInfo]:
    cols = (User.id, User.username, User.role, User.org_id, User.level, User.active, User.created_at, User.last_login_at)
    with engine.connect() as conn:
        return [UserInfo(*row) for row in conn.execute(select(*cols).order_by(User.username)).all()]


def find_user(engine: Engine, username: str) -> UserInfo | None:
    return next((u for u in list_users(engine) if u.username == username), None)


def set_password(engine: Engine, user_id: int, password: str) -> bool:
    """Set a new password and end the user's sessions; False if there is no such user."""
    check_password(password)
    with engine.begin() as conn:
        changed = conn.execute(update(User).where(User.id == user_id).values(password_hash=hash_password(password))).rowcount
        conn.execute(update(LoginSession).where(LoginSession.user_id == user_id).values(revoked=True))
    revoked()
    return changed == 1


def set_active(engine: Engine, user_id: int, active: bool) -> bool:
    """Activate or deactivate a user (deactivating ends their sessions); False if there is no such user."""
    with engine.begin() as conn:
        changed = conn.execute(update(User).where(User.id == user_id).values(active=active)).rowcount
        if not active:
            conn.execute(update(LoginSession).where(LoginSession.user_id == user_id).values(revoked=True))
    revoked()
    return changed == 1


def authenticate(engine: Engine, username: str, password: str) -> UserInfo | None:
    """The active user with this name and password, or None. Takes as long for an unknown name as for a wrong password."""
    if len(username) > USERNAME_MAX * 4 or len(password) > PASSWORD_MAX:
        return None
    name = unicodedata.normalize("NFKC", username).strip()
    with engine.connect() as conn:
        row = conn.execute(
            select(User.id, User.password_hash, User.role, User.org_id, User.level, User.active).where(User.username == name)
        ).one_or_none()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None or not row.active:
        return None
    now = _now()
    values: dict[str, object] = {"last_login_at": now}
    if _hasher.check_needs_rehash(row.password_hash):
        values["password_hash"] = hash_password(password)
    with engine.begin() as conn:
        conn.execute(update(User).where(User.id == row.id).values(**values))
    return UserInfo(row.id, name, row.role, row.org_id, row.level, True, None, now)


def open_session(engine: Engine, user_id: int, address: str | None = None, user_agent: str | None = None) -> str:
    """Start a session for the user; returns the cookie secret (only its SHA-256 is stored)."""
    secret = secrets.token_urlsafe(32)
    now = _now()
    with engine.begin() as conn:
        conn.execute(
            insert(LoginSession).values(
                token_hash=digest(secret), user_id=user_id, created_at=now, expires_at=now + SESSION_TTL,
                revoked=False, address=(address or "")[:64] or None, user_agent=(user_agent or "")[:200] or None,
            )
        )
    return secret


def close_session(engine: Engine, secret: str | None) -> None:
    if not secret:
        return
    with engine.begin() as conn:
        conn.execute(update(LoginSession).where(LoginSession.token_hash == digest(secret)).values(revoked=True))
    revoked()


_cache: RecentChecks[str, SessionUser | None] = RecentChecks(CACHE_TTL_S, CACHE_SIZE)
register_cache(_cache.clear)


def _load_session(engine: Engine, condition) -> SessionUser | None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        row = conn.execute(
            select(LoginSession.id, LoginSession.expires_at, LoginSession.revoked, User.id.label("user_id"),
                   User.username, User.role, User.org_id, User.level, User.active)
            .join(User, User.id == LoginSession.user_id)
            .where(condition)
        ).one_or_none()
    if row is None or row.revoked or not row.active or _aware(row.expires_at) <= _now():
        return None
    return SessionUser(row.id, row.user_id, row.username, row.role, row.org_id, row.level)


def session_user(engine: Engine, secret: str | None) -> SessionUser | None:
    """The user of a valid session cookie: not revoked, not expired, user still active; else None."""
    if not secret or len(secret) > 200:
        return None
    key = digest(secret)
    known, value = _cache.get(key)
    if not known:
        value = _load_session(engine, LoginSession.token_hash == key)
        _cache.put(key, value)
    return value


def session_valid(engine: Engine, session_id: int) -> bool:
    """Whether the session with this id is still good (checked again and again by live streams opened under it)."""
    key = f"id:{session_id}"
    known, value = _cache.get(key)
    if not known:
        value = _load_session(engine, LoginSession.id == session_id)
        _cache.put(key, value)
    return value is not None
