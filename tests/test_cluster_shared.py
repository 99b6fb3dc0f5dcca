"""A cluster's processes share their access state and their imports: revocation, sign-in budgets, the audit
throttle, import jobs, and the reload after an import — each tested on the wire across two ``python app.py``
on PostgreSQL + Redis (docs/scale.md, "Shared state").
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from dashboard.live.screen_client import ScreenClient, find_ticket, page_layout, stream_callback_id
from tests.cluster_support import cluster_servers, first_branch, forget_cluster_keys, likes, post, running, screen_total, snapshot
from tests.conftest import ROOT, LiveServer, postgres_schema, reachable_redis
from tests.import_support import member_row
from tests.test_import_live import api_import, as_csv, exported

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sequence[LiveServer]]:
    redis_url = reachable_redis()
    with postgres_schema() as database_url:
        try:
            with running(cluster_servers(tmp_path_factory.mktemp("shared"), database_url, redis_url)) as servers:
                yield servers
        finally:
            forget_cluster_keys(redis_url, database_url)


def _sql(server: LiveServer, query: str, **params: Any) -> list[Any]:
    engine = create_engine(server.db_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(query), params).all())
    finally:
        engine.dispose()


def _display_token(server: LiveServer) -> tuple[str, int]:
    made = subprocess.run([sys.executable, "-m", "dashboard", "token", "create", "--role", "display", "--database-url", server.db_url],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    (token_id,) = _sql(server, "SELECT max(id) FROM tokens")[0]
    return token, int(token_id)


def _revoke_on_the_admin_page(server: LiveServer, token_id: int) -> None:
    """What the admin page's "revoke" button sends (its Dash callback), opened with the admin token."""
    value = {"admin-token-role": "display", "admin-token-org": None, "admin-token-level": "full", "admin-token-label": None,
             "admin-token-days": None, "admin-token-revoke-id": str(token_id)}
    body = {
        "output": "..admin-token-result.children...admin-tokens-table.children..",
        "outputs": [{"id": "admin-token-result", "property": "children"}, {"id": "admin-tokens-table", "property": "children"}],
        "inputs": [{"id": "admin-token-create", "property": "n_clicks", "value": None},
                   {"id": "admin-token-revoke", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["admin-token-revoke.n_clicks"],
        "state": [*({"id": k, "property": "value", "value": v} for k, v in value.items()),
                  {"id": "admin-token", "property": "data", "value": server.admin_token},
                  {"id": "admin-lang", "property": "data", "value": "en"}],
    }
    answer = httpx.post(f"{server.url}/_dash-update-component", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    assert _sql(server, "SELECT revoked FROM tokens WHERE id = :id", id=token_id)[0][0] is True


def test_a_token_revoked_at_one_process_cuts_a_screen_on_another_within_10_s(cluster: Sequence[LiveServer]) -> None:
    first, second = cluster
    token, token_id = _display_token(first)
    branch = first_branch(first.db_url)

    async def scenario() -> None:
        callback = await stream_callback_id(second.url)
        revoked_screen = ScreenClient(second.url, find_ticket(await page_layout(second.url, "/", f"?token={token}")), callback)
        control = ScreenClient(second.url, find_ticket(await page_layout(second.url, "/", f"?token={second.admin_token}")), callback)
        watching = [asyncio.create_task(s.run(180)) for s in (revoked_screen, control)]
        deadline = time.monotonic() + 60
        while screen_total(revoked_screen) < 0 or screen_total(control) < 0:
            assert time.monotonic() < deadline, "no first frames on the second process"
            await asyncio.sleep(0.05)
        await asyncio.to_thread(_revoke_on_the_admin_page, first, token_id)
        revoked_at = time.monotonic()
        cut = f"screen's token:{token_id} was revoked or expired; its stream stops"
        while cut not in second.log_tail(400):
            assert time.monotonic() - revoked_at < 10, "the screen on the other process still streams 10 s after the revocation"
            await asyncio.sleep(0.1)
        # Cut for good: an event that reaches the control screen on the same process never reaches it.
        frozen = screen_total(revoked_screen)
        before = screen_total(control)
        assert (await asyncio.to_thread(post, first, likes(branch, 5))).json()["accepted"] == 5
        while screen_total(control) < before + 5:
            assert time.monotonic() < deadline + 60, "the control screen never saw the new events"
            await asyncio.sleep(0.05)
        assert screen_total(revoked_screen) == frozen
        for task in watching:
            task.cancel()
        await asyncio.gather(*watching, return_exceptions=True)

    asyncio.run(scenario())


def _login(server: LiveServer, account: str) -> int:
    answer = httpx.post(f"{server.url}/auth/login", data={"username": account, "password": "wrong-" + uuid.uuid4().hex},
                        follow_redirects=False, timeout=30)
    return answer.status_code


def test_a_sign_in_limit_hit_at_one_process_holds_at_the_others(cluster: Sequence[LiveServer]) -> None:
    first, second = cluster
    account = "guess-" + uuid.uuid4().hex[:8]
    answers = []
    while not answers or answers[-1] != 429:  # an account's budget per address is 5 at once (access/throttle.py)
        answers.append(_login(first, account))
        assert len(answers) <= 12, answers
    assert answers[:5] == [303] * 5, answers
    assert _login(second, account) == 429  # a process of its own would still have the whole budget


def test_a_token_use_is_audited_once_an_interval_by_the_whole_cluster(cluster: Sequence[LiveServer]) -> None:
    token, token_id = _display_token(cluster[0])
    for server in (*cluster, *cluster):
        answer = httpx.get(f"{server.url}/api/snapshot", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert answer.status_code == 200
    uses = _sql(cluster[0], "SELECT count(*) FROM audit_log WHERE actor = :actor AND action = 'token.use'", actor=f"token:{token_id}")
    assert uses[0][0] == 1


def test_an_import_applied_at_one_process_is_seen_and_reloaded_by_the_others(
    cluster: Sequence[LiveServer], tmp_path: Path
) -> None:
    first, second = cluster
    files = exported(first, tmp_path)
    branch = next(r for r in files["orgs"][1:] if r[2] == "党支部")[0]
    files["members"] += [member_row(f"CL{i:03d}", branch) for i in range(3)]
    before = [snapshot(s, org=branch)["full_members"] for s in cluster]
    assert before[0] == before[1]
    status = api_import(first, {kind: as_csv(rows) for kind, rows in files.items()})
    assert status["state"] == "done" and status["summary"]["members"]["added"] == 3, status
    seen = httpx.get(f"{second.url}/api/admin/imports/{status['id']}", headers={"Authorization": f"Bearer {second.admin_token}"}, timeout=30)
    assert seen.status_code == 200 and seen.json()["state"] == "done"
    assert seen.json()["holder"].startswith(f"127.0.0.1:{first.port} ")
    refused = httpx.post(f"{second.url}/api/admin/imports/{status['id']}/check",
                         headers={"Authorization": f"Bearer {second.admin_token}"}, timeout=30)
    assert refused.status_code != 200 and f"127.0.0.1:{first.port}" in refused.text
    assert snapshot(first, org=branch)["full_members"] == before[0] + 3
    deadline = time.monotonic() + 60
    while snapshot(second, org=branch)["full_members"] != before[1] + 3:  # the reload announced, the roster read again
        assert time.monotonic() < deadline, "the second process never reloaded after the import"
        time.sleep(0.1)
