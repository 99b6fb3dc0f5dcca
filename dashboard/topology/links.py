"""The cross-links of the organisation tree, read from the store: 共建 partnerships and member groups.

The OrgTree carries the hierarchy only; the topology also needs the links
that cut across it. A partnership joins two organisations directly; a
self-organised member group joins every organisation one of its members
belongs to. Ends that are not in the tree (an orphan, a deleted
organisation) are left out and counted, so a bad import shows as a warning
instead of a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Engine, func, select

from dashboard.store.models import Member, MemberGroup, MemberGroupMember, Organisation, OrgLink
from dashboard.store.tree import OrgTree

MAX_REPORTED = 20  # problems listed one by one; a bad import can break thousands of links


@dataclass(frozen=True)
class MemberGroupLink:
    """A member group and the distinct organisations (ids, ascending) its members belong to."""

    id: int
    code: str
    name: str
    org_ids: tuple[int, ...]


@dataclass(frozen=True)
class CrossLinks:
    partnerships: np.ndarray  # shape (n, 2): org ids, a < b
    groups: tuple[MemberGroupLink, ...]
    signature: tuple[int, ...]  # changes when the stored links change (see ``links_signature``)
    problems: tuple[str, ...] = field(default=())

    @property
    def group_memberships(self) -> int:
        return sum(len(g.org_ids) for g in self.groups)


def links_signature(engine: Engine) -> tuple[int, ...]:
    """A cheap fingerprint of the stored links: counts and id/key sums of both tables."""
    with engine.connect() as conn:
        links = conn.execute(select(func.count(), func.coalesce(func.sum(OrgLink.id + OrgLink.a_id + OrgLink.b_id), 0))).one()
        members = conn.execute(
            select(func.count(), func.coalesce(func.sum(MemberGroupMember.group_id * 7 + MemberGroupMember.member_id), 0))
        ).one()
    return (int(links[0]), int(links[1]), int(members[0]), int(members[1]))


def _label(org_id: int, tree: OrgTree, stored: dict[int, str]) -> str:
    if org_id in tree:
        return tree.nodes[org_id].code
    return stored.get(org_id, f"#{org_id}")


def _listed(problems: list[str], what: str) -> list[str]:
    if len(problems) <= MAX_REPORTED:
        return problems
    return [*problems[:MAX_REPORTED], f"… and {len(problems) - MAX_REPORTED} more {what}"]


def load_cross_links(engine: Engine, tree: OrgTree) -> CrossLinks:
    """Both kinds of cross-links, with ends outside the tree dropped and reported by code."""
    signature = links_signature(engine)
    with engine.connect() as conn:
        pairs = conn.execute(select(OrgLink.a_id, OrgLink.b_id).order_by(OrgLink.id)).all()
        groups = conn.execute(select(MemberGroup.id, MemberGroup.code, MemberGroup.name).order_by(MemberGroup.id)).all()
        member_orgs = conn.execute(
            select(MemberGroupMember.group_id, Member.org_id)
            .join(Member, Member.id == MemberGroupMember.member_id)
            .distinct()
        ).all()
        strangers = {o for pair in pairs for o in pair if o not in tree} | {o for _, o in member_orgs if o not in tree}
        query = select(Organisation.id, Organisation.code).where(Organisation.id.in_(strangers))
        stored = {i: c for i, c in conn.execute(query).all()} if strangers else {}
    inside = [(a, b) for a, b in pairs if a in tree and b in tree and a != b]
    broken = [
        f"partnership {_label(a, tree, stored)}–{_label(b, tree, stored)}: "
        f"{', '.join(_label(o, tree, stored) for o in (a, b) if o not in tree)} not in the tree; not drawn"
        for a, b in pairs
        if a not in tree or b not in tree
    ]
    partnerships = np.array(sorted({(min(a, b), max(a, b)) for a, b in inside}), dtype=np.int64).reshape(-1, 2)
    orgs_of: dict[int, set[int]] = {}
    lost: dict[int, set[int]] = {}
    for group_id, org_id in member_orgs:
        (orgs_of if org_id in tree else lost).setdefault(group_id, set()).add(org_id)
    names = {gid: (code, title) for gid, code, title in groups}
    astray = [
        f"member group {names.get(gid, (f'#{gid}', ''))[0]} ({names.get(gid, ('', ''))[1]}): members in "
        f"{', '.join(sorted(_label(o, tree, stored) for o in orgs))}, not in the tree; not drawn"
        for gid, orgs in sorted(lost.items())
    ]
    links = tuple(MemberGroupLink(gid, code, title, tuple(sorted(orgs_of.get(gid, ())))) for gid, code, title in groups)
    problems = (*_listed(broken, "partnerships"), *_listed(astray, "member groups"))
    return CrossLinks(partnerships, links, signature, problems)
