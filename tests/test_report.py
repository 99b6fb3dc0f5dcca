"""Reports: the figures equal an independent recomputation from the store, the PDF opens with the
expected pages and the organisation's Chinese name as text, English has no Chinese labels, bad
input is one line with exit code 2 and leaves no file."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdf
import pytest
from sqlalchemy import Engine, event, text

from dashboard.access.scopes import Scope
from dashboard.cli import main
from dashboard.demo.seed import seed_demo
from dashboard.live.history import HistoryState, history_bounds
from dashboard.live.recompute import StoreState
from dashboard.report.figures import build_report
from dashboard.report.jobs import ReportRequestError, check_request
from dashboard.report.library import list_reports
from dashboard.report.make import make_report
from dashboard.report.period import parse_period
from dashboard.report.schedule import ReportSchedule, due_periods
from dashboard.store.engine import open_store
from dashboard.store.tree import OrgTree
from layouts.i18n import fmt_count, t
from tests.history_support import write_history

pytestmark = pytest.mark.unit

TZ = ZoneInfo("Asia/Shanghai")
HISTORY_FROM = dt.datetime(2026, 10, 20, tzinfo=TZ)
HISTORY_TO = dt.datetime(2026, 12, 1, 12, tzinfo=TZ)
NOW_MS = int(dt.datetime(2026, 12, 2, 9, tzinfo=TZ).timestamp() * 1000)
END_KEYS = ("members", "full_members", "probationary", "branches", "meetings", "dues_rate", "dues_paid", "transfers",
            "rule_breaks", "lost_contact", "pipeline", "structure", "events_total", "events_today", "study_points_today")
CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Engine, OrgTree]:
    url = f"sqlite:///{tmp_path_factory.mktemp('report') / 'report.db'}"
    engine = open_store(url)
    seed_demo(engine, members=400, seed=5)
    write_history(engine, HISTORY_FROM, HISTORY_TO, events_per_hour=60)
    return url, engine, OrgTree.load(engine)


def _pdf_text(path: Path) -> tuple[int, str]:
    reader = pypdf.PdfReader(path)
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_history_replay_ends_with_the_recomputed_kpis(store: tuple[str, Engine, OrgTree]) -> None:
    """A replay of a seeded day, stopped at its last millisecond, shows what the recomputation gives then."""
    _, engine, tree = store
    end_ms = int(dt.datetime(2026, 11, 18, tzinfo=TZ).timestamp() * 1000) - 1
    history = HistoryState(engine, tree, TZ, int(dt.datetime(2026, 11, 17, tzinfo=TZ).timestamp() * 1000))
    for hour in range(1, 25):  # through the day an hour at a time, as a replay steps
        history.advance_to(min(end_ms, int(dt.datetime(2026, 11, 17, tzinfo=TZ).timestamp() * 1000) + hour * 3_600_000))
    recomputed = StoreState.load(engine, end_ms / 1000, TZ, as_of=True)
    checked = [tree.root_id, *tree.children[tree.root_id][:5]]
    for org_id in checked:
        replayed = history.aggregator.snapshot(org_id)
        expected = recomputed.snapshot(org_id)
        assert replayed["events_today"] > 0 or org_id != tree.root_id
        for key in (*END_KEYS, "top_study", "events_trend", "active_today"):
            assert replayed[key] == expected[key], (org_id, key)


def test_report_figures_match_the_recomputation_and_the_store(store: tuple[str, Engine, OrgTree]) -> None:
    _, engine, tree = store
    root = tree.root
    assert root is not None
    period = parse_period("2026-11")
    report = build_report(engine, tree, root.code, period, TZ, "full", NOW_MS)
    end_ms = period.end_ms(TZ) - 1
    expected = StoreState.load(engine, end_ms / 1000, TZ, as_of=True)
    for key in END_KEYS:
        assert report.end[key] == expected.snapshot(root.id)[key], key
    for row, child in zip(report.children, tree.children[root.id], strict=True):
        snap = expected.snapshot(child)
        assert row["members"] == snap["members"]
        assert row["three_meetings"] == snap["meetings"]["three_meetings_completion"]
        assert row["dues_rate"] == snap["dues_rate"]
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT count(*), count(DISTINCT member_id) FROM events WHERE ts_ms >= :a AND ts_ms < :b"),
            {"a": period.start_ms(TZ), "b": period.end_ms(TZ)},
        ).one()
    assert report.activity.counts["events"] == stored[0] > 0
    assert report.activity.counts["active_members"] == stored[1]
    assert sum(report.activity.daily) == stored[0] and len(report.activity.daily) == 30
    previous = StoreState.load(engine, (period.start_ms(TZ) - 1) / 1000, TZ, as_of=True).snapshot(root.id)
    assert report.previous_end["members"] == previous["members"]
    assert report.previous_end["dues_rate"] == previous["dues_rate"]


def test_pdf_opens_with_four_pages_the_chinese_name_and_the_figures(store: tuple[str, Engine, OrgTree], tmp_path: Path) -> None:
    url, engine, tree = store
    root = tree.root
    assert root is not None
    out = tmp_path / "november.pdf"
    assert main(["report", "--org", root.code, "--period", "2026-11", "--out", str(out), "--database-url", url]) == 0
    pages, body = _pdf_text(out)
    assert pages == 4
    assert root.name in body and CJK.search(root.name)
    expected = StoreState.load(engine, (parse_period("2026-11").end_ms(TZ) - 1) / 1000, TZ, as_of=True).snapshot(root.id)
    assert fmt_count(expected["members"], "zh") in body
    assert "党建工作报告" in body and "三会一课完成率" in body
    assert not list(tmp_path.glob(".report-*"))


def test_english_report_has_no_untranslated_labels(store: tuple[str, Engine, OrgTree], tmp_path: Path) -> None:
    url, _, tree = store
    root = tree.root
    assert root is not None
    out = tmp_path / "week.pdf"
    make_report(open_store(url), root.code, "2026-W47", out, TZ, lang="en", level="public", tree=tree, now_ms=NOW_MS)
    _, body = _pdf_text(out)
    assert "Party Building Report" in body
    for org_id in tree.walk(root.id):  # organisations' own names are data, not labels
        body = body.replace(tree.nodes[org_id].name, "")
    leftover = CJK.findall(body)
    assert not leftover, "".join(leftover)


def test_public_report_hides_small_counts_of_people(store: tuple[str, Engine, OrgTree]) -> None:
    _, engine, tree = store
    branch = next(tree.nodes[i] for i in tree.nodes if tree.nodes[i].kind == "branch")
    report = build_report(engine, tree, branch.code, parse_period("2026-11"), TZ, "public", NOW_MS)
    full = build_report(engine, tree, branch.code, parse_period("2026-11"), TZ, "full", NOW_MS)
    for key in ("members", "full_members", "probationary", "lost_contact", "dues_paid"):
        value = report.end[key]
        # docs/security.md: a count of people under 5 is hidden, zero included; others are rounded to tens.
        assert value is None or value >= 5, key
        assert (value is None) == (full.end[key] < 5), key
    assert all(v is None or v >= 5 for v in report.end["structure"]["gender"].values())


@pytest.mark.parametrize(
    ("period", "out_name", "org", "message"),
    [
        ("2027-03", "a.pdf", None, "in the future"),
        ("2026-11-30..2026-11-01", "a.pdf", None, "reversed"),
        ("2026-09", "a.pdf", None, "before the history kept"),
        ("2026-13", "a.pdf", None, "2026-13"),
        ("2026-11", "a.pdf", "NO-SUCH-ORG", "unknown organisation"),
        ("2026-11", "missing/a.pdf", None, "does not exist"),
        ("2026-11", "a.docx", None, ".pdf or .png"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(
    store: tuple[str, Engine, OrgTree], tmp_path: Path, capsys: pytest.CaptureFixture[str], period: str, out_name: str,
    org: str | None, message: str,
) -> None:
    url, _, tree = store
    root = tree.root
    assert root is not None
    out = tmp_path / out_name
    code = main(["report", "--org", org or root.code, "--period", period, "--out", str(out), "--database-url", url])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert message in err and "\n" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_unwritable_folder_is_refused(store: tuple[str, Engine, OrgTree], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url, _, tree = store
    root = tree.root
    assert root is not None
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    out = locked / "r.pdf"
    try:
        code = main(["report", "--org", root.code, "--period", "2026-11", "--out", str(out), "--database-url", url])
    finally:
        locked.chmod(0o700)
    err = capsys.readouterr().err
    if code == 0:  # root ignores folder permissions; a file in /proc cannot be written by anyone
        out.unlink()
        code = main(["report", "--org", root.code, "--period", "2026-11", "--out", "/proc/lianxin-report.pdf", "--database-url", url])
        err = capsys.readouterr().err
    assert code == 2 and "not writable" in err and "\n" not in err.strip()
    assert not out.exists()


@pytest.mark.parametrize(
    ("now", "week", "month"),
    [
        (dt.datetime(2026, 12, 1, 9, 0, tzinfo=TZ), "2026-W48", "2026-11"),  # Tuesday the 1st, after 08:00
        (dt.datetime(2026, 12, 1, 7, 59, tzinfo=TZ), "2026-W48", "2026-10"),  # the 1st before 08:00: last month not yet
        (dt.datetime(2026, 11, 30, 7, 0, tzinfo=TZ), "2026-W47", "2026-10"),  # Monday before 08:00: the week before last
        (dt.datetime(2026, 11, 30, 8, 0, tzinfo=TZ), "2026-W48", "2026-10"),
    ],
)
def test_due_periods_follow_monday_and_the_first_at_eight(now: dt.datetime, week: str, month: str) -> None:
    assert [p.label for p in due_periods(now)] == [week, month]


def test_schedule_writes_each_due_report_once_and_lists_them_by_scope(store: tuple[str, Engine, OrgTree], tmp_path: Path) -> None:
    _, engine, tree = store
    root = tree.root
    assert root is not None
    child = tree.nodes[tree.children[root.id][0]]
    schedule = ReportSchedule(tmp_path, orgs=(root.code, child.code), levels=("full", "public"))
    now_ms = int(dt.datetime(2026, 12, 1, 9, tzinfo=TZ).timestamp() * 1000)
    written = schedule.run_due(engine, tree, TZ, now_ms)
    names = sorted(p.name for p in written)
    assert len(names) == 8 and f"{root.code}_2026-11_zh_full.pdf" in names and f"{child.code}_2026-W48_zh_public.pdf" in names
    assert all(len(pypdf.PdfReader(p).pages) == 4 for p in written)
    assert schedule.run_due(engine, tree, TZ, now_ms) == []  # already there: not made again
    everything = list_reports(tmp_path, tree, Scope(root.id, "full"))
    assert len(everything) == 8 and everything[0].period == "2026-W48"
    own = list_reports(tmp_path, tree, Scope(child.id, "full"))
    assert {r.org for r in own} == {child.code} and len(own) == 4
    public = list_reports(tmp_path, tree, Scope(root.id, "public"))
    assert {r.level for r in public} == {"public"} and len(public) == 4


def test_a_replay_reads_ahead_and_ends_where_reading_step_by_step_ends(store: tuple[str, Engine, OrgTree]) -> None:
    """With its horizon (the replay's end), a history state reads the store a chunk at a time instead of once
    per step, and reaches the same state as one that reads at every step."""
    _, engine, tree = store
    start = int(dt.datetime(2026, 11, 17, tzinfo=TZ).timestamp() * 1000)
    end = start + 86_400_000 - 1
    reads: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().startswith("SELECT seq, event_id"):
            reads.append(statement)

    ahead = HistoryState(engine, tree, TZ, start, chunk=500, horizon_ms=end)
    each = HistoryState(engine, tree, TZ, start, chunk=500)
    for history in (ahead, each):
        history.advance_to(start)
    before_day = ahead.applied
    event.listen(engine, "before_cursor_execute", count)
    try:
        steps = 0
        for history in (ahead, each):
            reads.clear()
            at = start
            while at < end:
                at = min(end, at + 150_000)  # 600× at four steps a second
                history.advance_to(at)
                steps += history is ahead
            if history is ahead:
                ahead_reads = len(reads)
        each_reads = len(reads)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert steps == 576 and ahead.applied == each.applied and ahead.applied - before_day > 1000
    assert ahead_reads <= ahead.applied // 500 + 2 < each_reads == steps
    for org_id in (tree.root_id, *tree.children[tree.root_id][:5]):
        assert ahead.aggregator.snapshot(org_id) == each.aggregator.snapshot(org_id)


@pytest.mark.parametrize(
    ("org", "period", "lang", "level", "fmt", "public", "code"),
    [
        (None, "2026-11", "zh", "full", "pdf", False, "org"),
        ("NO-SUCH", "2026-11", "zh", "full", "pdf", False, "org"),
        ("<sibling>", "2026-11", "zh", "full", "pdf", False, "org"),  # outside the scope: answered like unknown
        ("<own>", "2026-11-30..2026-11-01", "zh", "full", "pdf", False, "reversed"),
        ("<own>", "2025-11-01..2026-11-30", "zh", "full", "pdf", False, "too_long"),
        ("<own>", "2027-01", "zh", "full", "pdf", False, "future"),
        ("<own>", "2026-09", "zh", "full", "pdf", False, "history"),
        ("<own>", "november", "zh", "full", "pdf", False, "period"),
        ("<own>", "2026-11", "fr", "full", "pdf", False, "choice"),
        ("<own>", "2026-11", "zh", "full", "svg", False, "choice"),
        ("<own>", "2026-11", "zh", "full", "pdf", True, "level"),
    ],
)
def test_a_report_request_is_refused_with_a_code_the_page_translates(
    store: tuple[str, Engine, OrgTree], org: str | None, period: str, lang: str, level: str, fmt: str, public: bool, code: str
) -> None:
    _, engine, tree = store
    assert tree.root_id is not None
    own, sibling = (tree.nodes[i] for i in tree.children[tree.root_id][:2])
    chosen = {"<own>": own.code, "<sibling>": sibling.code}.get(org, org) if org else None
    scope = Scope(own.id, "public" if public else "full")
    with pytest.raises(ReportRequestError) as refused:
        check_request(tree, scope, chosen, period, lang, level, fmt, TZ, NOW_MS, history_bounds(engine))
    assert refused.value.code == code
    assert t(f"reports.error.{code}", "zh") != f"reports.error.{code}" != t(f"reports.error.{code}", "en")
    made = check_request(tree, scope, own.code, "2026-11", lang if code != "choice" else "zh", "public", "png", TZ, NOW_MS,
                         history_bounds(engine))
    assert made.name == f"{own.code}_2026-11_{made.lang}_public.png"
