"""The read and ingest API in-process: FastAPI's test client on the real application and a real SQLite file.

No subprocess and no socket: these answer in milliseconds, so the API's contract is checked on
every run of the ``api`` tier. What only a real server shows (websockets, restarts, the Dash
pages) is in the ``live`` and ``browser`` tiers.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from dashboard.api.app import create_api
from dashboard.demo.seed import seed_demo
from dashboard.live.recompute import recompute_snapshot
from dashboard.runtime.core import Runtime
from dashboard.settings import Settings
from dashboard.store.engine import open_store

pytestmark = pytest.mark.api

INGEST = "api-ingest-" + uuid.uuid4().hex
ADMIN = "api-admin-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = Path(tmp_path_factory.mktemp("api")) / "lianxin.db"
    engine = open_store(f"sqlite:///{db}")
    seed_demo(engine, members=600, seed=7)
    settings = Settings(database_url=f"sqlite:///{db}", simulate=False, ingest_token=INGEST, admin_token=ADMIN)
    runtime = Runtime.start(settings, engine)
    try:
        with TestClient(create_api(runtime)) as test_client:
            yield test_client
    finally:
        runtime.close()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _root(client: TestClient) -> str:
    orgs = client.get("/api/orgs", headers=_auth(ADMIN)).json()
    rows = orgs["orgs"] if isinstance(orgs, dict) else orgs
    return next(o["code"] for o in rows if not o.get("parent"))


def test_health_answers_while_the_process_lives(client: TestClient) -> None:
    answer = client.get("/api/health")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"


def test_the_snapshot_is_the_recomputation_of_the_store(client: TestClient) -> None:
    root = _root(client)
    snap = client.get(f"/api/snapshot?org={root}", headers=_auth(ADMIN)).json()
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    expected = recompute_snapshot(runtime.engine, runtime.tree, runtime.tree.by_code[root], time.time(), ZoneInfo(runtime.settings.timezone))
    for key in ("members", "events_total", "events_today", "active_today"):
        assert snap[key] == expected[key], key
    assert snap["members"] > 0
    assert {"gender", "age_band", "education"} <= set(snap["structure"])


def test_an_event_is_counted_once_however_often_it_is_sent(client: TestClient) -> None:
    root = _root(client)
    before = client.get(f"/api/snapshot?org={root}", headers=_auth(ADMIN)).json()["events_total"]
    event = {"id": "api-" + uuid.uuid4().hex, "type": "like", "org": root, "data": {"title": "in-process"}}
    first = client.post("/api/events", json=[event], headers=_auth(INGEST)).json()
    again = client.post("/api/events", json={"events": [event]}, headers=_auth(INGEST)).json()
    assert (first["accepted"], first["duplicates"]) == (1, 0)
    assert (again["accepted"], again["duplicates"]) == (0, 1)
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    assert runtime.aggregator.snapshot(runtime.tree.by_code[root])["events_total"] == before + 1


def test_a_bad_event_is_rejected_by_index_and_the_good_ones_are_kept(client: TestClient) -> None:
    root = _root(client)
    answer = client.post(
        "/api/events",
        json=[{"type": "like", "org": root}, {"type": "no_such_type", "org": root}, {"type": "like", "org": "NO-SUCH-ORG"}],
        headers=_auth(INGEST),
    ).json()
    assert answer["accepted"] == 1
    assert [r["index"] for r in answer["rejected"]] == [1, 2]
    assert all(r["error"] for r in answer["rejected"])


def test_malformed_bodies_get_a_clear_4xx(client: TestClient) -> None:
    for body in (b"{not json", b"42", b'"text"'):
        answer = client.post("/api/events", content=body, headers={**_auth(INGEST), "Content-Type": "application/json"})
        assert 400 <= answer.status_code < 500, body
        assert answer.json(), body


def test_ingest_and_names_need_their_tokens(client: TestClient) -> None:
    root = _root(client)
    assert client.post("/api/events", json=[{"type": "like", "org": root}]).status_code == 401
    assert client.post("/api/events", json=[], headers=_auth("not-a-token")).status_code == 401
    assert client.get(f"/api/members?org={root}", headers=_auth(INGEST)).status_code == 403
    members = client.get(f"/api/members?org={root}", headers=_auth(ADMIN))
    assert members.status_code == 200


def test_the_read_routes_document_and_keep_their_response_models(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()

    def answer_schema(path: str) -> str:
        return str(spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"])

    assert "FullSnapshot" in answer_schema("/api/snapshot") and "PublicSnapshot" in answer_schema("/api/snapshot")
    assert "OrgOut" in answer_schema("/api/orgs") and "MembersPage" in answer_schema("/api/members")
    root = _root(client)
    admin = client.get("/api/members", params={"org": root, "limit": 3}, headers=_auth(ADMIN)).json()
    assert len(admin["members"]) == 3 and all("phone" in m for m in admin["members"])
    snap = client.get("/api/snapshot", headers=_auth(ADMIN)).json()
    assert "≤30" in snap["structure"]["age_band"]  # the contract's field names go out as the wire's keys
