"""The map's parts of every frame: region KPIs, event flashes, transfers in flight, notices.

Four frame sections (dashboard/live/publisher.py sends each key only when its value
changed), each small and free of geometry — the page holds the boundaries
from its first render and only recolours, flashes and draws on top:

``map_regions``   ``{region code: [KPI values in map_data.MAP_KPIS order]}`` for
                  the regions the scope has organisations in.
``map_flashes``   ``{"t": tick ms, "e": [[lon, lat, kind index], ...]}``: where
                  the scope's latest events of this tick happened (the
                  organisation's point, else its region's centroid), at most
                  MAX_FLASHES, one per point and kind; kinds are
                  FLASH_KINDS. Absent from a frame when nothing happened.
``map_transfers`` ``[[lon0, lat0, lon1, lat1, overdue 0|1], ...]``, oldest first: the
                  newest MAX_TRANSFER_LINES open transfers with both ends in
                  the scope, one line per pair of places (overdue if any of
                  its transfers is). At the public level the places are
                  region centroids, so no line inside one region.
``map_notices``   ``[[region code, level], ...]``: the regions of the notices in
                  force for the scope (issued inside it or above it), the most
                  urgent level per region.

Nothing outside the scope's subtree is sent (a transfer with one end outside
is left to the counters), and nothing about members: no ids, no names.

``MapFrames`` holds the four over the live tree and aggregator; the Runtime
(dashboard/runtime/core.py) hands them to the publisher when it starts and
rebinds them after ``Runtime.reload``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dashboard.access.scopes import Scope
from dashboard.domain.events import StoredEvent
from dashboard.live.aggregator import Aggregator
from dashboard.live.publisher import FrameSection, Notice
from dashboard.map.regions import RegionMap
from dashboard.map.view import region_kpis, region_roots
from dashboard.store.tree import OrgTree

MAX_FLASHES = 40
MAX_TRANSFER_LINES = 40
FLASH_KINDS: tuple[str, ...] = ("study", "interact", "meeting", "dues", "volunteer", "transfer", "recruit", "login")
_KIND_OF_TYPE = {
    "study": 0, "article_read": 0,
    "like": 1, "comment": 1, "share": 1,
    "meeting_held": 2, "meeting_attended": 2,
    "dues_paid": 3,
    "volunteer": 4,
    "transfer_requested": 5, "transfer_approved": 5, "transfer_rejected": 5, "transfer_completed": 5,
    "recruit_applied": 6, "recruit_activist": 6, "recruit_development_target": 6, "recruit_probationary": 6,
    "recruit_full": 6,
    "login": 7,
}  # fmt: skip
NOTICE_LEVELS: tuple[str, ...] = ("info", "warning", "urgent")  # least to most urgent

Point = tuple[float, float]


class MapPlaces:
    """Where each organisation of one tree is drawn: its own point, else its region's centroid, else nowhere.

    Each answer is kept: the tree does not change (a reload brings a new tree and new places).
    """

    def __init__(self, tree: OrgTree, regions: RegionMap) -> None:
        self.tree = tree
        self.regions = regions
        self._points: dict[int, Point | None] = {}

    def point(self, org_id: int) -> Point | None:
        if org_id not in self._points:
            node = self.tree.nodes.get(org_id)
            if node is None:
                point = None
            elif node.lon is not None and node.lat is not None:
                point = (round(node.lon, 2), round(node.lat, 2))
            else:
                point = self.region_point(node.region_code)
            self._points[org_id] = point
        return self._points[org_id]

    def region_point(self, code: str | None) -> Point | None:
        centroid = self.regions.centroids.get(code) if code else None
        return (round(centroid[0], 2), round(centroid[1], 2)) if centroid else None

    def region_of(self, org_id: int) -> str | None:
        node = self.tree.nodes.get(org_id)
        code = node.region_code if node else None
        return code if code in self.regions.centroids else None


@dataclass(frozen=True)
class MapState:
    """What the sections read, replaced whole on a reload so a tick never mixes two trees."""

    tree: OrgTree
    aggregator: Aggregator
    places: MapPlaces
    roots: dict[int, dict[str, list[int]]] = field(default_factory=dict)  # region_roots per scope, filled on use

    def region_roots(self, scope_id: int) -> dict[str, list[int]]:
        roots = self.roots.get(scope_id)
        if roots is None:
            roots = self.roots[scope_id] = region_roots(self.tree, scope_id)
        return roots


class MapFrames:
    """The map's frame sections over the live tree and aggregator.

    ``sections`` go to the publisher; ``rebind`` follows ``Runtime.reload``
    (it takes the new tree and aggregator).
    """

    def __init__(
        self,
        tree: OrgTree,
        aggregator: Aggregator,
        regions: RegionMap,
        notices: Mapping[int, Notice],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.regions = regions
        self.state = MapState(tree, aggregator, MapPlaces(tree, regions))
        self.sections: list[FrameSection] = [
            RegionKpiSection(self),
            FlashSection(self, clock),
            TransferSection(self),
            NoticeSection(self, notices),
        ]

    def rebind(self, tree: OrgTree, aggregator: Aggregator) -> None:
        self.state = MapState(tree, aggregator, MapPlaces(tree, self.regions))


class RegionKpiSection:
    """``map_regions``: the KPIs of each region the scope has organisations in."""

    key = "map_regions"

    def __init__(self, frames: MapFrames) -> None:
        self.frames = frames

    def compute(self, scope: Scope, changed_orgs: set[int], recent: Sequence[StoredEvent]) -> dict[str, list[Any]]:
        state = self.frames.state
        return region_kpis(state.tree, state.aggregator, scope, state.places.regions.names, state.region_roots(scope.org_id))


class FlashSection:
    """``map_flashes``: the points where the scope's events of this tick happened."""

    key = "map_flashes"

    def __init__(self, frames: MapFrames, clock: Callable[[], float]) -> None:
        self.frames = frames
        self.clock = clock

    def compute(self, scope: Scope, changed_orgs: set[int], recent: Sequence[StoredEvent]) -> dict[str, Any] | None:
        state = self.frames.state
        seen: set[tuple[Point, int]] = set()
        flashes: list[list[float | int]] = []
        for ev in reversed(recent):
            kind = _KIND_OF_TYPE.get(ev.type)
            if kind is None or not state.tree.is_within(ev.org_id, scope.org_id):
                continue
            point = state.places.point(ev.org_id)
            if point is None or (point, kind) in seen:
                continue
            seen.add((point, kind))
            flashes.append([point[0], point[1], kind])
            if len(flashes) == MAX_FLASHES:
                break
        if not flashes:
            return None
        flashes.reverse()
        return {"t": int(self.clock() * 1000), "e": flashes}


class TransferSection:
    """``map_transfers``: flying lines for the open transfers inside the scope."""

    key = "map_transfers"

    def __init__(self, frames: MapFrames) -> None:
        self.frames = frames

    def compute(self, scope: Scope, changed_orgs: set[int], recent: Sequence[StoredEvent]) -> list[list[Any]]:
        state = self.frames.state
        tree, places = state.tree, state.places
        _, open_transfers = state.aggregator.transfers_in_flight()
        lines: dict[tuple[Point, Point], list[Any]] = {}
        for tr in reversed(open_transfers):
            if not (tree.is_within(tr.from_org, scope.org_id) and tree.is_within(tr.to_org, scope.org_id)):
                continue
            if scope.public:
                ends = places.region_point(places.region_of(tr.from_org)), places.region_point(places.region_of(tr.to_org))
            else:
                ends = places.point(tr.from_org), places.point(tr.to_org)
            a, b = ends
            if a is None or b is None or a == b:
                continue
            line = lines.get((a, b))
            if line is None:
                lines[(a, b)] = [a[0], a[1], b[0], b[1], int(tr.overdue)]
                if len(lines) == MAX_TRANSFER_LINES:
                    break
            elif tr.overdue:
                line[4] = 1
        return list(reversed(lines.values()))


class NoticeSection:
    """``map_notices``: the regions marked by the notices in force for the scope.

    Reads the publisher's notices (its ``notices`` mapping, kept up to date
    from the bus and cleared of expired ones before sections are computed).
    """

    key = "map_notices"

    def __init__(self, frames: MapFrames, notices: Mapping[int, Notice]) -> None:
        self.frames = frames
        self.notices = notices

    def compute(self, scope: Scope, changed_orgs: set[int], recent: Sequence[StoredEvent]) -> list[list[str]]:
        state = self.frames.state
        above = state.tree.ancestors.get(scope.org_id, ())
        levels: dict[str, int] = {}
        for notice in tuple(self.notices.values()):  # one C-level copy: safe while the bus thread adds
            if notice.org_id not in above and not state.tree.is_within(notice.org_id, scope.org_id):
                continue
            code = state.places.region_of(notice.org_id)
            rank = NOTICE_LEVELS.index(notice.level) if notice.level in NOTICE_LEVELS else 0
            if code is not None and rank >= levels.get(code, 0):
                levels[code] = rank
        return [[code, NOTICE_LEVELS[rank]] for code, rank in sorted(levels.items())]
