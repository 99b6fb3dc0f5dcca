"""The members file: every cell checked and converted, column by column, for any number of rows.

The result has the stored shape (``stored.MEMBER_FIELDS``: text, '' for
empty, organisation ids from the planned tree) plus the spreadsheet ``row``.
Category columns are object arrays whose cells share a few string objects
(one per distinct value), so they cost a pointer a row.
Rows with a missing, malformed or repeated member id are left out (with a
problem each); every other problem is reported and the row kept, so one
mistake does not hide the next.

A roster without member codes (人员编号) is keyed by the 公民身份号码: the
code is assigned when the member is first imported (roster.py) and only a
keyed hash of the ID number is kept (idnumber.py). Rows whose 党籍状态 is not
正常 (停止党籍, 出党 …) are not imported, each with a warning: the screens
count members in good standing.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable

import numpy as np
import pandas as pd

from dashboard.transfer.importer.idnumber import keyed_hash, normalised, verdict
from dashboard.transfer.importer.orgs import TreePlan
from dashboard.transfer.importer.problems import Report
from dashboard.transfer.importer.read import Table
from dashboard.transfer.importer.refs import Found, OrgFinder
from dashboard.transfer.importer.values import (
    CODE_PATTERN,
    PHONE_PATTERN,
    ambiguous_month,
    cells,
    empty,
    malformed,
    parse_date,
    per_value,
    phones,
    report_rows,
    value_at,
    vocabulary_values,
)
from dashboard.transfer.importer.vocab import (
    EDUCATION,
    ETHNICITY,
    GENDER,
    MEMBERSHIP,
    OCCUPATION,
    POST,
    STAGE,
    STATUS,
    Vocabulary,
)

NAME_LIMIT = 100
PARTY_FOUNDED = dt.date(1921, 7, 1)
EARLIEST_BIRTH_YEAR = 1900
JOIN_AGE = 18
# Optional columns: absent from the file, the stored value is kept.
KEPT_WHEN_ABSENT = ("post", "phone", "id_hash", "id_tail")
ID_MESSAGES = {"excel_number": "id_number_excel", "bad_check": "id_number_check", "bad_shape": "id_number_shape"}


def parse_members(table: Table, tree: TreePlan, report: Report, today: dt.date, id_key: Callable[[], bytes]) -> pd.DataFrame:
    """The file's members in the stored shape, with ``row``; see the module docstring."""
    code = cells(table, "code")
    id_hash, id_tail, id_usable = _id_numbers(table, report, id_key)
    keep = _usable_codes(table, code, report) if "code" in table.headers else id_usable
    keep &= _in_good_standing(table, report)
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
    written_phone = cells(table, "phone")
    phone = phones(written_phone)
    report_rows(report, table, malformed(phone, PHONE_PATTERN), "bad_phone", "phone", value_at(written_phone))

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
        "id_hash": id_hash,
        "id_tail": id_tail,
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


def _id_numbers(table: Table, report: Report, id_key: Callable[[], bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(keyed hash per row, last four characters per row, rows with a valid or — beside member codes — no ID number).

    Without a 人员编号 column the ID number is the key: required, and unique in the file."""
    column = cells(table, "id_number")
    rows = len(table)
    if "id_number" not in table.headers:
        return np.full(rows, "", dtype=object), np.full(rows, "", dtype=object), np.ones(rows, dtype=bool)
    numbers = [normalised(v) for v in column.tolist()]
    verdicts = np.array([verdict(n) if n else "" for n in numbers], dtype=object)
    missing = verdicts == ""
    if "code" not in table.headers:
        report_rows(report, table, missing, "missing_value", "id_number")
    for kind, code in ID_MESSAGES.items():
        report_rows(report, table, verdicts == kind, code, "id_number", value_at(column))
    valid = verdicts == "ok"
    key = id_key() if valid.any() else b""
    hashes = np.array([keyed_hash(n, key) if ok else "" for n, ok in zip(numbers, valid)], dtype=object)
    tails = np.array([n[-4:] if ok else "" for n, ok in zip(numbers, valid)], dtype=object)
    repeated = pd.Series(hashes).duplicated(keep="first").to_numpy() & valid
    if repeated.any():
        first_row = dict(zip(hashes[::-1], table.rows[::-1]))
        report_rows(report, table, repeated, "duplicate_id_number", "id_number",
                    lambda p: {"first": int(first_row[hashes[p]]), "tail": tails[p]})
    usable = (valid & ~repeated) | (missing & ("code" in table.headers))
    return hashes, tails, usable


def _in_good_standing(table: Table, report: Report) -> np.ndarray:
    """Rows to import: 党籍状态 正常, or no such column. Others are left out with a warning; unknown values are errors."""
    column = cells(table, "membership")
    values, unknown = vocabulary_values(column, MEMBERSHIP)
    report_rows(report, table, unknown, "unknown_value", "membership",
                lambda p: {"value": column.iat[p], "vocabulary": MEMBERSHIP.name, "accepted": MEMBERSHIP.accepted()})
    left_out = (values != None) & (values != "normal")  # noqa: E711
    report_rows(report, table, left_out, "not_in_good_standing", "membership", value_at(column), warning=True)
    return ~left_out


def _org_ids(table: Table, tree: TreePlan, report: Report) -> np.ndarray:
    """Organisation ids by code or name (see refs.py); 0 where empty, -1 where not found."""
    org = cells(table, "org")
    finder = OrgFinder((code, o.name) for code, o in tree.orgs.items())
    found = per_value(org, lambda c: finder.find(c) if c else None)

    def org_id(f: Found | None) -> int:
        if f is None:
            return 0
        return (tree.id_of(f.code) or -1) if f.code else -1

    ids = np.array([org_id(f) for f in found], dtype=np.int64)
    how = np.array([f.how if f is not None else "" for f in found], dtype=object)
    report_rows(report, table, ids == 0, "missing_value", "org")
    report_rows(report, table, how == "unknown", "unknown_org", "org", value_at(org))
    report_rows(report, table, how == "ambiguous", "ambiguous_org", "org",
                lambda p: {"value": org.iat[p], "candidates": ", ".join(found[p].candidates)})
    report_rows(report, table, how == "zeros", "lost_zeros", "org",
                lambda p: {"value": org.iat[p], "code": found[p].code}, warning=True)
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
        text = unicodedata.normalize("NFKC", text).strip()
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
    iso = per_value(column, lambda v: d.isoformat() if v and not ambiguous_month(v) and (d := parse_date(v)) else "")
    years = per_value(column, lambda v: d.year if v and (d := parse_date(v)) else 0, np.int64)
    unclear = per_value(column, ambiguous_month, bool)
    report_rows(report, table, unclear, "ambiguous_month", "join_date", value_at(column))
    report_rows(report, table, (iso == "") & ~empty(column) & ~unclear, "bad_date", "join_date", value_at(column))
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
