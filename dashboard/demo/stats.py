"""The published figures the demo generator draws from (``data/statistics.json``).

Loaded into plain arrays of shares so the generator can hand them straight to
numpy. The file keeps the published counts as printed (10,000s of members,
thousands of organisations); shares are computed here, and the few figures that
must agree with each other (education categories and the college-or-above
total) are checked on load.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np

STATISTICS_FILE = Path(__file__).resolve().parents[2] / "data" / "statistics.json"


@dataclass(frozen=True)
class Categories:
    """Category keys and their shares (summing to 1), in a fixed order."""

    keys: tuple[str, ...]
    shares: np.ndarray

    def index(self, key: str) -> int:
        return self.keys.index(key)


@dataclass(frozen=True)
class AgeBand:
    key: str
    min_age: int
    max_age: int


@dataclass(frozen=True)
class JoinPeriod:
    key: str
    first_day: dt.date
    last_day: dt.date


@dataclass(frozen=True)
class EthnicGroups:
    """Han first, then the minorities; ``shares`` are of all members.

    ``populations`` (millions) and ``home_regions`` (region code → millions
    living there) are empty/zero for Han, the majority everywhere else.
    """

    names: tuple[str, ...]
    names_zh: tuple[str, ...]
    shares: np.ndarray
    populations: np.ndarray
    home_regions: tuple[dict[str, float], ...]


@dataclass(frozen=True)
class PipelineCounts:
    applicants: int
    activists: int
    development_targets: int

    @property
    def total(self) -> int:
        return self.applicants + self.activists + self.development_targets


@dataclass(frozen=True)
class DemoStatistics:
    reference_date: dt.date
    women_share: float
    college_or_above_share: float
    age_bands: tuple[AgeBand, ...]
    age_shares: np.ndarray
    occupations: Categories
    education: Categories
    college_or_above: np.ndarray
    join_periods: tuple[JoinPeriod, ...]
    join_shares: np.ndarray
    probationary_share: float
    young_probationary_share: float
    applicants_per_member: float
    activists_per_member: float
    development_targets_per_member: float
    committees_per_branch: float
    general_branches_per_branch: float
    average_branch_members: int
    min_full_members_per_branch: int
    unit_types: Categories
    region_weights: dict[str, float]
    ethnic_groups: EthnicGroups

    def pipeline_counts(self, members: int) -> PipelineCounts:
        """People in the recruitment pipeline for an organisation of ``members`` members."""
        return PipelineCounts(
            applicants=round(members * self.applicants_per_member),
            activists=round(members * self.activists_per_member),
            development_targets=round(members * self.development_targets_per_member),
        )

    def probationary_count(self, members: int) -> int:
        return round(members * self.probationary_share)

    def as_of(self, day: dt.date) -> DemoStatistics:
        """The same statistics moved forward to ``day``: the reference date and every joining period.

        The bulletin describes the membership on its reference date; a demo seeded
        later is that membership as it would stand on ``day``, so that ages counted
        from today (as the aggregator does, rightly for real data) fall in the
        published bands, and this year's intake is this year's probationary members.
        """
        shift = day - self.reference_date
        periods = tuple(JoinPeriod(p.key, p.first_day + shift, p.last_day + shift) for p in self.join_periods)
        return replace(self, reference_date=day, join_periods=periods)


def _shares(counts: list[float]) -> np.ndarray:
    values = np.asarray(counts, dtype=float)
    return values / values.sum()


@cache
def load_statistics(path: Path = STATISTICS_FILE) -> DemoStatistics:
    """Read and check the statistics file (cached: it never changes while running)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    members = raw["members"]
    total = float(members["total"])
    pipeline = raw["pipeline"]
    orgs = raw["organisations"]

    education = raw["education"]["categories"]
    college = np.array([c["college_or_above"] for c in education], dtype=bool)
    education_shares = np.array([c["share"] for c in education], dtype=float)
    if abs(education_shares.sum() - 1.0) > 1e-9:
        raise ValueError(f"{path}: education shares sum to {education_shares.sum()}, not 1")
    if abs(education_shares[college].sum() - members["college_or_above_share"]) > 1e-9:
        raise ValueError(f"{path}: education categories do not add up to the college-or-above share")

    ethnic = raw["ethnic_groups"]
    minorities = ethnic["minorities"]
    minority_shares = _shares([g["population"] for g in minorities]) * members["ethnic_minority_share"]
    regions = raw["regions"]["weights"]
    for group in minorities:
        unknown = set(group["home_regions"]) - set(regions)
        if unknown:
            raise ValueError(f"{path}: ethnic group {group['name']} has unknown home regions {sorted(unknown)}")

    return DemoStatistics(
        reference_date=dt.date.fromisoformat(raw["reference_date"]),
        women_share=float(members["women_share"]),
        college_or_above_share=float(members["college_or_above_share"]),
        age_bands=tuple(AgeBand(b["key"], b["min_age"], b["max_age"]) for b in raw["age_bands"]["bands"]),
        age_shares=_shares([b["count"] for b in raw["age_bands"]["bands"]]),
        occupations=Categories(
            tuple(c["key"] for c in raw["occupations"]["categories"]),
            _shares([c["count"] for c in raw["occupations"]["categories"]]),
        ),
        education=Categories(tuple(c["key"] for c in education), education_shares),
        college_or_above=college,
        join_periods=tuple(
            JoinPeriod(p["key"], dt.date.fromisoformat(p["first_day"]), dt.date.fromisoformat(p["last_day"]))
            for p in raw["join_periods"]["periods"]
        ),
        join_shares=_shares([p["count"] for p in raw["join_periods"]["periods"]]),
        probationary_share=pipeline["new_members_per_year"] / total,
        young_probationary_share=float(pipeline["new_members_aged_35_or_under_share"]),
        applicants_per_member=pipeline["applicants"] / total,
        activists_per_member=pipeline["activists"] / total,
        development_targets_per_member=pipeline["new_members_per_year"]
        * pipeline["development_targets_per_new_member"]
        / total,
        committees_per_branch=orgs["committees"] / orgs["branches"],
        general_branches_per_branch=orgs["general_branches"] / orgs["branches"],
        average_branch_members=int(orgs["average_branch_members"]),
        min_full_members_per_branch=int(orgs["min_full_members_per_branch"]),
        unit_types=Categories(
            tuple(t["key"] for t in raw["unit_types"]["types"]),
            _shares([t["count"] for t in raw["unit_types"]["types"]]),
        ),
        region_weights={code: float(w) for code, w in regions.items()},
        ethnic_groups=EthnicGroups(
            names=(ethnic["majority"]["name"], *(g["name"] for g in minorities)),
            names_zh=(ethnic["majority"]["name_zh"], *(g["name_zh"] for g in minorities)),
            shares=np.concatenate([[1.0 - members["ethnic_minority_share"]], minority_shares]),
            populations=np.array([0.0, *(g["population"] for g in minorities)]),
            home_regions=({}, *({c: float(m) for c, m in g["home_regions"].items()} for g in minorities)),
        ),
    )
