"""Members of a subtree with their names: what ``GET /api/members`` answers (full level only)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from dashboard.store.models import Member, Organisation

MAX_PAGE = 1000


def members_of(engine: Engine, org_id: int, *, limit: int = 100, offset: int = 0, with_phone: bool = False) -> dict[str, Any]:
    """One page of the members of ``org_id``'s subtree, by id, and the subtree's total; phones only ``with_phone``."""
    cols = [Member.code, Member.name, Organisation.code.label("org"), Member.stage, Member.gender, Member.ethnicity,
            Member.birth_year, Member.education, Member.occupation, Member.post, Member.join_date]
    if with_phone:
        cols.append(Member.phone)
    with engine.connect() as conn:
        path = conn.execute(select(Organisation.path).where(Organisation.id == org_id)).scalar_one()
        in_subtree = Organisation.path.startswith(path, autoescape=True)
        members = select(*cols).join(Organisation, Organisation.id == Member.org_id).where(in_subtree)
        rows = conn.execute(
            members.order_by(Member.id).limit(max(1, min(limit, MAX_PAGE))).offset(max(0, offset))
        ).mappings().all()
        total = conn.execute(
            select(func.count()).select_from(Member).join(Organisation, Organisation.id == Member.org_id).where(in_subtree)
        ).scalar_one()
    page = [{**row, "join_date": row["join_date"].isoformat() if row["join_date"] else None} for row in rows]
    return {"total": total, "offset": max(0, offset), "members": page}
