"""What the map shows, from the live state: KPIs per region, and a region's organisations.

A scope's map colours each region by the KPIs of the scope's organisations in
it: the top-most organisations of the scope's subtree that carry the region's
code (a national tree's provincial committees; a provincial scope is one
region). Drilling into a region lists the organisations below those, as many
levels down as fit in a readable number of markers.

The five KPIs a map can be coloured by (``MAP_KPIS``):

* ``activity`` — activities (events) today per party member;
* ``members`` — party members;
* ``study_points`` — study points today;
* ``three_meetings`` — share of branches that completed 三会一课 this period;
* ``dues_rate`` — share of party members who paid this month's dues.

At the public level the figures follow the one masking rule
(dashboard/access/scopes.py): the member count is ``public_count`` of it, the
shares of members (activity per member, dues rate) are taken from the shown
counts, and a region or organisation whose member count is hidden (under
``PUBLIC_MIN_COUNT``, zero included) shows no figures at all: a rate over two
people points at them as surely as a count does.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass
from typing import Any

from dashboard.access.scopes import Scope, public_count, public_share
from dashboard.live.aggregator import Aggregator
from dashboard.map.regions import RegionMap
from dashboard.store.tree import OrgTree

MAP_KPIS: tuple[str, ...] = ("activity", "members", "study_points", "three_meetings", "dues_rate")
DEFAULT_KPI = "activity"
# KPIs that are shares in [0, 1]: coloured on a fixed scale, not relative to the largest region.
RATE_KPIS = frozenset({"three_meetings", "dues_rate"})
# Most organisation markers a drill-down shows: enough to see a province's committees.
MAX_DRILL_ORGS = 300

KpiValues = list[float | int | None]  # in MAP_KPIS order


@dataclass(frozen=True, slots=True)
class Totals:
    """The additive figures behind the map's KPIs, for one organisation's subtree or a sum of them."""

    members: int = 0
    events_today: int = 0
    study_points: int = 0
    branches: int = 0
    three_meetings_branches: int = 0
    dues_paid: int = 0

    @classmethod
    def of(cls, snapshot: Mapping[str, Any]) -> Totals:
        meetings = snapshot.get("meetings", {})
        return cls(
            members=int(snapshot.get("members") or 0),
            events_today=int(snapshot.get("events_today") or 0),
            study_points=int(snapshot.get("study_points_today") or 0),
            branches=int(snapshot.get("branches") or 0),
            three_meetings_branches=int(meetings.get("three_meetings_branches") or 0),
            dues_paid=int(snapshot.get("dues_paid") or 0),
        )

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            self.members + other.members,
            self.events_today + other.events_today,
            self.study_points + other.study_points,
            self.branches + other.branches,
            self.three_meetings_branches + other.three_meetings_branches,
            self.dues_paid + other.dues_paid,
        )

    def kpis(self, public: bool) -> KpiValues:
        """The values in MAP_KPIS order, rounded for the wire; at the public level masked, all None when too few to show."""
        if public:
            return self._public_kpis()
        return [
            round(self.events_today / self.members, 3) if self.members else None,
            self.members,
            self.study_points,
            round(self.three_meetings_branches / self.branches, 3) if self.branches else None,
            round(self.dues_paid / self.members, 3) if self.members else None,
        ]

    def _public_kpis(self) -> KpiValues:
        members = public_count(self.members)
        if members is None:
            return [None] * len(MAP_KPIS)
        return [
            round(self.events_today / members, 3),  # events are not people: only the member count is masked
            members,
            self.study_points,
            round(self.three_meetings_branches / self.branches, 3) if self.branches else None,
            public_share(self.dues_paid, self.members),
        ]


def region_roots(tree: OrgTree, scope_id: int) -> dict[str, list[int]]:
    """Per region code, the top-most organisations of the scope's subtree that carry it.

    A scope that carries a region is that region alone; otherwise the walk goes
    down until it meets organisations with a region code.
    """
    roots: dict[str, list[int]] = {}
    stack = [scope_id]
    while stack:
        org_id = stack.pop()
        code = tree.nodes[org_id].region_code
        if code:
            roots.setdefault(code, []).append(org_id)
        else:
            stack.extend(tree.children.get(org_id, ()))
    return roots


def region_kpis(
    tree: OrgTree,
    aggregator: Aggregator,
    scope: Scope,
    on_map: Container[str],
    roots: Mapping[str, list[int]] | None = None,
) -> dict[str, KpiValues]:
    """The KPIs of every region on the map (``on_map``: its codes) the scope has organisations in.

    ``roots`` are the scope's region_roots, when already at hand.
    """
    roots = region_roots(tree, scope.org_id) if roots is None else roots
    result = {}
    for code, org_ids in sorted(roots.items()):
        if code not in on_map:
            continue
        totals = Totals()
        for org_id in org_ids:
            totals += Totals.of(aggregator.snapshot(org_id))
        result[code] = totals.kpis(scope.public)
    return result


@dataclass(frozen=True, slots=True)
class OrgOnMap:
    """An organisation as a drill-down shows it: where, and its KPIs in MAP_KPIS order."""

    code: str
    name: str
    kind: str
    lon: float
    lat: float
    kpis: KpiValues


def drill_down(
    tree: OrgTree, aggregator: Aggregator, regions: RegionMap, scope: Scope, region: str, within: str | None = None
) -> list[OrgOnMap]:
    """The organisations of ``region`` in the scope, most members first; below the committee ``within`` when given.

    The levels below the region's top-most organisations (or below
    ``within``), from the first down for as long as all of them fit in
    MAX_DRILL_ORGS (at least the first level, its largest organisations if it
    alone is too many), down to branches: 党小组 are parts of their branch,
    not places of their own. The top-most organisations themselves when they
    have nothing below them. An organisation without coordinates is placed at
    the region's centroid. Empty for a region the scope has nothing in, and
    for a ``within`` that is not an organisation of the region inside the scope.
    """
    top = region_roots(tree, scope.org_id).get(region, [])
    if within is not None:
        top = _inside_region(tree, top, within)

    def below(org_ids: list[int]) -> list[int]:
        return [c for org_id in org_ids for c in tree.children.get(org_id, ()) if tree.nodes[c].kind != "group"]

    chosen: list[int] = []
    level = below(top)
    while level and len(chosen) + len(level) <= MAX_DRILL_ORGS:
        chosen += level
        level = below(level)
    snapshots = {org_id: aggregator.snapshot(org_id) for org_id in (chosen or level or top)}
    if not chosen:
        largest = sorted(snapshots, key=lambda org_id: -int(snapshots[org_id].get("members") or 0))[:MAX_DRILL_ORGS]
        snapshots = {org_id: snapshots[org_id] for org_id in largest}
    centroid = regions.centroids.get(region, (0.0, 0.0))
    orgs = []
    for org_id, snap in snapshots.items():
        node = tree.nodes[org_id]
        lon, lat = (node.lon, node.lat) if node.lon is not None and node.lat is not None else centroid
        orgs.append(OrgOnMap(node.code, node.name, node.kind, round(lon, 4), round(lat, 4), Totals.of(snap).kpis(scope.public)))
    orgs.sort(key=lambda o: (-(o.kpis[1] or 0), o.code))
    return orgs


def _inside_region(tree: OrgTree, roots: list[int], code: str) -> list[int]:
    """The organisation ``code`` when it is one of ``roots`` or below them, else nothing."""
    org_id = tree.by_code.get(code)
    if org_id is None:
        return []
    ancestor: int | None = org_id
    while ancestor is not None:
        if ancestor in roots:
            return [org_id]
        ancestor = tree.nodes[ancestor].parent_id
    return []
