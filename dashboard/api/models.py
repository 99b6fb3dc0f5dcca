"""Response models of the read API (``GET /api/orgs``, ``/api/members``); the snapshot's is in dashboard/live/contracts.py.

Closed like the live contracts (extra fields forbidden), so a column added to
what a route returns fails its response validation instead of leaking out
unannounced, and /api/docs shows each answer's fields.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ReadModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrgOut(ReadModel):
    """An organisation as the tree lists it (no people, so the same at both levels)."""

    code: str
    name: str
    kind: str
    level: int
    region: str | None
    unit_type: str | None
    lon: float | None
    lat: float | None
    parent: str | None


class MemberOut(ReadModel):
    """A member on the roll; ``phone`` only for administrators."""

    code: str
    name: str
    org: str
    stage: str
    gender: str
    ethnicity: str
    birth_year: int
    education: str
    occupation: str
    post: str | None
    join_date: str | None
    phone: str | None = None


class MembersPage(ReadModel):
    """One page of a subtree's members, by id, and how many the subtree has."""

    total: int
    offset: int
    members: list[MemberOut]
