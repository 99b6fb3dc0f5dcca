"""Per-member state in flat numpy arrays indexed by member id, and what each
member contributes to the rolled-up counters.

About 34 bytes a member (1M members ≈ 34 MB). A member's *contribution* is
one organisation row (where they are now) and a fixed set of slots, each
naming the counter column the member adds one to — or ``VOID`` when the slot
does not apply (e.g. structure columns for someone who is not yet a party
member). When a member's state changes, the aggregator subtracts the old
contribution and adds the new one along both ancestor chains, so the counters
always equal the sum of the contributions under the current time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.live.aggregator.spec import (
    ACTIVE_WINDOW_MINUTES,
    AGE_BANDS,
    GENDERS,
    HAN_VALUES,
    PIPELINE_STAGES,
    SECRETARY_POST,
)

MEMBER_COLUMNS = ("id", "org_id", "stage", "gender", "ethnicity", "birth_year", "education", "occupation", "post", "join_date")
CATEGORY_DIMENSIONS = ("education", "occupation")

VOID = 0
STAGE = 1
GENDER = STAGE + len(PIPELINE_STAGES)
BAND = GENDER + len(GENDERS)
HAN = BAND + len(AGE_BANDS)
MINORITY = HAN + 1
SECRETARY = MINORITY + 1
ACTIVE_TODAY = SECRETARY + 1
DUES_PAID = ACTIVE_TODAY + 1
LOST = DUES_PAID + 1
SEEN = LOST + 1  # ring: one column per minute of the active window
CATEGORY = SEEN + ACTIVE_WINDOW_MINUTES  # education and occupation values, appended as met

PROBATIONARY = PIPELINE_STAGES.index("probationary")
FULL = PIPELINE_STAGES.index("full")
STAGE_CODES = {name: code for code, name in enumerate(PIPELINE_STAGES)}
_BAND_UPPER = np.array([high for _, _, high in AGE_BANDS[:-1]])
_SLOTS = 11


@dataclass(frozen=True, slots=True)
class Moment:
    """What a contribution depends on besides the member: the current time."""

    year: int
    day_start_ms: int
    minute: int
    lost_before_ms: int
    started_ms: int | None  # the first stored event's time; nobody is lost before the system has run


def _lookup(values: pd.Series, mapping: dict, default: int) -> np.ndarray:
    """``mapping[v]`` for each value (``default`` if absent), looking up each distinct value once."""
    codes, uniques = pd.factorize(values)
    table = np.array([mapping.get(v, default) for v in uniques] + [default], dtype=np.int64)
    return table[codes]


class MemberBook:
    def __init__(self, row_of: dict[int, int], sink: int, tz: dt.tzinfo) -> None:
        self._row_of = row_of
        self._sink = sink
        self._tz = tz
        self.categories: dict[tuple[str, str], int] = {}
        self.known = np.zeros(0, dtype=bool)
        self.org = np.zeros(0, dtype=np.int32)
        self.stage = np.zeros(0, dtype=np.int8)
        self.gender = np.zeros(0, dtype=np.int8)
        self.birth_year = np.zeros(0, dtype=np.int16)
        self.han = np.zeros(0, dtype=bool)
        self.education = np.zeros(0, dtype=np.int16)
        self.occupation = np.zeros(0, dtype=np.int16)
        self.secretary = np.zeros(0, dtype=bool)
        self.join_ms = np.zeros(0, dtype=np.int64)
        self.last_ms = np.zeros(0, dtype=np.int64)  # 0 = never active
        self.dues_paid = np.zeros(0, dtype=bool)  # for the current month
        self.dues_ahead: dict[int, set[int]] = {}  # month number → members who paid for it in advance
        self.active_days = np.zeros(0, dtype=np.uint32)  # bit k: active k local days ago (daily.py)

    _ARRAYS = ("known", "org", "stage", "gender", "birth_year", "han", "education", "occupation",
               "secretary", "join_ms", "last_ms", "dues_paid", "active_days")

    def __len__(self) -> int:
        return int(self.known.sum())

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in self._ARRAYS)

    def ids(self) -> np.ndarray:
        return np.flatnonzero(self.known)

    def knows(self, member_id: int) -> bool:
        return 0 <= member_id < len(self.known) and bool(self.known[member_id])

    def _grow(self, max_id: int) -> None:
        if max_id < len(self.known):
            return
        before = len(self.known)
        size = max(max_id + 1, before * 3 // 2)
        for name in self._ARRAYS:
            old = getattr(self, name)
            new = np.zeros(size, dtype=old.dtype)
            new[:before] = old
            setattr(self, name, new)
        self.org[before:] = self._sink

    def _category_codes(self, dimension: str, values: pd.Series) -> np.ndarray:
        codes, uniques = pd.factorize(values.astype(str))
        for value in uniques:
            self.categories.setdefault((dimension, value), CATEGORY + len(self.categories))
        return np.array([self.categories[(dimension, v)] for v in uniques], dtype=np.int16)[codes]

    def upsert(self, frame: pd.DataFrame) -> None:
        """Take members (columns ``MEMBER_COLUMNS``) as the roll has them; keeps activity and dues."""
        if frame.empty:
            return
        ids = frame["id"].to_numpy(np.int64)
        self._grow(int(ids.max()))
        self.known[ids] = True
        self.org[ids] = _lookup(frame["org_id"], self._row_of, self._sink)
        self.stage[ids] = _lookup(frame["stage"], STAGE_CODES, -1)
        self.gender[ids] = _lookup(frame["gender"], {g: i for i, g in enumerate(GENDERS)}, -1)
        self.birth_year[ids] = frame["birth_year"].to_numpy(np.int16)
        self.han[ids] = frame["ethnicity"].isin(HAN_VALUES).to_numpy()
        self.education[ids] = self._category_codes("education", frame["education"])
        self.occupation[ids] = self._category_codes("occupation", frame["occupation"])
        self.secretary[ids] = (frame["post"] == SECRETARY_POST).to_numpy()
        joined = pd.to_datetime(frame["join_date"]).dt.as_unit("ms").dt.tz_localize(self._tz, nonexistent="shift_forward")
        self.join_ms[ids] = np.where(joined.isna().to_numpy(), 0, joined.array.asi8)

    @property
    def width(self) -> int:
        """Number of member counter columns."""
        return CATEGORY + len(self.categories)

    def contributions(self, ids: np.ndarray, now: Moment) -> tuple[np.ndarray, np.ndarray]:
        """The organisation row and the slot columns (shape ``(len(ids), 11)``) of each member."""
        known = self.known[ids]
        stage = self.stage[ids]
        party = known & ((stage == PROBATIONARY) | (stage == FULL))
        last = self.last_ms[ids]
        age = now.year - self.birth_year[ids].astype(np.int64)
        seen_minute = last // 60_000
        if now.started_ms is None:
            lost = np.zeros(len(ids), dtype=bool)
        else:
            latest = np.maximum(np.maximum(last, self.join_ms[ids]), now.started_ms)
            lost = latest < now.lost_before_ms
        cols = np.full((len(ids), _SLOTS), VOID, dtype=np.int64)
        cols[:, 0] = np.where(known & (stage >= 0), STAGE + stage, VOID)
        gender = self.gender[ids]
        cols[:, 1] = np.where(party & (gender >= 0), GENDER + gender, VOID)
        cols[:, 2] = np.where(party, BAND + np.searchsorted(_BAND_UPPER, age), VOID)
        cols[:, 3] = np.where(party, np.where(self.han[ids], HAN, MINORITY), VOID)
        cols[:, 4] = np.where(party, self.education[ids], VOID)
        cols[:, 5] = np.where(party, self.occupation[ids], VOID)
        cols[:, 6] = np.where(party & self.secretary[ids], SECRETARY, VOID)
        cols[:, 7] = np.where(party & (last >= now.day_start_ms), ACTIVE_TODAY, VOID)
        cols[:, 8] = np.where(party & self.dues_paid[ids], DUES_PAID, VOID)
        cols[:, 9] = np.where(party & lost, LOST, VOID)
        in_window = party & (last > 0) & (seen_minute > now.minute - ACTIVE_WINDOW_MINUTES)
        cols[:, 10] = np.where(in_window, SEEN + seen_minute % ACTIVE_WINDOW_MINUTES, VOID)
        rows = np.where(known, self.org[ids], self._sink).astype(np.int64)
        return rows, cols

    def counted_days(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each member's organisation row and the days they count as active (party members only)."""
        stage = self.stage[ids]
        party = self.known[ids] & ((stage == PROBATIONARY) | (stage == FULL))
        rows = np.where(self.known[ids], self.org[ids], self._sink).astype(np.int64)
        return rows, np.where(party, self.active_days[ids], np.uint32(0))

    def start_month(self, month: int) -> None:
        """A new month: only payments made in advance for it count."""
        self.dues_paid[:] = False
        ahead = self.dues_ahead.pop(month, set())
        if ahead:
            self.dues_paid[np.fromiter(ahead, dtype=np.int64)] = True
        self.dues_ahead = {m: s for m, s in self.dues_ahead.items() if m > month}
