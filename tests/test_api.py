"""The read API against a live server: health, the tree, snapshots, and bad queries."""

from __future__ import annotations

import sqlite3

import httpx

from tests.conftest import LiveServer


def _db_count(server: LiveServer, sql: str) -> int:
    with sqlite3.connect(server.db_url.removeprefix("sqlite:///")) as conn:
        return conn.execute(sql).fetchone()[0]


def test_health_answers_ok(live_server: LiveServer) -> None:
    r = httpx.get(f"{live_server.url}/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["organisations"] == _db_count(live_server, "SELECT count(*) FROM organisations")


def full(server: LiveServer) -> dict[str, str]:
    """An admin's header: exact figures (the public level rounds counts of people, docs/security.md)."""
    return {"Authorization": f"Bearer {server.admin_token}"}


def test_snapshot_of_the_top_matches_the_store(live_server: LiveServer) -> None:
    snap = httpx.get(f"{live_server.url}/api/snapshot", headers=full(live_server)).json()
    members = _db_count(live_server, "SELECT count(*) FROM members WHERE stage IN ('full', 'probationary')")
    assert snap["members"] == members == 2000
    for key in ("org", "members", "events_total", "events_today", "active_today", "events_per_min", "structure"):
        assert key in snap, key
    assert sum(snap["structure"]["gender"].values()) == members
    assert sum(snap["structure"]["age_band"].values()) == members
    assert sum(snap["structure"]["education"].values()) == members


def test_snapshot_of_a_subtree_counts_only_that_subtree(live_server: LiveServer) -> None:
    orgs = httpx.get(f"{live_server.url}/api/orgs").json()
    top = next(o for o in orgs if o["parent"] is None)
    children = httpx.get(f"{live_server.url}/api/orgs", params={"parent": top["code"]}).json()
    assert children and all(c["parent"] == top["code"] for c in children)
    child_members = [httpx.get(f"{live_server.url}/api/snapshot", params={"org": c["code"]}, headers=full(live_server)).json()["members"]
                     for c in children]
    top_members = httpx.get(f"{live_server.url}/api/snapshot", params={"org": top["code"]}, headers=full(live_server)).json()["members"]
    own = _db_count(live_server, f"SELECT count(*) FROM members m JOIN organisations o ON o.id = m.org_id WHERE o.code = '{top['code']}' AND m.stage IN ('full', 'probationary')")
    assert sum(child_members) + own == top_members


def test_orgs_lists_the_whole_tree_with_parents(live_server: LiveServer) -> None:
    orgs = httpx.get(f"{live_server.url}/api/orgs").json()
    assert len(orgs) == _db_count(live_server, "SELECT count(*) FROM organisations")
    codes = {o["code"] for o in orgs}
    assert all(o["parent"] is None or o["parent"] in codes for o in orgs)
    assert {"code", "name", "kind", "parent", "region"} <= set(orgs[0])


def test_unknown_organisation_is_a_clear_404(live_server: LiveServer) -> None:
    for path in ("/api/snapshot", "/api/orgs"):
        key = "org" if path.endswith("snapshot") else "parent"
        r = httpx.get(f"{live_server.url}{path}", params={key: "NO-SUCH-ORG"})
        assert r.status_code == 404
        assert "NO-SUCH-ORG" in r.json()["detail"]


def test_overlong_query_is_rejected_not_crashing(live_server: LiveServer) -> None:
    r = httpx.get(f"{live_server.url}/api/snapshot", params={"org": "x" * 10_000})
    assert r.status_code == 422
    assert httpx.get(f"{live_server.url}/api/health").status_code == 200
