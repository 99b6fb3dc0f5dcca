"""The demo-organisation generator and ``python -m dashboard seed``.

Most checks run against one 100,000-member organisation seeded once into a
SQLite file; the published figures are written out here, not read from
data/statistics.json, so a wrong statistics file fails these tests too.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import CheckConstraint, Engine, select, text
from sqlalchemy.orm import Session

from dashboard.demo.geo import region_shapes
from dashboard.demo.seed import SeedRefused, seed_demo
from dashboard.demo.shape import INSTITUTION_DEPARTMENTS
from dashboard.map.regions import PROVINCES
from dashboard.store.engine import open_store
from dashboard.store.models import Base, Event, Organisation, Token
from dashboard.store.tree import OrgTree

ROOT = Path(__file__).resolve().parent.parent
MEMBERS = 100_000
TOLERANCE = 0.02  # ± 2 percentage points
# The seed moves the bulletin (reference date 2024-12-31) forward to the day it runs (DemoStatistics.as_of).
REFERENCE_YEAR = dt.date.today().year

# 中国共产党党内统计公报 2024 (see /data/README.md).
WOMEN = 0.309
MINORITIES = 0.077
COLLEGE_OR_ABOVE = 0.576
AGE_BANDS = {  # (lowest age, highest age): 10,000s of members
    (0, 30): 1227.2, (31, 35): 1076.4, (36, 40): 1147.5, (41, 45): 968.7,
    (46, 50): 904.1, (51, 55): 941.2, (56, 60): 864.6, (61, 200): 2897.3,
}
OCCUPATIONS = {
    "worker": 663.9, "farmer": 2614.4, "professional": 1639.4, "manager": 1156.3,
    "party_government": 759.2, "student": 262.2, "other": 784.9, "retired": 2146.9,
}
NEW_MEMBERS, APPLICANTS, ACTIVISTS, ALL_MEMBERS = 2.131e6, 21.42e6, 10.611e6, 100.271e6
PARTY = "stage IN ('full', 'probationary')"


def scalar(engine: Engine, sql: str) -> float:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def rows(engine: Engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql)).all()]


def share(engine: Engine, condition: str) -> float:
    return scalar(engine, f"SELECT AVG(CASE WHEN {condition} THEN 1.0 ELSE 0.0 END) FROM members WHERE {PARTY}")


def table_contents(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table the seed writes, in key order."""
    contents = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in ("events", "tokens", "alembic_version", "roster_edits"):  # roster_edits counts the replace's deletes
                continue
            contents[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns))]
    return contents


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, dict]]:
    engine = open_store(f"sqlite:///{tmp_path_factory.mktemp('seed') / 'seed.db'}")
    summary = seed_demo(engine, members=MEMBERS, seed=1)
    yield engine, summary
    engine.dispose()


def small_store(tmp_path: Path, name: str, members: int = 2000, seed: int = 7) -> Engine:
    engine = open_store(f"sqlite:///{tmp_path / name}")
    seed_demo(engine, members=members, seed=seed)
    return engine


# --- published shares --------------------------------------------------------------


def test_exactly_n_party_members_and_the_pipeline_at_published_ratios(seeded: tuple[Engine, dict]) -> None:
    engine, summary = seeded
    counts = dict(rows(engine, "SELECT stage, COUNT(*) FROM members GROUP BY stage"))
    assert counts["full"] + counts["probationary"] == MEMBERS == summary["members"]
    assert counts["probationary"] == pytest.approx(MEMBERS * NEW_MEMBERS / ALL_MEMBERS, abs=2)
    assert counts["applicant"] == pytest.approx(MEMBERS * APPLICANTS / ALL_MEMBERS, abs=2)
    assert counts["activist"] == pytest.approx(MEMBERS * ACTIVISTS / ALL_MEMBERS, abs=2)
    assert 0 < counts["development_target"] < counts["activist"]
    assert summary["applicants"] == counts["applicant"] and summary["activists"] == counts["activist"]


def test_gender_ethnicity_education_follow_the_bulletin(seeded: tuple[Engine, dict]) -> None:
    engine, _ = seeded
    assert share(engine, "gender = 'F'") == pytest.approx(WOMEN, abs=TOLERANCE)
    assert share(engine, "ethnicity <> 'Han'") == pytest.approx(MINORITIES, abs=TOLERANCE)
    college = "education IN ('postgraduate', 'bachelor', 'college')"
    assert share(engine, college) == pytest.approx(COLLEGE_OR_ABOVE, abs=TOLERANCE)
    minorities = {name for (name,) in rows(engine, "SELECT DISTINCT ethnicity FROM members WHERE ethnicity <> 'Han'")}
    assert {"Zhuang", "Uyghur", "Hui", "Tibetan", "Mongol"} <= minorities


@pytest.mark.parametrize("band", list(AGE_BANDS))
def test_each_age_band_follows_the_bulletin(seeded: tuple[Engine, dict], band: tuple[int, int]) -> None:
    engine, _ = seeded
    low, high = band
    published = AGE_BANDS[band] / sum(AGE_BANDS.values())
    assert share(engine, f"{REFERENCE_YEAR} - birth_year BETWEEN {low} AND {high}") == pytest.approx(
        published, abs=TOLERANCE
    )


@pytest.mark.parametrize("occupation", list(OCCUPATIONS))
def test_each_occupation_follows_the_bulletin(seeded: tuple[Engine, dict], occupation: str) -> None:
    engine, _ = seeded
    published = OCCUPATIONS[occupation] / sum(OCCUPATIONS.values())
    assert share(engine, f"occupation = '{occupation}'") == pytest.approx(published, abs=TOLERANCE)


def test_people_are_consistent(seeded: tuple[Engine, dict]) -> None:
    engine, _ = seeded
    # Nobody joins before 18; probationary members joined in the reference year, full members before it.
    assert scalar(engine, "SELECT MIN(CAST(substr(join_date, 1, 4) AS INTEGER) - birth_year) FROM members") >= 18
    late = f"SELECT COUNT(*) FROM members WHERE stage = 'probationary' AND join_date NOT LIKE '{REFERENCE_YEAR}-%'"
    assert scalar(engine, late) == 0
    assert scalar(engine, "SELECT MAX(join_date) FROM members WHERE stage = 'full'") < f"{REFERENCE_YEAR}-01-01"
    assert scalar(engine, "SELECT COUNT(*) FROM members WHERE post IS NOT NULL AND stage <> 'full'") == 0
    assert scalar(engine, f"SELECT COUNT(*) FROM members WHERE NOT {PARTY} AND (join_date IS NOT NULL OR post IS NOT NULL)") == 0
    # Students are young, nobody retires before 46.
    assert scalar(engine, f"SELECT MIN({REFERENCE_YEAR} - birth_year) FROM members WHERE occupation = 'retired'") >= 46
    assert scalar(engine, f"SELECT MAX({REFERENCE_YEAR} - birth_year) FROM members WHERE occupation = 'student'") <= 35
    # Generated, recognisably fake contact data; codes in order.
    assert scalar(engine, "SELECT COUNT(*) FROM members WHERE phone NOT LIKE '1990000____'") == 0
    assert rows(engine, "SELECT code FROM members WHERE id IN (1, 12345) ORDER BY id") == [("M0000001",), ("M0012345",)]
    assert scalar(engine, "SELECT MIN(length(name)) FROM members") >= 2
    assert scalar(engine, "SELECT MAX(length(name)) FROM members") <= 4


# --- the tree ----------------------------------------------------------------------


def test_every_branch_has_three_full_members_and_one_secretary(seeded: tuple[Engine, dict]) -> None:
    engine, summary = seeded
    per_branch = rows(
        engine,
        f"""
        SELECT CASE WHEN o.kind = 'group' THEN o.parent_id ELSE o.id END AS branch,
               SUM(m.stage = 'full'),
               SUM(m.post = 'secretary' AND o.kind = 'branch'),
               SUM(m.{PARTY})
        FROM members m JOIN organisations o ON o.id = m.org_id
        WHERE o.kind IN ('branch', 'group')
        GROUP BY branch
        """,
    )
    assert len(per_branch) == summary["branches"] == scalar(engine, "SELECT COUNT(*) FROM organisations WHERE kind = 'branch'")
    assert min(full for _, full, _, _ in per_branch) >= 3
    assert {secretaries for _, _, secretaries, _ in per_branch} == {1}
    average = sum(party for *_, party in per_branch) / len(per_branch)
    assert 15 <= average <= 30
    # Every 党小组 has exactly one group leader; committees have a leading body.
    leaders = rows(
        engine,
        """SELECT o.id, SUM(m.post = 'group_leader') FROM organisations o LEFT JOIN members m ON m.org_id = o.id
           WHERE o.kind = 'group' GROUP BY o.id""",
    )
    assert leaders and {n for _, n in leaders} == {1}
    assert scalar(engine, "SELECT COUNT(*) FROM members m JOIN organisations o ON o.id = m.org_id "
                          "WHERE o.kind = 'committee' AND m.post = 'secretary'") > 0.9 * summary["committees"]


def test_tree_is_well_formed_and_several_levels_deep(seeded: tuple[Engine, dict]) -> None:
    engine, _ = seeded
    tree = OrgTree.load(engine)
    assert tree.problems == []
    assert tree.root is not None and tree.root.code == "LX" and tree.root.region_code is None
    bad_paths = scalar(
        engine,
        """SELECT COUNT(*) FROM organisations c JOIN organisations p ON p.id = c.parent_id
           WHERE c.path <> p.path || c.id || '/' OR c.level <> p.level + 1 OR c.code NOT LIKE p.code || '-%'""",
    )
    assert bad_paths == 0
    assert scalar(engine, "SELECT MAX(length(code)) FROM organisations") <= 64
    kinds_by_level = rows(engine, "SELECT DISTINCT level, kind FROM organisations ORDER BY level, kind")
    assert {kind for _, kind in kinds_by_level} == {"committee", "general_branch", "branch", "group"}
    assert max(level for level, _ in kinds_by_level) >= 5
    unit_types = dict(rows(engine, "SELECT unit_type, COUNT(*) FROM organisations WHERE kind = 'branch' GROUP BY unit_type"))
    assert set(unit_types) == {"government", "institution", "enterprise", "social", "village", "community"}
    assert unit_types["enterprise"] > unit_types["institution"] > unit_types["government"] > unit_types["social"]


def test_rows_satisfy_every_constraint_of_the_schema(seeded: tuple[Engine, dict]) -> None:
    """The bulk load skips SQLite's CHECK evaluation, so check every CHECK and foreign key here."""
    engine, _ = seeded
    for table in Base.metadata.sorted_tables:
        for constraint in table.constraints:
            if isinstance(constraint, CheckConstraint):
                violations = scalar(engine, f"SELECT COUNT(*) FROM {table.name} WHERE NOT ({constraint.sqltext})")
                assert violations == 0, f"{table.name}: {constraint.name}"
    assert rows(engine, "PRAGMA foreign_key_check") == []


def test_the_31_mainland_regions_present_with_points_inside_them(seeded: tuple[Engine, dict]) -> None:
    """A mainland organisation: a committee in each of the 31 provinces, regions and municipalities, none for TW/HK/MO."""
    engine, _ = seeded
    codes = {p.code for p in PROVINCES} - {"710000", "810000", "820000"}
    assert len(codes) == 31
    assert {c for (c,) in rows(engine, "SELECT DISTINCT region_code FROM organisations WHERE level > 0")} == codes
    outside = "SELECT COUNT(*) FROM organisations WHERE code LIKE 'LX-71%' OR code LIKE 'LX-81%' OR code LIKE 'LX-82%'"
    assert scalar(engine, outside) == 0
    with_branches = {c for (c,) in rows(engine, "SELECT DISTINCT region_code FROM organisations WHERE kind = 'branch'")}
    assert codes <= with_branches
    assert scalar(engine, "SELECT COUNT(*) FROM organisations WHERE level > 0 AND (lon IS NULL OR lat IS NULL)") == 0
    shapes = region_shapes()
    committees = rows(engine, "SELECT region_code, lon, lat FROM organisations WHERE kind = 'committee' AND level > 1")
    for code in codes:
        points = np.array([(lon, lat) for region, lon, lat in committees if region == code]).reshape(-1, 2)
        assert shapes[code].contains(points[:, 0], points[:, 1]).all(), code
    # Members per region follow population: Guangdong has more than Beijing, Beijing more than Tibet.
    by_region = dict(rows(engine, f"""SELECT o.region_code, COUNT(*) FROM members m JOIN organisations o ON o.id = m.org_id
                                     WHERE m.{PARTY} GROUP BY o.region_code"""))
    assert by_region["440000"] > by_region["110000"] > by_region["540000"]
    tibet_minorities = scalar(engine, f"""SELECT AVG(m.ethnicity <> 'Han') FROM members m JOIN organisations o
                                         ON o.id = m.org_id WHERE o.region_code = '540000' AND m.{PARTY}""")
    assert tibet_minorities > 0.5


def test_cross_links_and_member_groups(seeded: tuple[Engine, dict]) -> None:
    engine, summary = seeded
    links = rows(
        engine,
        """SELECT l.a_id, l.b_id, a.kind, b.kind, a.unit_type, b.unit_type, a.region_code = b.region_code
           FROM org_links l JOIN organisations a ON a.id = l.a_id JOIN organisations b ON b.id = l.b_id""",
    )
    assert len(links) == summary["links"]
    assert summary["branches"] / 12 < len(links) < summary["branches"] / 8
    assert all(a < b and ka == kb == "branch" for a, b, ka, kb, *_ in links)
    rural = {"village", "community"}
    assert all((ua in rural) != (ub in rural) for *_, ua, ub, _ in links)
    same_province = sum(same for *_, same in links) / len(links)
    assert 0.6 < same_province < 0.95

    groups = rows(
        engine,
        f"""SELECT g.id, COUNT(*), COUNT(DISTINCT CASE WHEN o.kind = 'group' THEN o.parent_id ELSE o.id END),
                   SUM(m.{PARTY}), COUNT(DISTINCT o.region_code)
            FROM member_groups g JOIN member_group_members gm ON gm.group_id = g.id
            JOIN members m ON m.id = gm.member_id JOIN organisations o ON o.id = m.org_id GROUP BY g.id""",
    )
    assert len(groups) == summary["groups"] == MEMBERS // 3000
    for _, size, branches, party, regions in groups:
        assert 8 <= size <= 40 and party == size and regions == 1
        assert branches > 1  # drawn across branches: that is the point of a self-organised group


# --- determinism, refusal, replacement ------------------------------------------------


def test_same_seed_same_database_other_seed_other_database(tmp_path: Path) -> None:
    first = table_contents(small_store(tmp_path, "a.db", seed=7))
    again = table_contents(small_store(tmp_path, "b.db", seed=7))
    other = table_contents(small_store(tmp_path, "c.db", seed=8))
    assert first == again
    assert first["members"] and first["organisations"] and first["org_links"]
    assert first["members"] != other["members"]
    assert first["organisations"] != other["organisations"]


def test_refuses_a_database_that_holds_an_organisation(tmp_path: Path) -> None:
    engine = small_store(tmp_path, "a.db", members=500)
    orgs = scalar(engine, "SELECT COUNT(*) FROM organisations")
    with pytest.raises(SeedRefused) as refused:
        seed_demo(engine, members=500, seed=2)
    assert str(refused.value) == f"database already holds {orgs} organisations; use --force to replace them"
    assert scalar(engine, "SELECT COUNT(*) FROM organisations") == orgs


def test_too_few_members_for_a_branch_is_refused(tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    with pytest.raises(SeedRefused, match="at least 3 members"):
        seed_demo(engine, members=2, seed=1)
    seed_demo(engine, members=3, seed=1)
    assert scalar(engine, "SELECT COUNT(*) FROM members WHERE stage = 'full'") == 3


def test_force_replaces_the_organisation_and_what_hangs_off_it(tmp_path: Path) -> None:
    engine = small_store(tmp_path, "a.db", members=800, seed=1)
    with Session(engine) as session:
        now = dt.datetime.now(dt.UTC)
        session.add_all([
            Token(token_hash="a" * 64, role="display", org_id=5, level="full", created_at=now, revoked=False),
            Token(token_hash="b" * 64, role="admin", org_id=None, level="full", created_at=now, revoked=False),
            Event(key_hash=1, event_id="e1", type="login", ts_ms=0, org_id=5, member_id=1, data="{}"),
        ])
        session.commit()
    summary = seed_demo(engine, members=1200, seed=2, force=True)
    assert summary["replaced"]["tokens"] == 1 and summary["replaced"]["events"] == 1
    assert summary["replaced"]["organisations"] > 0
    assert scalar(engine, f"SELECT COUNT(*) FROM members WHERE {PARTY}") == 1200
    assert [h for (h,) in rows(engine, "SELECT token_hash FROM tokens")] == ["b" * 64]
    assert scalar(engine, "SELECT COUNT(*) FROM events") == 0
    assert table_contents(engine) == table_contents(small_store(tmp_path, "fresh.db", members=1200, seed=2))


# --- command line ----------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dashboard", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_cli_seeds_then_refuses_with_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    done = run_cli("seed", "--members", "300", "--database-url", url)
    assert done.returncode == 0, done.stderr
    assert '"members": 300' in done.stdout
    again = run_cli("seed", "--members", "300", "--database-url", url)
    assert again.returncode != 0
    assert again.stderr.strip().splitlines() == [again.stderr.strip()]
    assert "use --force" in again.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("--members", "0"),
        ("--members", "many"),
        ("--members", "10", "--database-url", "not a url"),
        ("--members", "10", "--database-url", "postgresql://u@host:port/db"),
    ],
)
def test_cli_bad_input_is_one_line_on_stderr(args: tuple[str, ...], tmp_path: Path) -> None:
    done = run_cli("seed", *args)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), done.stderr
    assert "Traceback" not in done.stderr


# --- PostgreSQL --------------------------------------------------------------------------


def test_postgresql_round_trip_equals_sqlite(postgres_url: str, tmp_path: Path) -> None:
    pg = open_store(postgres_url)
    try:
        seed_demo(pg, members=2000, seed=5)
        assert table_contents(pg) == table_contents(small_store(tmp_path, "same.db", members=2000, seed=5))
        # The id sequences were moved past the seeded rows: a new organisation gets a fresh id.
        with Session(pg) as session:
            extra = Organisation(code="LX-extra", name="新建党支部", kind="branch", parent_id=1, level=1, path="/1/x/")
            session.add(extra)
            session.flush()
            assert extra.id == scalar(pg, "SELECT MAX(id) FROM organisations") + 1
            session.rollback()
    finally:
        pg.dispose()


def test_departments_belong_to_their_unit_and_groups_are_named_with_their_branch(seeded: tuple[Engine, dict]) -> None:
    """A hospital has 内科, a TV station 新闻部 — never 广播电视台内科; a 党小组 carries its branch's name."""
    engine, _ = seeded
    branches = rows(engine, "SELECT id, name FROM organisations WHERE kind = 'branch' AND unit_type = 'institution'")
    assert branches
    for _, name in branches:
        unit = next(u for u in INSTITUTION_DEPARTMENTS if u in name)
        department = name.split(unit, 1)[1].removesuffix("党支部")
        assert department in INSTITUTION_DEPARTMENTS[unit] or department.startswith("第"), name
    assert not any("广播电视台内科" in n or "博物馆外科" in n or "图书馆内科" in n for _, n in branches)
    groups = rows(engine, "SELECT g.name, b.name FROM organisations g JOIN organisations b ON b.id = g.parent_id WHERE g.kind = 'group'")
    assert groups and all(group.startswith(branch) and group.endswith("党小组") for group, branch in groups)
