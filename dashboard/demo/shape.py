"""The demo organisation's tree: which organisations exist and how many members each holds.

Shape, top down (codes in brackets)::

    连心示范党委 (LX)                                        top committee
    └─ 北京市示范党委 (LX-110000)                            one per provincial-level division
       └─ 清河片区党委 (LX-110000-001)                       areas, only in provinces with > 12 committees
          └─ 石桥教育局机关党委 (…-001-003)                  grassroots committees, one unit type each
             ├─ 石桥教育局第一党总支 (…-003-001)             general branches, holding 3-5 branches
             │  └─ 石桥教育局办公室党支部 (…-001-002)
             └─ 石桥教育局综合科党支部 (…-003-004)           branches
                └─ …党支部第一党小组 (…-004-001)             groups (named with their branch), in branches of 20 or more

The counts follow the bulletin: one branch per ~22 members, ~15 branches per
grassroots committee, one general branch per ~14 branches; branches split by
unit type (2023 shares), provinces by population weight. Depth therefore grows
with the size asked for: a 2,000-member organisation has no areas, a
million-member one has them in most provinces.

A member belongs to the smallest unit: the group if the branch has groups,
else the branch. Posts are held where they apply: a branch's secretary and
committee members belong to the branch itself, a group leader to the group,
a committee's leading body to the committee. ``OrgTable.posts`` lists, per
organisation, the posts of its first members in order.

Identifiers are assigned in depth-first order, so a subtree is a contiguous
id range and members (written org by org) arrive in index order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from dashboard.demo.geo import RegionShape
from dashboard.demo.names import PlaceNames, chinese_number
from dashboard.demo.stats import DemoStatistics
from dashboard.map.regions import PROVINCES
from dashboard.store.models import OrgKind, Post

TOP_CODE = "LX"
TOP_NAME = "连心示范党委"

COMMITTEES_PER_AREA = 12
BRANCHES_PER_GENERAL_BRANCH = (3, 5)
GROUPS_FROM_MEMBERS = 20
MEMBERS_PER_GROUP = 10
LARGE_BRANCH_MEMBERS = 50
SMALL_BRANCH_MEMBERS = 7
BRANCH_SIZE_SIGMA = 0.6  # log-normal spread of branch sizes around the mean
BRANCH_JITTER = 1 / 20  # branch points scatter this fraction of the province spread around their committee

_GROUP, _BRANCH = OrgKind.group.value, OrgKind.branch.value
_S, _D, _C, _G = Post.secretary.value, Post.deputy_secretary.value, Post.committee_member.value, Post.group_leader.value
TOP_BODY = (_S, _D, _D, _C, _C, _C, _C, _C, _C)
PROVINCE_BODY = (_S, _D, _C, _C, _C, _C, _C)
COMMITTEE_BODY = (_S, _D, _C, _C, _C)
SMALL_BODY = (_S, _C, _C)
LONE_SECRETARY = (_S,)
GROUP_BODY = (_G,)

BUREAUS = ("教育局", "财政局", "民政局", "司法局", "农业农村局", "交通运输局", "卫生健康委", "市场监管局",
           "自然资源局", "生态环境局", "住房城乡建设局", "人力资源社会保障局", "文化旅游局", "应急管理局", "统计局")
_HOSPITAL = ("行政后勤", "内科", "外科", "医技", "护理部", "离退休")
_SCHOOL = ("行政后勤", "教务处", "政教处", "语文教研组", "数学教研组", "离退休")
# Each institution with the departments it has in life (a hospital has 内科, a TV station 新闻部).
INSTITUTION_DEPARTMENTS: dict[str, tuple[str, ...]] = {
    "第一人民医院": _HOSPITAL,
    "中心医院": _HOSPITAL,
    "妇幼保健院": ("行政后勤", "妇产科", "儿科", "保健部", "医技", "离退休"),
    "第一中学": _SCHOOL,
    "实验小学": _SCHOOL,
    "职业技术学院": ("机关", "教务处", "学生工作处", "机电工程系", "经济管理系", "信息工程系", "离退休"),
    "图书馆": ("办公室", "采编部", "借阅部", "信息技术部", "离退休"),
    "疾病预防控制中心": ("办公室", "传染病防制科", "免疫规划科", "检验科", "离退休"),
    "农业科学研究院": ("机关", "作物研究所", "园艺研究所", "植物保护研究所", "离退休"),
    "广播电视台": ("办公室", "新闻部", "专题部", "技术部", "离退休"),
    "博物馆": ("办公室", "陈列部", "保管部", "社会教育部", "离退休"),
    "气象台": ("办公室", "预报科", "观测科", "信息中心", "离退休"),
}
INSTITUTIONS = tuple(INSTITUTION_DEPARTMENTS)
INDUSTRIES = ("能源", "建设", "交通", "物流", "电力", "制造", "农业发展", "水务", "信息技术", "化工", "食品", "纺织")
COMPANY_FORMS = ("有限公司", "集团有限公司", "股份有限公司")
SOCIAL_ORGS = ("律师协会", "会计师协会", "商会", "个体劳动者协会", "社会工作服务中心", "志愿者协会", "慈善总会")
DEPARTMENTS = {
    "government": ("办公室", "综合科", "政策法规科", "财务科", "人事科", "业务一科", "业务二科", "执法大队", "信息中心",
                   "离退休干部"),
    "enterprise": ("生产一车间", "生产二车间", "研发中心", "销售部", "财务部", "综合办公室", "质量管理部", "物流部",
                   "安全环保部", "项目部"),
    "social": ("秘书处", "会员服务部", "项目部", "联合"),
}


@dataclass
class CommitteePlan:
    unit_type: str
    general_branches: list[int]
    loose_branches: int

    @property
    def branches(self) -> int:
        return sum(self.general_branches) + self.loose_branches


@dataclass
class ProvincePlan:
    code: str
    areas: list[list[CommitteePlan]]
    has_areas: bool

    @property
    def branches(self) -> int:
        return sum(c.branches for area in self.areas for c in area)


@dataclass
class OrgTable:
    """The organisations as columns; an organisation's id is its index + 1."""

    codes: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    parent_ids: list[int | None] = field(default_factory=list)
    levels: list[int] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    region_codes: list[str | None] = field(default_factory=list)
    lons: list[float | None] = field(default_factory=list)
    lats: list[float | None] = field(default_factory=list)
    unit_types: list[str | None] = field(default_factory=list)
    direct_members: list[int] = field(default_factory=list)
    pipeline: list[int] = field(default_factory=list)
    posts: list[tuple[str, ...]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.codes)

    def add(
        self,
        *,
        code: str,
        name: str,
        kind: OrgKind,
        parent_id: int | None,
        region_code: str | None,
        point: tuple[float, float] | None,
        unit_type: str | None,
        posts: tuple[str, ...] = (),
        members: int | None = None,
    ) -> int:
        """Append an organisation (its members default to one per post); return its id."""
        org_id = len(self.codes) + 1
        self.codes.append(code)
        self.names.append(name)
        self.kinds.append(kind.value)
        self.parent_ids.append(parent_id)
        if parent_id is None:
            self.levels.append(0)
            self.paths.append(f"/{org_id}/")
        else:
            self.levels.append(self.levels[parent_id - 1] + 1)
            self.paths.append(f"{self.paths[parent_id - 1]}{org_id}/")
        self.region_codes.append(region_code)
        self.lons.append(point[0] if point else None)
        self.lats.append(point[1] if point else None)
        self.unit_types.append(unit_type)
        self.direct_members.append(len(posts) if members is None else members)
        self.pipeline.append(0)
        self.posts.append(posts)
        return org_id

    def count(self, kind: OrgKind) -> int:
        return self.kinds.count(kind.value)

    def rows(self) -> list[tuple]:
        """Rows for the organisations table: id, code, name, kind, parent_id, level, path, region_code, lon, lat, unit_type."""
        return list(
            zip(
                range(1, len(self) + 1),
                self.codes,
                self.names,
                self.kinds,
                self.parent_ids,
                self.levels,
                self.paths,
                self.region_codes,
                self.lons,
                self.lats,
                self.unit_types,
            )
        )


def branch_count(members: int, stats: DemoStatistics) -> int:
    """About one branch per ``average_branch_members`` members (leading bodies take ~2.5 %)."""
    minimum = stats.min_full_members_per_branch
    return max(1, min(members // minimum, round(members / (stats.average_branch_members * 1.025))))


def plan_provinces(rng: np.random.Generator, branches: int, stats: DemoStatistics) -> list[ProvincePlan]:
    """Spread ``branches`` over provinces, unit types, committees, general branches and areas."""
    codes = [p.code for p in PROVINCES if p.code in stats.region_weights]  # the 31 mainland divisions
    weights = np.array([stats.region_weights[c] for c in codes])
    per_province = np.zeros(len(codes), dtype=np.int64)
    if branches >= len(codes):
        per_province[:] = 1
    per_province += rng.multinomial(branches - per_province.sum(), weights / weights.sum())

    plans = []
    per_committee = 1 / stats.committees_per_branch
    for code, province_branches in zip(codes, per_province):
        committees: list[CommitteePlan] = []
        by_type = rng.multinomial(province_branches, stats.unit_types.shares)
        for unit_type, type_branches in zip(stats.unit_types.keys, by_type):
            if type_branches == 0:
                continue
            n_committees = math.ceil(type_branches / per_committee)
            sizes = 1 + rng.multinomial(type_branches - n_committees, np.full(n_committees, 1 / n_committees))
            committees.extend(_committee_plan(rng, unit_type, int(k), stats) for k in sizes)
        order = rng.permutation(len(committees))
        committees = [committees[i] for i in order]
        if len(committees) > COMMITTEES_PER_AREA:
            n_areas = math.ceil(len(committees) / COMMITTEES_PER_AREA)
            areas = [list(chunk) for chunk in np.array_split(np.array(committees, dtype=object), n_areas)]
            plans.append(ProvincePlan(code, areas, True))
        else:
            plans.append(ProvincePlan(code, [committees], False))
    return plans


def _committee_plan(rng: np.random.Generator, unit_type: str, branches: int, stats: DemoStatistics) -> CommitteePlan:
    low, high = BRANCHES_PER_GENERAL_BRANCH
    wanted = min(int(rng.binomial(branches, stats.general_branches_per_branch)), branches // low)
    general: list[int] = []
    left = branches
    for _ in range(wanted):
        take = min(int(rng.integers(low, high + 1)), left)
        general.append(take)
        left -= take
    return CommitteePlan(unit_type, general, left)


def top_body(branches: int) -> tuple[str, ...]:
    return TOP_BODY if branches >= 30 else SMALL_BODY if branches >= 3 else ()


def province_body(branches: int) -> tuple[str, ...]:
    return PROVINCE_BODY if branches >= 30 else SMALL_BODY if branches >= 3 else ()


def committee_body(branches: int) -> tuple[str, ...]:
    return COMMITTEE_BODY if branches >= 6 else SMALL_BODY


def leadership_members(plans: list[ProvincePlan]) -> int:
    """Members who sit in the leading bodies of committees and general branches."""
    total = len(top_body(sum(p.branches for p in plans)))
    for plan in plans:
        total += len(province_body(plan.branches))
        for area in plan.areas:
            if plan.has_areas:
                total += len(committee_body(sum(c.branches for c in area)))
            for committee in area:
                total += len(committee_body(committee.branches)) + len(SMALL_BODY) * len(committee.general_branches)
    return total


def branch_sizes(rng: np.random.Generator, branches: int, members: int, minimum: int) -> np.ndarray:
    """``branches`` sizes of at least ``minimum`` summing to ``members``, skewed like real branches."""
    weights = rng.lognormal(0.0, BRANCH_SIZE_SIGMA, size=branches)
    return minimum + rng.multinomial(members - minimum * branches, weights / weights.sum())


def branch_layout(size: int) -> tuple[tuple[str, ...], list[int]]:
    """The posts a branch of ``size`` members holds directly, and its groups' sizes."""
    if size < GROUPS_FROM_MEMBERS:
        return (SMALL_BODY if size >= SMALL_BRANCH_MEMBERS else LONE_SECRETARY), []
    body = COMMITTEE_BODY if size >= LARGE_BRANCH_MEMBERS else SMALL_BODY
    rest = size - len(body)
    n_groups = max(2, round(rest / MEMBERS_PER_GROUP))
    return body, [rest // n_groups + (1 if i < rest % n_groups else 0) for i in range(n_groups)]


class _Builder:
    """Emits the planned tree depth first into an OrgTable."""

    def __init__(
        self,
        rng: np.random.Generator,
        shapes: dict[str, RegionShape],
        sizes: np.ndarray,
        with_bodies: bool,
    ) -> None:
        self.rng = rng
        self.shapes = shapes
        self.sizes = iter(sizes.tolist())
        self.with_bodies = with_bodies
        self.places = PlaceNames(rng)
        self.table = OrgTable()
        self.jitter: list[float] = []

    def _body(self, posts: tuple[str, ...]) -> tuple[str, ...]:
        return posts if self.with_bodies else ()

    def _add(self, jitter: float = 0.0, **kwargs) -> int:  # type: ignore[no-untyped-def]
        self.jitter.append(jitter)
        return self.table.add(**kwargs)

    def build(self, plans: list[ProvincePlan]) -> OrgTable:
        total_branches = sum(p.branches for p in plans)
        top = self._add(
            code=TOP_CODE, name=TOP_NAME, kind=OrgKind.committee, parent_id=None, region_code=None, point=None,
            unit_type=None, posts=self._body(top_body(total_branches)),
        )
        names = {p.code: p.name for p in PROVINCES}
        for plan in plans:
            self._province(plan, top, names[plan.code])
        self._scatter_branches()
        return self.table

    def _province(self, plan: ProvincePlan, top: int, name: str) -> None:
        shape = self.shapes[plan.code]
        code = f"{TOP_CODE}-{plan.code}"
        province = self._add(
            code=code, name=f"{name}示范党委", kind=OrgKind.committee, parent_id=top, region_code=plan.code,
            point=(shape.lon, shape.lat), unit_type=None, posts=self._body(province_body(plan.branches)),
        )
        n = len(plan.areas)
        if plan.has_areas:
            area_lon, area_lat = shape.scatter(self.rng, np.full(n, shape.lon), np.full(n, shape.lat), shape.spread)
        else:
            area_lon, area_lat = np.array([shape.lon]), np.array([shape.lat])
        for a, area in enumerate(plan.areas):
            parent, parent_code, spread = province, code, shape.spread
            if plan.has_areas:
                parent_code = f"{code}-{a + 1:03d}"
                parent = self._add(
                    code=parent_code, name=f"{self.places.next()}片区党委", kind=OrgKind.committee,
                    parent_id=province, region_code=plan.code, point=_rounded(area_lon[a], area_lat[a]),
                    unit_type=None, posts=self._body(committee_body(sum(c.branches for c in area))),
                )
                spread = shape.spread / 3
            m = len(area)
            lon, lat = shape.scatter(self.rng, np.full(m, area_lon[a]), np.full(m, area_lat[a]), spread)
            for c, committee in enumerate(area):
                self._committee(committee, parent, f"{parent_code}-{c + 1:03d}", plan.code, _rounded(lon[c], lat[c]))

    def _committee(self, plan: CommitteePlan, parent: int, code: str, region: str, point: tuple[float, float]) -> None:
        unit, name = self._unit_name(plan.unit_type)
        committee = self._add(
            code=code, name=name, kind=OrgKind.committee, parent_id=parent, region_code=region, point=point,
            unit_type=plan.unit_type, posts=self._body(committee_body(plan.branches)),
        )
        jitter = self.shapes[region].spread * BRANCH_JITTER
        ordinal = 0
        for g, branches in enumerate(plan.general_branches):
            general_code = f"{code}-{g + 1:03d}"
            general = self._add(
                jitter, code=general_code, name=f"{unit}第{chinese_number(g + 1)}党总支",
                kind=OrgKind.general_branch, parent_id=committee, region_code=region, point=point,
                unit_type=plan.unit_type, posts=self._body(SMALL_BODY),
            )
            for b in range(branches):
                self._branch(plan.unit_type, unit, ordinal, general, f"{general_code}-{b + 1:03d}", region, point, jitter)
                ordinal += 1
        for b in range(plan.loose_branches):
            branch_code = f"{code}-{len(plan.general_branches) + b + 1:03d}"
            self._branch(plan.unit_type, unit, ordinal, committee, branch_code, region, point, jitter)
            ordinal += 1

    def _branch(
        self,
        unit_type: str,
        unit: str,
        ordinal: int,
        parent: int,
        code: str,
        region: str,
        point: tuple[float, float],
        jitter: float,
    ) -> None:
        size = next(self.sizes)
        posts, groups = branch_layout(size)
        branch_name = self._branch_name(unit_type, unit, ordinal)
        branch = self._add(
            jitter, code=code, name=branch_name, kind=OrgKind.branch,
            parent_id=parent, region_code=region, point=point, unit_type=unit_type, posts=posts,
            members=size - sum(groups),
        )
        for g, group_size in enumerate(groups):
            self._add(
                code=f"{code}-{g + 1:03d}", name=f"{branch_name}第{chinese_number(g + 1)}党小组", kind=OrgKind.group,
                parent_id=branch, region_code=region, point=point, unit_type=unit_type, posts=GROUP_BODY,
                members=group_size,
            )

    def _unit_name(self, unit_type: str) -> tuple[str, str]:
        """The unit's name (prefix of its branches' names) and its committee's name."""
        place = self.places.next()
        pick = self.rng.integers

        def one(options: tuple[str, ...]) -> str:
            return options[int(pick(len(options)))]

        if unit_type == "government":
            unit = place + one(BUREAUS)
            return unit, unit + "机关党委"
        if unit_type == "institution":
            unit = place + one(INSTITUTIONS)
        elif unit_type == "enterprise":
            unit = place + one(INDUSTRIES) + one(COMPANY_FORMS)
        elif unit_type == "social":
            unit = place + one(SOCIAL_ORGS)
        elif unit_type == "village":
            unit = place + "镇"
        else:
            unit = place + "街道"
            return unit, unit + "党工委"
        return unit, unit + "党委"

    def _branch_name(self, unit_type: str, unit: str, ordinal: int) -> str:
        if unit_type == "village":
            return f"{self.places.next()}村党支部"
        if unit_type == "community":
            return f"{self.places.next()}社区党支部"
        if unit_type == "institution":
            departments = next(d for name, d in INSTITUTION_DEPARTMENTS.items() if unit.endswith(name))
        else:
            departments = DEPARTMENTS[unit_type]
        if ordinal < len(departments):
            return f"{unit}{departments[ordinal]}党支部"
        return f"{unit}第{chinese_number(ordinal + 1)}党支部"

    def _scatter_branches(self) -> None:
        """Jitter general branches and branches around their committee; groups sit on their branch."""
        t = self.table
        jitter = np.array(self.jitter)
        moved = np.flatnonzero(jitter > 0)
        noise = self.rng.normal(0.0, 1.0, size=(len(moved), 2)) * jitter[moved, None]
        lon = np.clip(np.array([t.lons[i] for i in moved]) + noise[:, 0], -180, 180).round(5)
        lat = np.clip(np.array([t.lats[i] for i in moved]) + noise[:, 1], -90, 90).round(5)
        for i, x, y in zip(moved.tolist(), lon.tolist(), lat.tolist()):
            t.lons[i], t.lats[i] = x, y
        for i, kind in enumerate(t.kinds):
            if kind == _GROUP:
                parent = t.parent_ids[i] - 1
                t.lons[i], t.lats[i] = t.lons[parent], t.lats[parent]


def _rounded(lon: float, lat: float) -> tuple[float, float]:
    return round(min(max(float(lon), -180.0), 180.0), 5), round(min(max(float(lat), -90.0), 90.0), 5)


def build_tree(
    rng: np.random.Generator, members: int, stats: DemoStatistics, shapes: dict[str, RegionShape]
) -> OrgTable:
    """The organisation tree for ``members`` party members, with each organisation's member count.

    The pipeline (applicants, activists, development targets) is attached to
    branches in proportion to their size.
    """
    n_branches = branch_count(members, stats)
    plans = plan_provinces(rng, n_branches, stats)
    leaders = leadership_members(plans)
    minimum = stats.min_full_members_per_branch
    with_bodies = members - leaders >= minimum * n_branches
    branch_members = members - (leaders if with_bodies else 0)
    sizes = branch_sizes(rng, n_branches, branch_members, minimum)
    table = _Builder(rng, shapes, sizes, with_bodies).build(plans)

    branch_ids = [i for i, kind in enumerate(table.kinds) if kind == _BRANCH]
    pipeline = rng.multinomial(stats.pipeline_counts(members).total, sizes / sizes.sum())
    for i, people in zip(branch_ids, pipeline.tolist()):
        table.pipeline[i] = people
    return table

