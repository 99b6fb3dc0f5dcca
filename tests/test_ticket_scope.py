"""One ``scope_from_ticket`` for every callback: a ticket whose organisation an import removed opens nothing.

The map's drill-down used to check the ticket's signature and grant but not
that its organisation was still in the tree, so once an import removed it the
callback raised KeyError (a 500 on the page). Here a real server on the sample
organisation answers a drill-down for a branch's page, the branch is removed by
an import from the command line and the server reloads; the same page's
drill-down then answers with the hint, over the wire, like any stale ticket.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dashboard.live.screen_client import find_ticket, page_layout
from tests.conftest import ROOT, LiveServer
from tests.import_support import sample_files, sample_rows, sample_store

pytestmark = pytest.mark.live

GONE = "SX-04-01"
REGION = "330000"  # every sample organisation's region
DRILL_OUTPUT = "..map-orgs.data...map-drill-panel.children...map-drill-refresh.disabled.."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    db = tmp_path_factory.mktemp("ticket") / "lianxin.db"
    sample_store(db).dispose()  # a store that is not empty is served as it is (no demo seeded)
    server = LiveServer(db).start()
    yield server
    server.stop()


def drill(server: LiveServer, ticket: str) -> httpx.Response:
    """What the map page sends when a region is clicked: the selection, and its live-meta with the ticket."""
    body = {
        "output": DRILL_OUTPUT,
        "outputs": [
            {"id": "map-orgs", "property": "data"},
            {"id": "map-drill-panel", "property": "children"},
            {"id": "map-drill-refresh", "property": "disabled"},
        ],
        "inputs": [
            {"id": "map-drill", "property": "data", "value": {"region": REGION, "kpi": "members"}},
            {"id": "map-drill-refresh", "property": "n_intervals", "value": None},
        ],
        "state": [{"id": "live-meta", "property": "data", "value": {"ticket": ticket, "lang": "zh"}}],
        "changedPropIds": ["map-drill.data"],
    }
    return httpx.post(f"{server.url}/_dash-update-component", json=body, timeout=60)


def orgs_shown(answer: httpx.Response) -> Any:
    assert answer.status_code == 200, answer.text[:500]
    return answer.json()["response"]["map-orgs"]["data"]


def test_a_drill_down_for_a_removed_organisation_answers_with_the_hint(server: LiveServer, tmp_path: Path) -> None:
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    layout = asyncio.run(page_layout(server.url, "/map", f"?org={GONE}&token={server.admin_token}"))
    ticket = find_ticket(layout)
    shown = orgs_shown(drill(server, ticket))
    assert shown is not None and GONE in str(shown)  # the branch's page drills into its region

    orgs = [r for r in sample_rows("orgs") if not r[0].startswith(GONE)]
    members = [r for r in sample_rows("members") if not r[2].startswith(GONE)]
    files = sample_files(tmp_path, orgs=orgs, members=members)
    cmd = [sys.executable, "-m", "dashboard", "import", "--database-url", server.db_url, "--orgs", str(files.orgs), "--members", str(files.members)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert httpx.post(f"{server.url}/api/admin/reload", headers=admin, timeout=120).status_code == 200
    assert httpx.get(f"{server.url}/api/snapshot", params={"org": GONE}, headers=admin, timeout=60).status_code == 404

    assert orgs_shown(drill(server, ticket)) is None  # the hint, not a KeyError
    assert orgs_shown(drill(server, ticket + "x")) is None  # a forged ticket likewise
