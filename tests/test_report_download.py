"""Reports for download, on the wire: the list and every download follow the caller's scope — a user of one
province sees and gets that province's reports only, and another province's report by its URL is a 404 like
a name that does not exist; the public level gets public editions only; anonymous callers get nothing."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pypdf
import pytest

from dashboard.access.tokens import create_token
from dashboard.access.users import create_user
from dashboard.demo.seed import seed_demo
from dashboard.report.library import report_name
from dashboard.report.make import make_report
from dashboard.store.engine import open_store
from dashboard.store.tree import OrgTree
from tests.conftest import LiveServer
from tests.history_support import REPLAY_DAY_START, TZ, write_history

pytestmark = pytest.mark.live

DAY = "2026-11-30..2026-11-30"
PASSWORD = "report-reader-2026!"


@dataclass
class ReportsServer:
    server: LiveServer
    mine: str  # a province's code, and the user scoped to it
    other: str  # another province's code
    user: str


def serve_reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReportsServer]:
    """A server with a day of history and, in its --reports-dir, reports of two provinces (full and public)."""
    folder = tmp_path_factory.mktemp("reports")
    db = folder / "reports.db"
    engine = open_store(f"sqlite:///{db}")
    seed_demo(engine, members=400, seed=9)
    write_history(engine, REPLAY_DAY_START - dt.timedelta(days=1), REPLAY_DAY_START + dt.timedelta(days=1, hours=6), events_per_hour=120)
    tree = OrgTree.load(engine)
    assert tree.root is not None
    mine, other = (tree.nodes[i].code for i in tree.children[tree.root.id][:2])
    scheduled = folder / "out"
    scheduled.mkdir()
    for org, level in ((mine, "full"), (other, "full"), (mine, "public")):
        make_report(engine, org, DAY, scheduled / report_name(org, DAY, "zh", level), TZ, "zh", level, tree=tree)  # type: ignore[arg-type]
    create_user(engine, "province-reader", PASSWORD, role="leader", org_code=mine)
    engine.dispose()
    server = LiveServer(db, extra_args=["--no-simulate", "--reports-dir", str(scheduled)]).start()
    yield ReportsServer(server, mine, other, "province-reader")
    server.stop()


@pytest.fixture(scope="module")
def reports_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReportsServer]:
    yield from serve_reports(tmp_path_factory)


def sign_in(client: httpx.Client, username: str) -> None:
    r = client.post("/auth/login", data={"username": username, "password": PASSWORD})
    assert r.status_code == 303 and "lx_session" in client.cookies


def test_a_province_user_lists_and_downloads_only_their_province_s_reports(reports_server: ReportsServer) -> None:
    s = reports_server
    own_full, other_full = report_name(s.mine, DAY, "zh", "full"), report_name(s.other, DAY, "zh", "full")
    with httpx.Client(base_url=s.server.url, timeout=60) as user:
        sign_in(user, s.user)
        listed = user.get("/api/reports").json()
        assert {r["name"] for r in listed} == {own_full, report_name(s.mine, DAY, "zh", "public")}
        own = user.get(f"/api/reports/{own_full}")
        assert own.status_code == 200 and own.headers["content-type"] == "application/pdf"
        assert len(pypdf.PdfReader(io.BytesIO(own.content)).pages) == 4
        refused = user.get(f"/api/reports/{other_full}")  # the other province's report, by its URL
        unknown = user.get(f"/api/reports/{report_name(s.mine, '2026-10', 'zh', 'full')}")
        assert refused.status_code == unknown.status_code == 404
        assert refused.json() == unknown.json()  # not yours reads exactly like not there
    with httpx.Client(base_url=s.server.url, timeout=60) as admin:
        listed = admin.get("/api/reports", params={"token": s.server.admin_token}).json()
        assert {own_full, other_full} <= {r["name"] for r in listed}
        got = admin.get(f"/api/reports/{other_full}", params={"token": s.server.admin_token})
        assert got.status_code == 200 and got.content.startswith(b"%PDF")


def test_public_level_gets_public_editions_and_anonymous_nothing(reports_server: ReportsServer) -> None:
    s = reports_server
    engine = open_store(s.server.db_url)
    public = create_token(engine, role="display", level="public")
    engine.dispose()
    with httpx.Client(base_url=s.server.url, timeout=60) as client:
        listed = client.get("/api/reports", params={"token": public}).json()
        assert [r["name"] for r in listed] == [report_name(s.mine, DAY, "zh", "public")]
        full = client.get(f"/api/reports/{report_name(s.mine, DAY, 'zh', 'full')}", params={"token": public})
        assert full.status_code == 404
        assert client.get(f"/api/reports/{report_name(s.mine, DAY, 'zh', 'public')}", params={"token": public}).status_code == 200
        anonymous = client.get(f"/api/reports/{report_name(s.mine, DAY, 'zh', 'public')}")
        assert anonymous.status_code == 401 and client.get("/api/reports").status_code == 401


@pytest.mark.parametrize("name", ["..%2F..%2Fetc%2Fpasswd", "..%2Freports.db", "x" * 190 + ".pdf", "%2Fetc%2Fpasswd"])
def test_names_that_are_not_report_names_give_no_file(reports_server: ReportsServer, name: str) -> None:
    r = httpx.get(f"{reports_server.server.url}/api/reports/{name}", params={"token": reports_server.server.admin_token}, timeout=30)
    # a name that decodes to a path leaves the route: whatever else answers (the pages' 404 or index), no file
    assert "content-disposition" not in r.headers and r.headers["content-type"].startswith(("text/html", "application/json"))
    assert b"root:" not in r.content and not r.content.startswith(b"SQLite")
