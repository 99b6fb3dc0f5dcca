"""What the database holds now, read once at the start of an import.

Organisations, links and tokens are small and come as Python objects; the
roster can be millions of rows and comes as a DataFrame in the same shape the
file's rows are parsed into (text columns, '' for NULL, categoricals for the
few-valued ones), read in chunks so the peak stays near the frame's own size.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals
from sqlalchemy import Engine, case, func, inspect, select

from dashboard.store.models import Event, Member, Organisation, OrgLink, Token

MEMBER_FIELDS = ("code", "name", "org_id", "stage", "gender", "ethnicity", "birth_year", "education", "occupation",
                 "post", "join_date", "phone", "id_hash", "id_tail")
CATEGORICAL_FIELDS = ("stage", "gender", "ethnicity", "education", "occupation", "post", "join_date")
FETCH_ROWS = 200_000
# Tables whose references to organisations and members an import rewrites itself.
HANDLED_TABLES = frozenset({"organisations", "members", "org_links", "member_groups", "member_group_members", "tokens"})


@dataclass(frozen=True, slots=True)
class StoredOrg:
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    level: int
    path: str
    region_code: str | None
    lon: float | None
    lat: float | None
    unit_type: str | None

    def as_tuple(self) -> tuple[object, ...]:
        return (self.id, self.code, self.name, self.kind, self.parent_id, self.level, self.path, self.region_code,
                self.lon, self.lat, self.unit_type)


@dataclass(frozen=True, slots=True)
class StoredLink:
    id: int
    a_id: int
    b_id: int
    kind: str
    since: dt.date | None


@dataclass(frozen=True, slots=True)
class StoredToken:
    id: int
    org_id: int
    role: str
    label: str | None


@dataclass
class StoredState:
    orgs: dict[str, StoredOrg]
    links: list[StoredLink]
    tokens: list[StoredToken]
    next_org_id: int
    next_member_id: int
    next_link_id: int
    # (table, column) → referenced ids, for tables an import does not rewrite (e.g. users.org_id)
    foreign_org_refs: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    foreign_member_refs: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.orgs_by_id = {o.id: o for o in self.orgs.values()}

    def code_of(self, org_id: int | None) -> str | None:
        org = self.orgs_by_id.get(org_id) if org_id is not None else None
        return org.code if org else None


def read_state(engine: Engine) -> StoredState:
    with engine.connect() as conn:
        orgs = {row.code: StoredOrg(*row) for row in conn.execute(select(
            Organisation.id, Organisation.code, Organisation.name, Organisation.kind, Organisation.parent_id,
            Organisation.level, Organisation.path, Organisation.region_code, Organisation.lon, Organisation.lat,
            Organisation.unit_type,
        ))}
        links = [StoredLink(*row) for row in conn.execute(select(
            OrgLink.id, OrgLink.a_id, OrgLink.b_id, OrgLink.kind, OrgLink.since
        ))]
        tokens = [StoredToken(*row) for row in conn.execute(
            select(Token.id, Token.org_id, Token.role, Token.label).where(Token.org_id.is_not(None))
        )]
        # Ids an event still refers to are never handed out again, so old history cannot land on a new organisation.
        max_event_org, max_event_member = conn.execute(select(func.max(Event.org_id), func.max(Event.member_id))).one()
        max_member = conn.execute(select(func.max(Member.id))).scalar()
        max_link = conn.execute(select(func.max(OrgLink.id))).scalar()
    max_org = max((o.id for o in orgs.values()), default=0)
    state = StoredState(
        orgs=orgs,
        links=links,
        tokens=tokens,
        next_org_id=max(max_org, max_event_org or 0) + 1,
        next_member_id=max(max_member or 0, max_event_member or 0) + 1,
        next_link_id=(max_link or 0) + 1,
    )
    state.foreign_org_refs, state.foreign_member_refs = _foreign_references(engine)
    return state


def _foreign_references(engine: Engine) -> tuple[dict[tuple[str, str], list[int]], dict[tuple[str, str], list[int]]]:
    """Ids of organisations and members referred to from tables the import does not rewrite."""
    inspector = inspect(engine)
    org_refs: dict[tuple[str, str], list[int]] = {}
    member_refs: dict[tuple[str, str], list[int]] = {}
    with engine.connect() as conn:
        for table in inspector.get_table_names():
            if table in HANDLED_TABLES:
                continue
            for fk in inspector.get_foreign_keys(table):
                target = {"organisations": org_refs, "members": member_refs}.get(fk["referred_table"])
                if target is None or len(fk["constrained_columns"]) != 1:
                    continue
                column = fk["constrained_columns"][0]
                ids = conn.exec_driver_sql(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL').scalars().all()
                if ids:
                    target[(table, column)] = list(ids)
    return org_refs, member_refs


def read_members(engine: Engine) -> pd.DataFrame:
    """The roster, with ``id``, in the parsed-file shape (see the module docstring).

    Read through the driver's cursor: plain tuples, ``FETCH_ROWS`` at a time
    (SQLAlchemy rows handed to pandas cost ten times more, per row).
    """
    columns = ["id", *MEMBER_FIELDS]
    frames = []
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(f"SELECT {', '.join(columns)} FROM members")
        while rows := cursor.fetchmany(FETCH_ROWS):
            frames.append(_member_frame(pd.DataFrame.from_records(rows, columns=columns)))
        cursor.close()
    finally:
        raw.close()
    if not frames:
        return _member_frame(pd.DataFrame(columns=columns))
    if len(frames) == 1:
        return frames[0]
    whole = pd.concat(frames, ignore_index=True)
    for column in CATEGORICAL_FIELDS:  # each chunk has its own categories: unite them
        whole[column] = pd.Series(union_categoricals([f[column].array for f in frames]))
    return whole


def _member_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({
        "id": frame["id"].astype("int64"),
        "code": frame["code"].astype(str),
        "name": frame["name"].astype(str),
        "org_id": frame["org_id"].astype("int64"),
        "birth_year": frame["birth_year"].astype("int64"),
        "phone": frame["phone"].fillna("").astype(str),
        "id_hash": frame["id_hash"].fillna("").astype(str),
        "id_tail": frame["id_tail"].fillna("").astype(str),
    })
    for column in CATEGORICAL_FIELDS:
        values = frame[column].astype("category")
        text = [_text(v) for v in values.cat.categories.tolist()] + [""]  # each distinct value converted once
        codes = values.cat.codes.to_numpy()
        out[column] = pd.Series(np.array(text, dtype=object)[np.where(codes >= 0, codes, len(text) - 1)]).astype("category")
    return out[["id", *MEMBER_FIELDS]]


def _text(value: object) -> str:
    """A stored value as the file's text: dates in ISO form (PostgreSQL hands back dates, SQLite text)."""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def member_counts(engine: Engine) -> pd.DataFrame:
    """Per organisation: members and full members (for checks when no roster file is given)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Member.org_id, func.count(), func.sum(case((Member.stage == "full", 1), else_=0)))
            .group_by(Member.org_id)
        ).all()
    return pd.DataFrame(rows, columns=["org_id", "members", "full"]).astype("int64")
