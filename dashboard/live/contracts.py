"""The wire contracts of the live state: the snapshot (``GET /api/snapshot``) and the frames screens receive.

Until these models the formats lived in prose (docs/live.md, docs/api.md) and
in ``dict[str, Any]``; now each is a pydantic model, at each privacy level,
with extra fields forbidden and strict types, so any drift between what the
server sends and what is written here fails a test (tests/test_contracts.py
captures real frames and snapshots from a running server and validates them).
Their JSON Schema is generated into ``docs/schemas/`` by
``python -m dashboard.live.contracts`` and a test keeps the committed files
equal to what these models generate.

The two levels differ in what a count of people may be: an ``int`` at the full
level, ``int | None`` at the public level (hidden under five, rounded to tens:
dashboard/access/scopes.py); and a public feed item has no ``who`` field at
all, so a name on the public wire is a contract violation, not just a bug.

Models are generic over the count type ``P``; ``FullX``/``PublicX`` name the two
levels. The sections of the views (map, topology, units, replay) are
described here too, by shape only — this module imports none of them, so the
layers stay as they are (docs/architecture.md).

Validate frames from their JSON text (``frame_adapter(level).validate_json``):
strict mode takes a JSON array for a fixed-length tuple, a Python list not.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

P = TypeVar("P")  # a count of people: int (full level) or int | None (public level)
F = TypeVar("F")  # a feed item: FeedItemFull or FeedItemPublic

LevelName = Literal["full", "public"]
Share = float | None  # a fraction in [0, 1], None when there is nothing to divide by


class Contract(BaseModel):
    """Strict, closed: no coercion ("3" is not 3) and no field the contract does not name."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=False)


class LevelGeneric(Contract):
    """A model generic over the count type; its parametrised names say the level, not the type."""

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        levels = ["Full" if p is int else "Public" for p in params[:1]]
        return cls.__name__ + "".join(levels)


# --- the snapshot ---------------------------------------------------------------


class Meetings(Contract):
    three_meetings_completion: Share
    themed_day_completion: Share
    three_meetings_branches: int
    themed_day_branches: int


class Transfers(LevelGeneric, Generic[P]):
    in_flight: P
    overdue: P


class RuleBreaks(Contract):
    few_members: int
    no_secretary: int
    no_meeting: int


class Pipeline(LevelGeneric, Generic[P]):
    applicant: P
    activist: P
    development_target: P
    probationary: P
    full: P


class Genders(LevelGeneric, Generic[P]):
    M: P
    F: P


class AgeBands(LevelGeneric, Generic[P]):
    """The bands of the national statistics bulletin (dashboard/live/aggregator/spec.py AGE_BANDS)."""

    upto_30: P = Field(alias="≤30")
    from_31_to_35: P = Field(alias="31–35")
    from_36_to_40: P = Field(alias="36–40")
    from_41_to_45: P = Field(alias="41–45")
    from_46_to_50: P = Field(alias="46–50")
    from_51_to_55: P = Field(alias="51–55")
    from_56_to_60: P = Field(alias="56–60")
    from_61: P = Field(alias="≥61")


class Ethnicity(LevelGeneric, Generic[P]):
    han: P
    minority: P


class Status(LevelGeneric, Generic[P]):
    full: P
    probationary: P


class Structure(LevelGeneric, Generic[P]):
    gender: Genders[P]
    age_band: AgeBands[P]
    ethnicity: Ethnicity[P]
    education: dict[str, P]  # the categories the roll holds (open-ended: an imported roll brings its own)
    occupation: dict[str, P]
    status: Status[P]


class Daily(LevelGeneric, Generic[P]):
    """Thirty local days per series, oldest first, today last (docs/aggregates.md, "Daily series"); hidden
    like counts of people at the public level."""

    study_points: list[P] = Field(min_length=30, max_length=30)
    meetings: list[P] = Field(min_length=30, max_length=30)
    themed_days: list[P] = Field(min_length=30, max_length=30)
    dues: list[P] = Field(min_length=30, max_length=30)
    transfers: list[P] = Field(min_length=30, max_length=30)
    joined: list[P] = Field(min_length=30, max_length=30)
    became_full: list[P] = Field(min_length=30, max_length=30)
    active: list[P] = Field(min_length=30, max_length=30)
    active_orgs: list[P] = Field(min_length=30, max_length=30)
    active_branches: list[P] = Field(min_length=30, max_length=30)


class TopStudy(Contract):
    """A direct child organisation on the study leaderboard (an organisation, never a person)."""

    org: str
    name: str
    points: int


class SnapshotKpis(LevelGeneric, Generic[P]):
    """The KPIs of one subtree: what ``Aggregator.snapshot`` holds, masked for the level (docs/aggregates.md)."""

    org: str
    name: str
    kind: str
    members: P
    full_members: P
    probationary: P
    organisations: int
    branches: int
    events_total: int
    events_today: int
    active_today: P
    active_15m: P
    events_per_min: int
    events_trend: list[int] = Field(min_length=60, max_length=60)
    events_daily: list[int] = Field(min_length=30, max_length=30)
    daily: Daily[P]
    study_points_today: int
    meetings: Meetings
    dues_rate: Share
    dues_paid: P
    transfers: Transfers[P]
    rule_breaks: RuleBreaks
    lost_contact: P
    pipeline: Pipeline[P]
    structure: Structure[P]
    top_study: list[TopStudy] = Field(max_length=10)


class Snapshot(SnapshotKpis[P], Generic[P]):
    """``GET /api/snapshot``: the subtree's KPIs and the server's time (seconds) they were read at."""

    ts: float


class FullSnapshot(Snapshot[int]):
    """A snapshot at the full level."""


class PublicSnapshot(Snapshot[int | None]):
    """A snapshot at the public level: small counts of people hidden (null), the others rounded to tens."""


# --- the frame sections ---------------------------------------------------------

# map_regions: per region code, the map's KPIs in dashboard/map/view.py MAP_KPIS order:
# activity per member, members, study points today, 三会一课 share, dues share (all null when too few to show).
RegionKpis = tuple[float | None, int | None, int | None, Share, Share]
# map_flashes ``e``: longitude, latitude, kind index (dashboard/map/frames.py FLASH_KINDS).
Flash = tuple[float, float, int]
# map_transfers: from longitude, latitude, to longitude, latitude, overdue.
TransferLine = tuple[float, float, float, float, Literal[0, 1]]
# map_notices: region code, the most urgent level of the notices in force there.
RegionNotice = tuple[str, Literal["info", "warning", "urgent"]]


class MapFlashes(Contract):
    t: int
    e: list[Flash]


class TopologyPulse(Contract):
    """Preorder positions (relative to the scope's top) with events this tick, and their counts."""

    s: int
    o: list[int]
    c: list[int]


class TopologyHealth(Contract):
    """Health levels of the scope's ``n`` organisations, four bits each, base64."""

    n: int
    b: str


# units: per child organisation code, dashboard/wall/units.py UNIT_FIELDS in order: members, active today
# (people: masked), events today, study points today, 三会一课 share, themed day share, dues share, branches,
# branches with few members, without a secretary, without a meeting, overdue transfers (people: masked).
UnitRow = tuple[P, P, int, int, Share, Share, Share, int, int, int, int, P]


class ReplayState(Contract):
    """A replay's position (dashboard/live/replay.py ``ReplaySession.state``)."""

    from_: int = Field(alias="from")
    to: int
    at: int
    clock: str
    speed: float
    playing: bool
    ended: bool


class ReplayProblem(Contract):
    """A replay that cannot run: the code names the message in the page's catalogue."""

    error: str
    message: str


class NoticeItem(Contract):
    """A notice in force for the scope (issued in its organisation or above)."""

    id: int
    org: str
    title: str
    level: str
    body: str | None
    expires: int


# --- the frame ------------------------------------------------------------------


def absent(**constraints: Any) -> Any:
    """A key a delta frame may leave out; when present its value must have the key's type (null only where that allows)."""
    return Field(None, **constraints)


class FrameKpi(LevelGeneric, Generic[P]):
    """The channel's keys that changed since the screen's last frame (all of them in a full frame).

    Every key may be absent because a delta frame carries only what changed
    (``Frame`` requires the snapshot's keys and ``notices`` when ``full`` is
    true); a key that is present has its type, so a full-level ``members``
    cannot be null.
    """

    org: str = absent()
    name: str = absent()
    kind: str = absent()
    members: P = absent()
    full_members: P = absent()
    probationary: P = absent()
    organisations: int = absent()
    branches: int = absent()
    events_total: int = absent()
    events_today: int = absent()
    active_today: P = absent()
    active_15m: P = absent()
    events_per_min: int = absent()
    events_trend: list[int] = absent(min_length=60, max_length=60)
    events_daily: list[int] = absent(min_length=30, max_length=30)
    daily: Daily[P] = absent()
    study_points_today: int = absent()
    meetings: Meetings = absent()
    dues_rate: Share = None
    dues_paid: P = absent()
    transfers: Transfers[P] = absent()
    rule_breaks: RuleBreaks = absent()
    lost_contact: P = absent()
    pipeline: Pipeline[P] = absent()
    structure: Structure[P] = absent()
    top_study: list[TopStudy] = absent(max_length=10)
    notices: list[NoticeItem] = absent()
    map_regions: dict[str, RegionKpis] = absent()
    map_flashes: MapFlashes = absent()
    map_transfers: list[TransferLine] = absent()
    map_notices: list[RegionNotice] = absent()
    topo_pulse: TopologyPulse = absent()
    topo_health: TopologyHealth = absent()
    units: dict[str, UnitRow[P]] = absent()
    replay: ReplayState | ReplayProblem = absent()


# Keys a full frame always carries: every snapshot KPI (its ``ts`` stays on the server) and the notices.
FULL_FRAME_KEYS = frozenset(SnapshotKpis.model_fields) | {"notices"}


class FeedItemBase(Contract):
    """One activity of the subtree on the feed (at most 12 per frame, oldest first)."""

    id: int
    ts: int
    type: str
    org: str
    title: str | None = None
    points: int | None = None
    kind: str | None = None
    hours: float | None = None
    amount: float | None = None
    region: str | None = None


class FeedItemFull(FeedItemBase):
    """At the full level the member's name may come with the activity."""

    who: str | None = None


class FeedItemPublic(FeedItemBase):
    """At the public level there is no ``who``: a name here is refused by the contract."""


class Frame(LevelGeneric, Generic[P, F]):
    """A frame: the keys that changed after the screen's last one, and the new feed items."""

    seq: int
    ts: int
    full: bool
    kpi: FrameKpi[P]
    feed: list[F] = Field(max_length=12)

    @model_validator(mode="after")
    def _full_frames_carry_everything(self) -> Frame[P, F]:
        if self.full:
            missing = sorted(FULL_FRAME_KEYS - self.kpi.model_fields_set)
            if missing:
                raise ValueError(f"a full frame lacks {', '.join(missing)}")
        return self


class Heartbeat(Contract):
    """Sent when nothing changed for a second, so the page's link state stays honest."""

    seq: int
    ts: int
    heartbeat: Literal[True]


class FullFrame(Frame[int, FeedItemFull]):
    """A frame at the full level."""


class PublicFrame(Frame[int | None, FeedItemPublic]):
    """A frame at the public level: counts of people masked, no names."""


_SNAPSHOTS: dict[str, type[Snapshot[Any]]] = {"full": FullSnapshot, "public": PublicSnapshot}
def _adapter(form: Any) -> TypeAdapter[Any]:
    """A TypeAdapter of a union (typed Any: mypy takes a union object for no type)."""
    return TypeAdapter(form)


_FRAMES: dict[str, TypeAdapter[Any]] = {"full": _adapter(FullFrame | Heartbeat), "public": _adapter(PublicFrame | Heartbeat)}


def snapshot_model(level: LevelName) -> type[Snapshot[Any]]:
    """The snapshot model of a privacy level."""
    return _SNAPSHOTS[level]


def frame_adapter(level: LevelName) -> TypeAdapter[Any]:
    """A frame or a heartbeat of a privacy level; use ``validate_json`` on the frame's JSON text."""
    return _FRAMES[level]


def schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each contract, by the file name it is written to under docs/schemas/."""
    out: dict[str, dict[str, Any]] = {}
    for level in ("full", "public"):
        out[f"snapshot.{level}.json"] = _SNAPSHOTS[level].model_json_schema(by_alias=True)
        out[f"frame.{level}.json"] = _FRAMES[level].json_schema(by_alias=True)
    return out


def schema_text(schema: dict[str, Any]) -> str:
    """How a schema is written to its file (stable, readable, UTF-8)."""
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    """Write every schema into ``folder``; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schemas().items():
        path = folder / name
        path.write_text(schema_text(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "docs" / "schemas"
    for path in write_schemas(target):
        print(path)
