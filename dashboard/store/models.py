"""The store's tables (SQLAlchemy 2 declarative models).

The organisation tree keeps a materialised ``path`` ("/1/7/42/") so a subtree is
one indexed prefix scan in SQL, and ``level`` (0 at the top) so rules that
depend on depth need no recursion.

The events table is built for appends: an integer rowid key (``seq``) that only
grows, small integer columns, and idempotency through a 64-bit hash of the
client's id under a unique index instead of a random text primary key (which
costs ~8x in insert rate on SQLite).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class OrgKind(str, enum.Enum):
    """党委 / 党总支 / 党支部 / 党小组."""

    committee = "committee"
    general_branch = "general_branch"
    branch = "branch"
    group = "group"


class UnitType(str, enum.Enum):
    government = "government"
    institution = "institution"
    enterprise = "enterprise"
    social = "social"
    village = "village"
    community = "community"


class MemberStage(str, enum.Enum):
    """The recruitment pipeline; the last two are party members."""

    applicant = "applicant"
    activist = "activist"
    development_target = "development_target"
    probationary = "probationary"
    full = "full"


class Post(str, enum.Enum):
    secretary = "secretary"
    deputy_secretary = "deputy_secretary"
    committee_member = "committee_member"
    group_leader = "group_leader"


class LinkKind(str, enum.Enum):
    """Cross-links drawn over the tree: 共建 partnerships between organisations."""

    partnership = "partnership"


def _values(e: type[enum.Enum]) -> str:
    return ", ".join(f"'{m.value}'" for m in e)


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    level: Mapped[int] = mapped_column(SmallInteger)
    path: Mapped[str] = mapped_column(String(400), index=True)
    region_code: Mapped[str | None] = mapped_column(String(12), index=True)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    unit_type: Mapped[str | None] = mapped_column(String(20))

    __table_args__ = (
        CheckConstraint(f"kind IN ({_values(OrgKind)})", name="ck_org_kind"),
        CheckConstraint(f"unit_type IS NULL OR unit_type IN ({_values(UnitType)})", name="ck_org_unit_type"),
        CheckConstraint("level >= 0", name="ck_org_level"),
        CheckConstraint("(parent_id IS NULL) = (level = 0)", name="ck_org_root_level"),
        CheckConstraint("lon IS NULL OR (lon >= -180 AND lon <= 180)", name="ck_org_lon"),
        CheckConstraint("lat IS NULL OR (lat >= -90 AND lat <= 90)", name="ck_org_lat"),
    )


class OrgLink(Base):
    """A 共建 partnership between two organisations (undirected, stored once)."""

    __tablename__ = "org_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    a_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    b_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default=LinkKind.partnership.value)
    since: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("a_id", "b_id", "kind", name="uq_org_link"),
        CheckConstraint("a_id < b_id", name="ck_org_link_order"),
        CheckConstraint(f"kind IN ({_values(LinkKind)})", name="ck_org_link_kind"),
    )


class MemberGroup(Base):
    """A self-organised member group (自组织) that cuts across the tree."""

    __tablename__ = "member_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str | None] = mapped_column(String(100))
    home_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))


class MemberGroupMember(Base):
    __tablename__ = "member_group_members"

    group_id: Mapped[int] = mapped_column(ForeignKey("member_groups.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True, index=True)


class Member(Base):
    """A party member or someone in the recruitment pipeline (``stage``).

    ``status`` (正式 full / 预备 probationary) is derived from ``stage`` and kept
    as a column because every KPI filters on it.
    """

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    gender: Mapped[str] = mapped_column(String(1))
    ethnicity: Mapped[str] = mapped_column(String(20))
    birth_year: Mapped[int] = mapped_column(SmallInteger)
    education: Mapped[str] = mapped_column(String(20))
    occupation: Mapped[str] = mapped_column(String(20))
    post: Mapped[str | None] = mapped_column(String(20))
    join_date: Mapped[dt.date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(20))
    # Never the ID number itself: its HMAC under the installation key, to match a re-imported roster without
    # member codes, and its last four characters for a person to check (docs/import.md).
    id_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    id_tail: Mapped[str | None] = mapped_column(String(4))

    __table_args__ = (
        CheckConstraint(f"stage IN ({_values(MemberStage)})", name="ck_member_stage"),
        CheckConstraint("gender IN ('M', 'F')", name="ck_member_gender"),
        CheckConstraint(f"post IS NULL OR post IN ({_values(Post)})", name="ck_member_post"),
        CheckConstraint("birth_year BETWEEN 1900 AND 2100", name="ck_member_birth_year"),
        CheckConstraint(
            "(stage IN ('probationary', 'full')) = (join_date IS NOT NULL)",
            name="ck_member_join_date",
        ),
    )


class Event(Base):
    """One accepted activity. Append-only; ``seq`` orders them.

    ``ts_ms`` is milliseconds since the epoch (UTC): an integer keeps the row
    small and compares fast on every backend. ``data`` is the event's JSON.
    """

    __tablename__ = "events"

    # INTEGER on SQLite makes it the rowid (fast appends); BIGINT elsewhere.
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    key_hash: Mapped[int | None] = mapped_column(BigInteger)
    event_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(32))
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    org_id: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("uq_events_key_hash", "key_hash", unique=True), Index("ix_events_ts_seq", "ts_ms", "seq"))


class Token(Base):
    """An API or display token. Only its SHA-256 is stored."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    level: Mapped[str] = mapped_column(String(10), default="full")
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        CheckConstraint("role IN ('ingest', 'display', 'admin')", name="ck_token_role"),
        CheckConstraint("level IN ('full', 'public')", name="ck_token_level"),
    )


class User(Base):
    """A person who signs in: an administrator, or a leader or staff member scoped to a subtree.

    ``org_id`` None is the whole tree. Only the argon2 hash of the password is kept.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    level: Mapped[str] = mapped_column(String(10), default="full")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("role IN ('admin', 'leader', 'staff')", name="ck_user_role"),
        CheckConstraint("level IN ('full', 'public')", name="ck_user_level"),
    )


class LoginSession(Base):
    """A signed-in browser. The cookie holds a random secret; only its SHA-256 is stored."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))


class AuditEntry(Base):
    """One line of the audit log: who did what, to what, from where, and whether it was allowed."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(10))
    address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (CheckConstraint("outcome IN ('ok', 'refused')", name="ck_audit_outcome"),)


class ServerSecret(Base):
    """A secret of this deployment (the ticket-signing key), created once in its own database."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

class RosterEdits(Base):
    """One row (id 1): ``n`` counts the edits of members' counted fields, bumped by database triggers.

    Part of a live snapshot's fingerprint (dashboard/live/aggregator/snapshot.py):
    any UPDATE of a column the aggregates read, or any DELETE, by anyone,
    moves it (migration 0007_roster_edits). ``own`` is the part of ``n`` that
    the ingest's completed transfers caused (recorded as events, so replayed
    after a snapshot): the fingerprint takes ``n - own``.
    """

    __tablename__ = "roster_edits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)
    own: Mapped[int] = mapped_column(BigInteger)


class LiveSnapshot(Base):
    """The live aggregates as of ``last_seq``, so a start replays only the events after it.

    ``state`` is the aggregator's state (dashboard/live/aggregator/snapshot.py),
    signed with the server's key (``signature``); ``fingerprint`` names the
    organisation tree and roll it was counted over — a snapshot whose
    fingerprint differs from the store's is not used.
    """

    __tablename__ = "live_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    taken_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seq: Mapped[int] = mapped_column(BigInteger)
    format: Mapped[int] = mapped_column(SmallInteger)
    fingerprint: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(64))
    state: Mapped[bytes] = mapped_column(LargeBinary)
