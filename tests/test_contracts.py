"""The wire contracts (dashboard/live/contracts.py): the schema files, and real frames and snapshots against them.

The live test captures what a running server sends — frames over Dash's
websocket to a headless screen, snapshots from the read API — at the full and
the public level, and validates every one with extra fields forbidden, so a
key added, renamed or retyped anywhere in the pipeline fails here until the
contract (and docs/schemas/) says so.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from typing import Any

import httpx
import orjson
import pytest
from pydantic import ValidationError

from dashboard.live.contracts import (
    FULL_FRAME_KEYS,
    FullSnapshot,
    PublicSnapshot,
    frame_adapter,
    schema_text,
    schemas,
)
from dashboard.live.screen_client import ScreenClient, find_ticket, page_layout, stream_callback_id
from tests.conftest import ROOT, LiveServer

SCHEMAS = ROOT / "docs" / "schemas"
WAIT_S = 90  # an upper bound only: each wait ends as soon as the state it waits for is there


# --- unit: the committed schemas and what the models refuse ----------------------------------


@pytest.mark.unit
def test_committed_schemas_are_what_the_models_generate() -> None:
    generated = schemas()
    assert sorted(p.name for p in SCHEMAS.glob("*.json")) == sorted(generated)
    for name, schema in generated.items():
        assert (SCHEMAS / name).read_text(encoding="utf-8") == schema_text(schema), (
            f"docs/schemas/{name} is stale: run python -m dashboard.live.contracts"
        )


def heartbeat() -> dict[str, Any]:
    return {"seq": 3, "ts": 1_795_779_449_303, "heartbeat": True}


def delta(kpi: dict[str, Any], feed: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"seq": 4, "ts": 1_795_779_449_303, "full": False, "kpi": kpi, "feed": feed or []}


@pytest.mark.unit
@pytest.mark.parametrize("level", ["full", "public"])
def test_a_heartbeat_and_a_delta_pass(level: str) -> None:
    adapter = frame_adapter(level)  # type: ignore[arg-type]
    assert adapter.validate_json(orjson.dumps(heartbeat())).heartbeat is True
    frame = adapter.validate_json(orjson.dumps(delta({"events_today": 5, "map_notices": [["440000", "urgent"]]})))
    assert frame.kpi.events_today == 5


@pytest.mark.unit
@pytest.mark.parametrize(
    ("level", "frame", "problem"),
    [
        ("full", delta({"events_today": 5, "surprise": 1}), "surprise"),
        ("full", delta({"events_today": "5"}), "events_today"),
        ("full", delta({"members": None}), "members"),  # the full level hides nothing
        ("public", delta({}, [{"id": 1, "ts": 1, "type": "study", "org": "第一支部", "who": "张三"}]), "who"),
        ("public", delta({"units": {"A1": [10, 10, 1]}}), "units"),
        ("public", delta({"map_notices": [["440000", "panic"]]}), "map_notices"),
        ("full", {"seq": 1, "ts": 1, "full": True, "kpi": {"events_today": 5}, "feed": []}, "full frame lacks"),
        ("full", {**heartbeat(), "heartbeat": False}, "heartbeat"),
    ],
)
def test_drift_is_refused(level: str, frame: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError) as refused:
        frame_adapter(level).validate_json(orjson.dumps(frame))  # type: ignore[arg-type]
    assert problem in str(refused.value)


# --- live: what a running server sends -------------------------------------------------------


def db_rows(server: LiveServer, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.db_url.removeprefix("sqlite:///")) as conn:
        return conn.execute(sql).fetchall()


def post_events(server: LiveServer, events: list[dict[str, Any]]) -> None:
    r = httpx.post(f"{server.url}/api/events", json=events, headers={"Authorization": f"Bearer {server.token}"}, timeout=60)
    r.raise_for_status()
    assert not r.json()["rejected"], r.json()


def activity(server: LiveServer, title: str) -> list[dict[str, Any]]:
    """Events that make every section speak: study with a name, dues, volunteering, notices, a transfer."""
    root = db_rows(server, "SELECT code FROM organisations WHERE parent_id IS NULL")[0][0]
    (branch_a, member_a), (branch_b, _) = db_rows(
        server,
        "SELECT o.code, MIN(m.code) FROM members m JOIN organisations o ON o.id = m.org_id "
        "WHERE o.kind = 'branch' AND m.stage = 'full' GROUP BY o.region_code ORDER BY o.region_code LIMIT 2",
    )
    ev = lambda type_, org, member, data: {"id": uuid.uuid4().hex, "type": type_, "org": org, "member": member, "data": data}  # noqa: E731
    return [
        ev("study", branch_a, member_a, {"points": 3, "title": title}),
        ev("dues_paid", branch_a, member_a, {"amount": 12.5, "month": time.strftime("%Y-%m")}),
        ev("volunteer", branch_a, member_a, {"hours": 2}),
        ev("notice", root, None, {"title": title, "level": "warning", "ttl_s": 600}),  # on every screen of the tree
        ev("notice", branch_a, None, {"title": title, "level": "urgent", "ttl_s": 600}),  # marks its region on the map
        ev("transfer_requested", branch_a, member_a, {"transfer": "T-" + title, "from_org": branch_a, "to_org": branch_b}),
    ]


def not_seen(frames: list[dict[str, Any]], title: str) -> list[str]:
    """What the posted activity should have brought to a screen and has not (yet)."""
    kpis = [f["kpi"] for f in frames if not f.get("heartbeat")]
    fed = any(item.get("title") == title for f in frames for item in f.get("feed", ()))
    keys = [key for key in ("topo_pulse", "map_flashes", "map_notices", "notices") if not any(k.get(key) for k in kpis)]
    return keys + ([] if fed else ["feed"])


async def capture(server: LiveServer, title: str) -> dict[str, list[dict[str, Any]]]:
    """Frames at both levels from the moment a screen joins until each has seen the activity posted meanwhile."""
    callback_id = await stream_callback_id(server.url)
    searches = {"full": f"?token={server.admin_token}", "public": ""}
    clients = {level: ScreenClient(server.url, find_ticket(await page_layout(server.url, "/", s)), callback_id) for level, s in searches.items()}
    tasks = [asyncio.create_task(c.run(WAIT_S)) for c in clients.values()]
    deadline = time.monotonic() + WAIT_S
    while not all(c.frames for c in clients.values()) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await asyncio.to_thread(post_events, server, activity(server, title))
    while any(not_seen(c.frames, title) for c in clients.values()) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {level: c.frames for level, c in clients.items()}


@pytest.mark.live
def test_real_frames_and_snapshots_keep_the_contracts(live_server: LiveServer) -> None:
    title = f"contract-{uuid.uuid4().hex[:8]}"
    captured = asyncio.run(capture(live_server, title))
    for level, frames in captured.items():
        assert not not_seen(frames, title), f"{level}: the posted activity did not reach the screen"
        adapter = frame_adapter(level)  # type: ignore[arg-type]
        checked = [adapter.validate_json(orjson.dumps(frame)) for frame in frames]
        first = checked[0]
        assert first.full and first.kpi.model_fields_set >= FULL_FRAME_KEYS
        assert {"map_regions", "map_transfers", "topo_health", "units"} <= first.kpi.model_fields_set
    names = [item.get("who") for f in captured["full"] for item in f.get("feed", ())]
    assert any(names), "the full level's feed names who did it"

    branch = db_rows(live_server, "SELECT code FROM organisations WHERE kind = 'branch' ORDER BY id LIMIT 1")[0][0]
    admin = {"Authorization": f"Bearer {live_server.admin_token}"}
    for org in (None, branch):
        params = {"org": org} if org else {}
        full = httpx.get(f"{live_server.url}/api/snapshot", params=params, headers=admin, timeout=60)
        public = httpx.get(f"{live_server.url}/api/snapshot", params=params, timeout=60)
        assert full.status_code == public.status_code == 200
        FullSnapshot.model_validate_json(full.text)
        shown = PublicSnapshot.model_validate_json(public.text)
        if org == branch:  # a branch's small counts are hidden: exactly what the full contract refuses
            assert shown.probationary is None or shown.transfers.in_flight is None
            with pytest.raises(ValidationError):
                FullSnapshot.model_validate_json(public.text)

