"""The cross-links drawn over the demo tree.

* 共建 partnerships (OrgLink): about one per ten branches, each pairing a
  branch of an urban unit (government body, institution, enterprise, social
  organisation) with a village or community branch, four in five times in
  the same province (the rest are east-west pairings across provinces).
* Self-organised member groups (MemberGroup): about one per 3,000 members,
  each of 8-40 members drawn from the whole of one province, so they cut
  across branches and committees; their home organisation is that province's
  committee.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from dashboard.demo.members import FULL, PROBATIONARY, MemberTable
from dashboard.demo.names import PlaceNames
from dashboard.demo.shape import OrgTable
from dashboard.store.models import LinkKind, OrgKind

BRANCHES_PER_LINK = 10
SAME_PROVINCE_LINKS = 0.8
LINKS_SINCE = (dt.date(2018, 1, 1), dt.date(2024, 12, 31))
URBAN_UNITS = ("government", "institution", "enterprise", "social")
MEMBERS_PER_MEMBER_GROUP = 3000
MEMBER_GROUP_SIZE = (8, 40)
# (topic, name pattern; {place} is a generated place name)
MEMBER_GROUP_KINDS = (
    ("理论学习", "{place}青年理论学习小组"),
    ("志愿服务", "{place}党员志愿服务队"),
    ("乡村振兴", "{place}乡村振兴帮扶队"),
    ("读书", "{place}红色读书会"),
    ("科技创新", "{place}党员科技攻关组"),
    ("社区治理", "{place}共治议事会"),
    ("宣讲", "{place}百姓宣讲团"),
    ("应急救援", "{place}党员应急突击队"),
)


@dataclass
class MemberGroups:
    rows: list[tuple[int, str, str, str, int]]  # id, code, name, topic, home_org_id
    memberships: list[tuple[int, int]]  # group_id, member_id


def partnerships(rng: np.random.Generator, orgs: OrgTable) -> list[tuple[int, int, int, str, str]]:
    """Rows for org_links: id, a_id, b_id (a_id < b_id), kind, since (ISO date)."""
    kinds = np.array(orgs.kinds)
    units = np.array([u or "" for u in orgs.unit_types])
    regions = np.array([r or "" for r in orgs.region_codes])
    branches = np.flatnonzero(kinds == OrgKind.branch.value)
    wanted = round(len(branches) / BRANCHES_PER_LINK)
    urban = branches[np.isin(units[branches], URBAN_UNITS)]
    rural = branches[~np.isin(units[branches], URBAN_UNITS)]
    if not len(urban) or not len(rural):
        urban = rural = branches
    if wanted == 0 or len(branches) < 2:
        return []
    a = rng.choice(urban, size=wanted)
    b = rng.choice(rural, size=wanted)
    same_province = rng.random(wanted) < SAME_PROVINCE_LINKS
    by_region = rural[np.argsort(regions[rural], kind="stable")]
    sorted_regions = regions[by_region]
    first = np.searchsorted(sorted_regions, regions[a], side="left")
    last = np.searchsorted(sorted_regions, regions[a], side="right")
    local = same_province & (last > first)
    pick = first + (rng.random(wanted) * (last - first)).astype(np.int64)
    b[local] = by_region[pick[local]]

    pairs = np.unique(np.sort(np.stack([a, b], axis=1), axis=1), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]] + 1
    first_day, last_day = (np.datetime64(d, "D") for d in LINKS_SINCE)
    since = first_day + rng.integers(0, int((last_day - first_day).astype(int)) + 1, size=len(pairs))
    return [
        (i + 1, x, y, LinkKind.partnership.value, day)
        for i, (x, y, day) in enumerate(zip(pairs[:, 0].tolist(), pairs[:, 1].tolist(), since.astype(str).tolist()))
    ]


def member_groups(rng: np.random.Generator, orgs: OrgTable, members: MemberTable) -> MemberGroups:
    """Self-organised groups of party members, each within one province."""
    is_member = (members.stages == FULL) | (members.stages == PROBATIONARY)
    wanted = int(np.count_nonzero(is_member)) // MEMBERS_PER_MEMBER_GROUP
    regions = np.array([r or "" for r in orgs.region_codes])
    member_rows = np.flatnonzero(is_member)
    member_regions = regions[members.org_ids[member_rows] - 1]
    order = np.argsort(member_regions, kind="stable")
    member_rows, member_regions = member_rows[order], member_regions[order]
    province_codes, starts, sizes = np.unique(member_regions, return_index=True, return_counts=True)
    keep = (province_codes != "") & (sizes >= MEMBER_GROUP_SIZE[0])
    province_codes, starts, sizes = province_codes[keep], starts[keep], sizes[keep]
    if wanted == 0 or not len(province_codes):
        return MemberGroups([], [])
    province_org = {orgs.region_codes[i]: i + 1 for i, level in enumerate(orgs.levels) if level == 1}

    places = PlaceNames(rng)
    homes = rng.choice(len(province_codes), size=wanted, p=sizes / sizes.sum())
    kinds = rng.integers(0, len(MEMBER_GROUP_KINDS), size=wanted)
    group_sizes = rng.integers(MEMBER_GROUP_SIZE[0], MEMBER_GROUP_SIZE[1] + 1, size=wanted)
    rows, memberships = [], []
    for g, (home, kind, size) in enumerate(zip(homes.tolist(), kinds.tolist(), group_sizes.tolist())):
        group_id = g + 1
        topic, pattern = MEMBER_GROUP_KINDS[kind]
        code = province_codes[home]
        rows.append((group_id, f"G{group_id:05d}", pattern.format(place=places.next()), topic, province_org[code]))
        size = min(size, int(sizes[home]))
        chosen = rng.choice(sizes[home], size=size, replace=False) + starts[home]
        memberships.extend((group_id, member_id) for member_id in sorted((member_rows[chosen] + 1).tolist()))
    return MemberGroups(rows, memberships)
