"""The demo organisation's members, drawn column by column with numpy.

Published marginals are hit exactly where they are exact counts (age bands,
women, probationary members, the join periods before adjustment) and in
expectation where a category depends on a cell (education by age band;
occupation by age band and unit type; ethnicity by region), through
``sampling.fit_joint``. The affinity tables below are the generator's
assumptions: they only say where a category is more or less likely, never
how common it is overall.

Consistency rules:

* posts are held by full members; each branch's first three members are full;
* probationary members joined during the reference year, and 83.7 % of them
  are 35 or younger, as published for new members;
* full members joined before the reference year, at 18 or later: join dates
  are paired with birth years by a noisy rank match (the older, the earlier),
  and the few still too early are moved to a date after their 18th birthday
  year (counted in ``adjusted_join_dates``);
* students are young, retired members old, farmers mostly in village branches.

Applicants, activists and development targets are drawn the same way but with
the age profile of new members; they have no join date and no post.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from dashboard.demo.names import person_names
from dashboard.demo.sampling import conditional_shares, draw_by_cell, exact_counts, fit_joint, shuffled_labels
from dashboard.demo.shape import OrgTable
from dashboard.demo.stats import DemoStatistics
from dashboard.store.models import MemberStage, OrgKind, Post

STAGES = tuple(s.value for s in MemberStage)
APPLICANT, ACTIVIST, TARGET, PROBATIONARY, FULL = (
    STAGES.index(s.value)
    for s in (MemberStage.applicant, MemberStage.activist, MemberStage.development_target, MemberStage.probationary,
              MemberStage.full)
)
POSTS = tuple(p.value for p in Post)
UNIT_FOR_LEADERSHIP = "government"  # the leading bodies of the top, provincial and area committees

FULL_MEMBERS_FIRST_IN_BRANCH = 3
JOIN_RANK_NOISE_YEARS = 3.0
ADJUSTED_JOIN_SPREAD_DAYS = 5 * 365
PIPELINE_YOUNG_AGES = (18, 35)
PIPELINE_OLDER_AGES = (36, 55)
LEADER_AGES = (31, 60)  # members of committees' and general branches' leading bodies
OLDEST_BAND_DECAY = 0.92  # per year of age above the oldest band's lower bound

# Per category, one weight per age band (<=30, 31-35, …, >=61).
EDUCATION_BY_AGE = {
    "postgraduate": (3.0, 3.0, 2.5, 2.0, 1.2, 0.8, 0.5, 0.2),
    "bachelor": (3.0, 3.0, 2.5, 2.0, 1.5, 1.0, 0.6, 0.3),
    "college": (1.5, 1.5, 1.5, 1.5, 1.2, 1.0, 0.8, 0.6),
    "secondary": (0.3, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6),
    "primary_or_below": (0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.2, 2.5),
}
OCCUPATION_BY_AGE = {
    "worker": (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 0.1),
    "farmer": (0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3),
    "professional": (1.2, 1.2, 1.2, 1.1, 1.0, 0.9, 0.7, 0.1),
    "manager": (0.6, 0.9, 1.1, 1.2, 1.2, 1.1, 0.9, 0.1),
    "party_government": (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 0.05),
    "student": (1.0, 0.05, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    "other": (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.6),
    "retired": (0.0, 0.0, 0.0, 0.0, 0.05, 0.3, 1.0, 3.0),
}
# Per category, one weight per unit type.
OCCUPATION_BY_UNIT = {
    "worker": {"government": 0.1, "institution": 0.5, "enterprise": 8, "social": 0.5, "village": 0.5, "community": 1},
    "farmer": {"government": 0.05, "institution": 0.1, "enterprise": 0.3, "social": 0.2, "village": 20, "community": 0.5},
    "professional": {"government": 0.5, "institution": 6, "enterprise": 2, "social": 2, "village": 0.2, "community": 0.5},
    "manager": {"government": 0.5, "institution": 2, "enterprise": 4, "social": 4, "village": 0.3, "community": 0.5},
    "party_government": {
        "government": 20, "institution": 0.5, "enterprise": 0.1, "social": 0.2, "village": 0.3, "community": 0.5,
    },
    "student": {"government": 0.1, "institution": 6, "enterprise": 0.1, "social": 0.5, "village": 0.5, "community": 1},
    "other": {"government": 0.3, "institution": 1, "enterprise": 1, "social": 4, "village": 1, "community": 3},
    "retired": {"government": 1, "institution": 1, "enterprise": 0.8, "social": 0.5, "village": 0.3, "community": 5},
}

_GENDERS = np.array(["M", "F"], dtype=object)


@dataclass
class MemberTable:
    """Every person of the demo organisation as columns; a person's id is their index + 1."""

    org_ids: np.ndarray
    stages: np.ndarray
    female: np.ndarray
    ethnicity: np.ndarray
    birth_years: np.ndarray
    education: np.ndarray
    occupation: np.ndarray
    posts: np.ndarray
    join_index: np.ndarray
    names: np.ndarray
    labels: dict[str, np.ndarray]
    adjusted_join_dates: int

    def __len__(self) -> int:
        return len(self.org_ids)

    def count(self, stage: MemberStage) -> int:
        return int(np.count_nonzero(self.stages == STAGES.index(stage.value)))

    def block(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` for the members table as a 2-D object array, in its
        column order (id, code, name, org_id, stage, gender, ethnicity, birth_year,
        education, occupation, post, join_date, phone); dates as ISO strings."""
        sl = slice(start, stop)
        ids = np.arange(start + 1, stop + 1)
        columns = (
            ids,
            np.strings.add("M", np.strings.zfill(ids.astype(str), 7)),
            self.names[sl],
            self.org_ids[sl],
            self.labels["stage"][self.stages[sl]],
            _GENDERS[self.female[sl].astype(np.intp)],
            self.labels["ethnicity"][self.ethnicity[sl]],
            self.birth_years[sl],
            self.labels["education"][self.education[sl]],
            self.labels["occupation"][self.occupation[sl]],
            self.labels["post"][self.posts[sl] + 1],
            self.labels["join_date"][self.join_index[sl]],
            np.strings.add("1990000", np.strings.zfill((ids % 10000).astype(str), 4)),
        )
        out = np.empty((stop - start, len(columns)), dtype=object)
        for i, column in enumerate(columns):
            out[:, i] = column
        return out


def draw_members(rng: np.random.Generator, orgs: OrgTable, stats: DemoStatistics) -> MemberTable:
    """The people of ``orgs``: its members (``direct_members`` per organisation, first in
    each organisation's block of rows) and the pipeline people (``pipeline``)."""
    direct = np.array(orgs.direct_members, dtype=np.int64)
    per_org = direct + np.array(orgs.pipeline, dtype=np.int64)
    row_org = np.repeat(np.arange(len(orgs), dtype=np.int32), per_org)
    starts = np.cumsum(per_org) - per_org
    position = np.arange(len(row_org)) - np.repeat(starts, per_org)
    is_member = position < direct[row_org]
    members = np.flatnonzero(is_member)
    pipeline = np.flatnonzero(~is_member)
    n = len(members)

    posts = _posts(orgs, row_org, position, is_member)
    kinds = np.array(orgs.kinds)
    is_branch = kinds == OrgKind.branch.value
    forced_full = is_member & ((posts >= 0) | (is_branch[row_org] & (position < FULL_MEMBERS_FIRST_IN_BRANCH)))

    band_of_age = _band_of_age(stats)
    bands = np.empty(len(row_org), dtype=np.int16)
    bands[members] = shuffled_labels(rng, n, stats.age_shares)
    is_leadership = np.isin(kinds, [OrgKind.committee.value, OrgKind.general_branch.value])
    _leaders_of_working_age(rng, bands, members, is_leadership[row_org[members]], stats)
    pipeline_ages = _pipeline_ages(rng, len(pipeline), stats)
    bands[pipeline] = band_of_age[pipeline_ages]

    stages = np.empty(len(row_org), dtype=np.int8)
    stages[members] = FULL
    probationary = _pick_probationary(rng, members[~forced_full[members]], bands, n, stats)
    stages[probationary] = PROBATIONARY
    counts = stats.pipeline_counts(n)
    pipeline_stages = np.array([APPLICANT, ACTIVIST, TARGET], dtype=np.int8)
    stages[pipeline] = pipeline_stages[
        shuffled_labels(
            rng, len(pipeline), np.array([counts.applicants, counts.activists, counts.development_targets], dtype=float)
        )
    ]

    ages = np.empty(len(row_org), dtype=np.int16)
    ages[pipeline] = pipeline_ages
    ages[members] = _member_ages(rng, bands[members], stages[members] == PROBATIONARY, stats)
    birth_years = (stats.reference_date.year - ages).astype(np.int16)

    join_dates = np.full(len(row_org), np.datetime64("NaT"), dtype="datetime64[D]")
    adjusted = _join_dates(rng, join_dates, members, stages, birth_years, stats)

    education = _education(rng, bands, members, stats)
    occupation = _occupation(rng, bands, row_org, members, orgs, stats)
    ethnicity = _ethnicity(rng, row_org, members, orgs, stats)

    join_labels, join_index = _date_labels(join_dates)

    female = np.empty(len(row_org), dtype=bool)
    women = [1.0 - stats.women_share, stats.women_share]
    female[members] = shuffled_labels(rng, n, np.array(women)) == 1
    female[pipeline] = shuffled_labels(rng, len(pipeline), np.array(women)) == 1

    return MemberTable(
        org_ids=row_org + 1,
        stages=stages,
        female=female,
        ethnicity=ethnicity,
        birth_years=birth_years,
        education=education,
        occupation=occupation,
        posts=posts,
        join_index=join_index,
        names=person_names(rng, female),
        labels={
            "stage": np.array(STAGES, dtype=object),
            "ethnicity": np.array(stats.ethnic_groups.names, dtype=object),
            "education": np.array(stats.education.keys, dtype=object),
            "occupation": np.array(stats.occupations.keys, dtype=object),
            "post": np.array((None, *POSTS), dtype=object),
            "join_date": join_labels,
        },
        adjusted_join_dates=adjusted,
    )


def _posts(orgs: OrgTable, row_org: np.ndarray, position: np.ndarray, is_member: np.ndarray) -> np.ndarray:
    """Post index per row (-1: none): each organisation's first members hold its posts in order."""
    templates = sorted(set(orgs.posts))
    width = max(1, *(len(t) for t in templates))
    table = np.full((len(templates), width), -1, dtype=np.int8)
    for i, template in enumerate(templates):
        table[i, : len(template)] = [POSTS.index(p) for p in template]
    index = {t: i for i, t in enumerate(templates)}
    template_of_org = np.array([index[t] for t in orgs.posts], dtype=np.intp)
    posts = np.full(len(row_org), -1, dtype=np.int8)
    holders = np.flatnonzero(is_member & (position < width))
    posts[holders] = table[template_of_org[row_org[holders]], position[holders]]
    return posts


def _band_of_age(stats: DemoStatistics) -> np.ndarray:
    """Age band index for every age 0..max."""
    lookup = np.zeros(stats.age_bands[-1].max_age + 1, dtype=np.int16)
    for i, band in enumerate(stats.age_bands):
        lookup[band.min_age : band.max_age + 1] = i
    return lookup


def _leaders_of_working_age(
    rng: np.random.Generator, bands: np.ndarray, members: np.ndarray, leaders: np.ndarray, stats: DemoStatistics
) -> None:
    """Swap age bands between committee leaders outside working age and other members
    inside it, so leading bodies are 31-60 and every band keeps its count."""
    low, high = LEADER_AGES
    working = [i for i, b in enumerate(stats.age_bands) if b.min_age >= low and b.max_age <= high]
    in_working = np.isin(bands[members], working)
    outside = members[leaders & ~in_working]
    pool = members[~leaders & in_working]
    k = min(len(outside), len(pool))
    donors = rng.choice(pool, size=k, replace=False)
    outside = outside[:k]
    swapped = bands[outside].copy()
    bands[outside] = bands[donors]
    bands[donors] = swapped


def _pipeline_ages(rng: np.random.Generator, n: int, stats: DemoStatistics) -> np.ndarray:
    young = shuffled_labels(rng, n, np.array([1 - stats.young_probationary_share, stats.young_probationary_share]))
    low = np.where(young == 1, PIPELINE_YOUNG_AGES[0], PIPELINE_OLDER_AGES[0])
    high = np.where(young == 1, PIPELINE_YOUNG_AGES[1], PIPELINE_OLDER_AGES[1])
    return rng.integers(low, high + 1).astype(np.int16)


def _pick_probationary(
    rng: np.random.Generator, candidates: np.ndarray, bands: np.ndarray, members: int, stats: DemoStatistics
) -> np.ndarray:
    """Rows of the probationary members (chosen among ``candidates``): the published
    share of ``members``, with the age profile of new members (mostly 35 or younger,
    the rest at most 55)."""
    young_bands = [i for i, b in enumerate(stats.age_bands) if b.max_age <= PIPELINE_YOUNG_AGES[1]]
    older_bands = [i for i, b in enumerate(stats.age_bands) if b.min_age > PIPELINE_YOUNG_AGES[1]
                   and b.max_age <= PIPELINE_OLDER_AGES[1]]
    total = min(stats.probationary_count(members), len(candidates))
    pools = (candidates[np.isin(bands[candidates], young_bands)], candidates[np.isin(bands[candidates], older_bands)])
    wanted_young = min(round(total * stats.young_probationary_share), len(pools[0]))
    wanted = (wanted_young, min(total - wanted_young, len(pools[1])))
    return np.concatenate([rng.choice(pool, size=k, replace=False) for pool, k in zip(pools, wanted)])


def _member_ages(rng: np.random.Generator, bands: np.ndarray, probationary: np.ndarray, stats: DemoStatistics) -> np.ndarray:
    """An age within each member's band: the youngest band leans to its older end, the
    oldest thins out with age, the others are flat. A full member is at least 19:
    they joined at 18 or later and served a year's probation."""
    ages = np.empty(len(bands), dtype=np.int16)
    last = len(stats.age_bands) - 1
    for i, band in enumerate(stats.age_bands):
        choices = np.arange(band.min_age, band.max_age + 1)
        if i == 0:
            weights = (choices - band.min_age + 1).astype(float)
        elif i == last:
            weights = OLDEST_BAND_DECAY ** (choices - band.min_age)
        else:
            weights = np.ones(len(choices))
        for is_probationary in (False, True):
            rows = np.flatnonzero((bands == i) & (probationary == is_probationary))
            w = weights.copy()
            if not is_probationary:
                w[choices < 19] = 0.0
            ages[rows] = rng.choice(choices, size=len(rows), p=w / w.sum())
    return ages


def _join_dates(
    rng: np.random.Generator,
    join_dates: np.ndarray,
    members: np.ndarray,
    stages: np.ndarray,
    birth_years: np.ndarray,
    stats: DemoStatistics,
) -> int:
    """Fill ``join_dates`` for members; return how many full members' dates were moved to age 18+."""
    year = stats.reference_date.year
    year_start = np.datetime64(dt.date(year, 1, 1), "D")
    reference = np.datetime64(stats.reference_date, "D")
    probationary = members[stages[members] == PROBATIONARY]
    full = members[stages[members] == FULL]
    span = int((reference - year_start).astype(int)) + 1
    join_dates[probationary] = year_start + rng.integers(0, span, size=len(probationary))

    per_period = exact_counts(len(members), stats.join_shares)
    per_period[-1] -= len(probationary)
    per_period = exact_counts(len(full), np.maximum(per_period, 0).astype(float))
    last_full_day = year_start - 1
    days = []
    for period, count in zip(stats.join_periods, per_period.tolist()):
        first = np.datetime64(period.first_day, "D")
        last = min(np.datetime64(period.last_day, "D"), last_full_day)
        days.append(first + rng.integers(0, int((last - first).astype(int)) + 1, size=count))
    sorted_days = np.sort(np.concatenate(days))
    seniority = birth_years[full] + rng.normal(0.0, JOIN_RANK_NOISE_YEARS, size=len(full))
    join_dates[full[np.argsort(seniority, kind="stable")]] = sorted_days

    earliest = (birth_years[full].astype(np.int64) + 18 - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    too_early = np.flatnonzero(join_dates[full] < earliest)
    room = np.minimum((last_full_day - earliest[too_early]).astype(int), ADJUSTED_JOIN_SPREAD_DAYS) + 1
    join_dates[full[too_early]] = earliest[too_early] + (rng.random(len(too_early)) * room).astype(np.int64)
    return len(too_early)


def _date_labels(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ISO strings for every day in the range of ``dates`` (None first, for NaT) and
    each date's index into them: one string per distinct day instead of one per row."""
    known = ~np.isnat(dates)
    if not known.any():
        return np.array([None], dtype=object), np.zeros(len(dates), dtype=np.int32)
    first, last = dates[known].min(), dates[known].max()
    labels = np.concatenate([[None], np.arange(first, last + 1).astype(str).astype(object)])
    index = np.zeros(len(dates), dtype=np.int32)
    index[known] = (dates[known] - first).astype(np.int64) + 1
    return labels, index


def _education(rng: np.random.Generator, bands: np.ndarray, members: np.ndarray, stats: DemoStatistics) -> np.ndarray:
    affinity = np.array([EDUCATION_BY_AGE[k] for k in stats.education.keys]).T
    return _draw_fitted(rng, bands, members, stats.education.shares, affinity)


def _occupation(
    rng: np.random.Generator,
    bands: np.ndarray,
    row_org: np.ndarray,
    members: np.ndarray,
    orgs: OrgTable,
    stats: DemoStatistics,
) -> np.ndarray:
    units = stats.unit_types.keys
    unit_of_org = np.array([units.index(u or UNIT_FOR_LEADERSHIP) for u in orgs.unit_types], dtype=np.int16)
    cells = bands * len(units) + unit_of_org[row_org]
    keys = stats.occupations.keys
    by_age = np.array([OCCUPATION_BY_AGE[k] for k in keys]).T
    by_unit = np.array([[OCCUPATION_BY_UNIT[k][u] for k in keys] for u in units])
    affinity = (by_age[:, None, :] * by_unit[None, :, :]).reshape(-1, len(keys))
    return _draw_fitted(rng, cells, members, stats.occupations.shares, affinity)


def _ethnicity(
    rng: np.random.Generator, row_org: np.ndarray, members: np.ndarray, orgs: OrgTable, stats: DemoStatistics
) -> np.ndarray:
    """Ethnic group per row, each region's members about as diverse as its residents.
    The top committee has no region: its cell gets the national mix."""
    regions = sorted(stats.region_weights)
    region_of_org = np.array([regions.index(r) if r else len(regions) for r in orgs.region_codes], dtype=np.int16)
    return _draw_fitted(rng, region_of_org[row_org], members, stats.ethnic_groups.shares, _ethnic_mix(regions, stats))


def _ethnic_mix(regions: list[str], stats: DemoStatistics) -> np.ndarray:
    """Share of each group among each region's residents (last row: the whole country).

    A group's people outside its listed home regions are spread over all
    regions in proportion to population."""
    groups = stats.ethnic_groups
    residents = np.array([stats.region_weights[r] for r in regions])
    mix = np.zeros((len(regions) + 1, len(groups.names)))
    for g, homes in enumerate(groups.home_regions):
        if not homes:
            continue
        at_home = np.array([homes.get(r, 0.0) for r in regions]) * 1e6
        elsewhere = max(groups.populations[g] * 1e6 - at_home.sum(), 0.0) * residents / residents.sum()
        mix[:-1, g] = (at_home + elsewhere) / residents
        mix[-1, g] = groups.populations[g] * 1e6 / residents.sum()
    mix[:, 0] = np.maximum(1.0 - mix.sum(axis=1), 0.01)
    return mix


def _draw_fitted(
    rng: np.random.Generator, cells: np.ndarray, members: np.ndarray, shares: np.ndarray, affinity: np.ndarray
) -> np.ndarray:
    """A category per row, with ``shares`` over the members and ``affinity`` shaping each cell.

    The fit uses the members only; pipeline rows draw from the same per-cell
    shares (a cell with no members falls back to its affinity times the shares).
    """
    cell_counts = np.bincount(cells[members], minlength=len(affinity)).astype(float)
    joint = fit_joint(cell_counts, shares * len(members), affinity)
    fallback = affinity * shares[None, :]
    fallback /= fallback.sum(axis=1, keepdims=True)
    return draw_by_cell(rng, cells, conditional_shares(joint, fallback))
