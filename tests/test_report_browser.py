"""/admin/reports in Chromium: an administrator makes a PDF report of a day and downloads it from the page;
bad requests (reversed, in the future, an unknown organisation) are explained on the page; a province's user
signed in at /login cannot make another province's report, makes their own, and sees only their own listed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pypdf
import pytest

from dashboard.store.engine import open_store
from dashboard.store.tree import OrgTree
from tests.test_report_download import DAY, PASSWORD, ReportsServer, serve_reports

pytestmark = pytest.mark.browser

FIRST, LAST = DAY.split("..")


@pytest.fixture(scope="module")
def reports_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReportsServer]:
    yield from serve_reports(tmp_path_factory)


def open_reports(browser: Any, url: str) -> Any:
    page = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True).new_page()
    page.goto(url, wait_until="load")
    page.wait_for_selector("#report-make", timeout=60_000)
    return page


def make(page: Any, org: str, first: str, last: str) -> str:
    """Fill the form for a range of days, press Make, and return the page's answer (each call's answer differs
    from the one before it, which is how the wait tells them apart)."""
    page.fill("#report-org", org)
    page.get_by_label("日期范围").check()
    page.fill("#report-from", first)
    page.fill("#report-to", last)
    before = page.evaluate("(document.querySelector('#report-outcome') || {}).textContent || ''")
    page.click("#report-make")
    page.wait_for_function(
        """before => { const el = document.querySelector('#report-outcome');
                       return el && /alert-(success|danger)/.test(el.className) && el.textContent !== before; }""",
        arg=before, timeout=120_000)
    return str(page.inner_text("#report-outcome"))


def test_admin_makes_a_pdf_and_downloads_it_and_bad_requests_are_explained(browser: Any, reports_server: ReportsServer) -> None:
    s = reports_server
    page = open_reports(browser, f"{s.server.url}/admin/reports?token={s.server.admin_token}")
    try:
        assert "组织不存在" in make(page, "NO-SUCH-ORG", FIRST, LAST)
        assert "颠倒" in make(page, s.other, FIRST, "2026-11-29")
        assert "尚未开始" in make(page, s.other, "2099-01-01", "2099-01-02")
        assert "早于保存的历史记录" in make(page, s.other, "2020-01-01", "2020-01-02")
        assert "报告已生成" in make(page, s.other, FIRST, LAST)
        name = f"{s.other}_{DAY}_zh_full.pdf"
        assert name in page.inner_text("#report-download-link")
        with page.expect_download() as download:
            page.click("#report-download-link")
        saved = download.value.path()
        assert download.value.suggested_filename == name
        reader = pypdf.PdfReader(saved)
        engine = open_store(s.server.db_url)
        other = OrgTree.load(engine).get(s.other)
        engine.dispose()
        assert other is not None
        assert len(reader.pages) == 4 and other.name in reader.pages[0].extract_text()
        listed = page.locator("#reports-table a.report-link").evaluate_all("links => links.map(a => a.title)")
        assert name in listed and f"{s.mine}_{DAY}_zh_full.pdf" in listed  # made and scheduled, all of them for an admin
    finally:
        page.context.close()


def test_a_province_user_makes_only_their_own(browser: Any, reports_server: ReportsServer) -> None:
    s = reports_server
    page = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True).new_page()
    try:
        page.goto(f"{s.server.url}/login", wait_until="load")
        page.fill("#login-username", s.user)
        page.fill("#login-password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_load_state("load")
        page.goto(f"{s.server.url}/admin/reports", wait_until="load")
        page.wait_for_selector("#report-make", timeout=60_000)
        assert page.input_value("#report-org") == s.mine  # the form starts at the user's own organisation
        assert "不在您的权限范围内" in make(page, s.other, FIRST, LAST)
        page.select_option("#report-format", "png")
        assert "报告已生成" in make(page, s.mine, FIRST, LAST)
        with page.expect_download() as download:
            page.click("#report-download-link")
        with open(download.value.path(), "rb") as png:
            assert png.read(8) == b"\x89PNG\r\n\x1a\n"
        listed = page.locator("#reports-table a.report-link").evaluate_all("links => links.map(a => a.title)")
        assert listed and all(n.startswith(f"{s.mine}_") for n in listed)
        assert f"{s.mine}_{DAY}_zh_full.png" in listed
    finally:
        page.context.close()

