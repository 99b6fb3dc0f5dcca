"""The members file: every cell checked and converted, column by column, for any number of rows.

The result has the stored shape (``stored.MEMBER_FIELDS``: text, '' for
empty, organisation ids from the planned tree) plus the spreadsheet ``row``.
Category columns are object arrays whose cells share a few string objects
(one per distinct value), so they cost a pointer a row.
Rows with a missing, malformed or repeated member id are left out (with a
problem each); every other problem is reported and the row kept, so one
mistake does not hide the next.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from dashboard.transfer.importer.orgs import TreePlan
from dashboard.transfer.importer.problems import Report
from dashboard.transfer.importer.read import Table
from dashboard.transfer.importer.values import (
    CODE_PATTERN,
    PHONE_PATTERN,
    cells,
    empty,
    malformed,
    parse_date,
    per_value,
    report_rows,
    value_at,
    vocabulary_values,
)
from dashboard.transfer.importer.vocab import EDUCATION, ETHNICITY, GENDER, OCCUPATION, POST, STAGE, STATUS, Vocabulary

NAME_LIMIT = 100
PARTY_FOUNDED = dt.date(1921, 7, 1)
EARLIEST_BIRTH_YEAR = 1900
JOIN_AGE = 18
# Optional columns: absent from the file, the stored value is kept.
KEPT_WHEN_ABSENT = ("post", "phone")


def parse_members(table: Table, tree: TreePlan, report: Report, today: dt.date) -> pd.DataFrame:
    """The file's members in the stored shape, with ``row``; see the module docstring."""
    code = cells(table, "code")
    keep = _usable_codes(table, code, report)
    name = cells(table, "name")
    report_rows(report, table, empty(name), "missing_value", "name")
    report_rows(report, table, (name.str.len() > NAME_LIMIT).to_numpy(), "too_long", "name",
                lambda p: {"value": name.iat[p], "limit": NAME_LIMIT})
    org_ids = _org_ids(table, tree, report)
    stage = _stage(table, report)
    categories = {
        key: _required_category(table, key, vocabulary, report)
        for key, vocabulary in (("gender", GENDER), ("ethnicity", ETHNICITY), ("education", EDUCATION),
                                ("occupation", OCCUPATION))
    }
    post = _category(table, "post", POST, report)
    post = np.where(post == None, "", post)  # noqa: E711 — elementwise on an object array
    birth_year = _birth_years(table, report, today)
    join, join_year = _join_dates(table, report, today)
    _check_party_rules(table, report, stage, post, birth_year, join, join_year)
    phone = cells(table, "phone")
    report_rows(report, table, malformed(phone, PHONE_PATTERN), "bad_phone", "phone", value_at(phone))

    return pd.DataFrame({
        "code": code.to_numpy(dtype=object),
        "name": name.to_numpy(dtype=object),
        "org_id": org_ids,
        "stage": stage,
        **categories,
        "birth_year": birth_year,
        "post": post,
        "join_date": join,
        "phone": phone.to_numpy(dtype=object),
        "row": table.rows,
    })[keep].reset_index(drop=True)


def _usable_codes(table: Table, code: pd.Series, report: Report) -> np.ndarray:
    missing = empty(code)
    bad = malformed(code, CODE_PATTERN)
    report_rows(report, table, missing, "missing_value", "code")
    report_rows(report, table, bad, "bad_code", "code", value_at(code))
    usable = ~(missing | bad)
    repeated = code.duplicated(keep="first").to_numpy() & usable
    if repeated.any():
        first_row = pd.Series(table.rows, index=code.to_numpy(dtype=object))
        first_row = first_row[~first_row.index.duplicated()]
        report_rows(report, table, repeated, "duplicate_member", "code",
                    lambda p: {"value": code.iat[p], "first": int(first_row[code.iat[p]])})
    return usable & ~repeated


def _org_ids(table: Table, tree: TreePlan, report: Report) -> np.ndarray:
    org = cells(table, "org")
    ids = per_value(org, lambda c: (tree.id_of(c) or -1) if c else 0, np.int64)  # 0: empty, -1: unknown
    report_rows(report, table, ids == 0, "missing_value", "org")
    report_rows(report, table, ids == -1, "unknown_org", "org", value_at(org))
    return np.where(ids > 0, ids, -1)


def _category(table: Table, key: str, vocabulary: Vocabulary, report: Report) -> np.ndarray:
    column = cells(table, key)
    values, unknown = vocabulary_values(column, vocabulary)
    report_rows(report, table, unknown, "unknown_value", key,
                lambda p: {"value": column.iat[p], "vocabulary": vocabulary.name, "accepted": vocabulary.accepted()})
    return values


def _required_category(table: Table, key: str, vocabulary: Vocabulary, report: Report) -> np.ndarray:
    report_rows(report, table, empty(cells(table, key)), "missing_value", key)
    values = _category(table, key, vocabulary, report)
    return np.where(values == None, "", values)  # noqa: E711


def _stage(table: Table, report: Report) -> np.ndarray:
    """The stage from 发展阶段, else from 党员状态 (正式 → full, 预备 → probationary); they must agree."""
    stage = _category(table, "stage", STAGE, report)
    status = _category(table, "status", STATUS, report)
    both = (stage != None) & (status != None)  # noqa: E711
    conflict = both & (stage != status)
    report_rows(report, table, conflict, "status_conflict", "status" if "status" in table.headers else "stage",
                lambda p: {"status": cells(table, "status").iat[p], "stage": cells(table, "stage").iat[p]})
    merged = np.where(stage == None, status, stage)  # noqa: E711
    neither = (merged == None) & empty(cells(table, "stage")) & empty(cells(table, "status"))  # noqa: E711
    report_rows(report, table, neither, "missing_value", "stage" if "stage" in table.headers else "status")
    return np.where(merged == None, "", merged)  # noqa: E711


def _birth_years(table: Table, report: Report, today: dt.date) -> np.ndarray:
    """Birth years (0 where unknown); a column of years or of dates."""
    column = cells(table, "birth")

    def year(text: str) -> int:
        if text.isdigit() and len(text) == 4:
            return int(text)
        day = parse_date(text) if text else None
        return day.year if day else 0

    def future(text: str) -> bool:
        day = parse_date(text) if text else None
        return day > today if day else (text.isdigit() and len(text) == 4 and int(text) > today.year)

    years = per_value(column, year, np.int64)
    report_rows(report, table, empty(column), "missing_value", "birth")
    report_rows(report, table, (years == 0) & ~empty(column), "bad_birth", "birth", value_at(column))
    report_rows(report, table, per_value(column, future, bool), "future_date", "birth",
                lambda p: {"value": column.iat[p], "today": today.isoformat()})
    report_rows(report, table, (years > 0) & (years < EARLIEST_BIRTH_YEAR), "too_early", "birth",
                lambda p: {"value": column.iat[p], "earliest": EARLIEST_BIRTH_YEAR})
    return years


def _join_dates(table: Table, report: Report, today: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """Join dates as ISO text ('' where empty or not a date), and their years (0 where none)."""
    column = cells(table, "join_date")
    iso = per_value(column, lambda v: d.isoformat() if v and (d := parse_date(v)) else "")
    years = per_value(column, lambda v: d.year if v and (d := parse_date(v)) else 0, np.int64)
    report_rows(report, table, (iso == "") & ~empty(column), "bad_date", "join_date", value_at(column))
    report_rows(report, table, (iso > today.isoformat()) & (iso != ""), "future_date", "join_date",
                lambda p: {"value": column.iat[p], "today": today.isoformat()})
    report_rows(report, table, (iso < PARTY_FOUNDED.isoformat()) & (iso != ""), "too_early", "join_date",
                lambda p: {"value": column.iat[p], "earliest": f"{PARTY_FOUNDED.isoformat()} (the founding of the Party)"})
    return iso, years


def _check_party_rules(table: Table, report: Report, stage: np.ndarray, post: np.ndarray, birth_year: np.ndarray,
                       join: np.ndarray, join_year: np.ndarray) -> None:
    party = (stage == "probationary") | (stage == "full")  # np.isin would sort a million objects
    pipeline = (stage != "") & ~party
    has_join = join != ""
    join_column = "join_date" if "join_date" in table.headers else "stage"
    report_rows(report, table, party & empty(cells(table, "join_date")), "join_date_required", join_column,
                lambda p: {"stage": stage[p]})
    report_rows(report, table, pipeline & has_join, "join_date_forbidden", "join_date", lambda p: {"stage": stage[p]})
    report_rows(report, table, (post != "") & (stage != "") & (stage != "full"), "post_not_full", "post",
                lambda p: {"stage": stage[p]})
    young = has_join & (birth_year > 0) & (join_year - birth_year < JOIN_AGE)
    report_rows(report, table, young, "joined_young", "join_date",
                lambda p: {"age": int(join_year[p] - birth_year[p]), "birth": int(birth_year[p]), "join": join[p]})
