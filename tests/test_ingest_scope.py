"""Ingest holds a token to its subtree for every organisation and member an event names (issue 17, hole 1).

A province-scoped ingest token must not speak for another province's
members, nor move them with a transfer; a member must be on the roll of the
event's organisation; and a completed transfer moves the member in the store
as well as on the screens, so a restart and the live state agree.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dashboard.access.tokens import create_token
from dashboard.store.engine import open_store
from tests.conftest import LiveServer

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    srv = LiveServer(tmp_path_factory.mktemp("scope") / "lianxin.db", demo_members=600).start()
    yield srv
    srv.stop()


def db(server: LiveServer, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(Path(server.db_url.removeprefix("sqlite:///"))) as conn:
        return conn.execute(sql, params).fetchall()


def two_provinces(server: LiveServer) -> tuple[str, str]:
    """Two level-1 organisations that both have members under them."""
    rows = db(server, """SELECT o.code FROM organisations o WHERE o.level = 1 AND EXISTS (
                           SELECT 1 FROM members m JOIN organisations b ON b.id = m.org_id
                           WHERE b.path LIKE o.path || '%') ORDER BY o.id LIMIT 2""")
    return rows[0][0], rows[1][0]


def member_under(server: LiveServer, province: str) -> tuple[str, str]:
    """(member code, its organisation's code) of a member in the province's subtree."""
    return db(server, """SELECT m.code, b.code FROM members m JOIN organisations b ON b.id = m.org_id
                         JOIN organisations p ON p.code = ? WHERE b.path LIKE p.path || '%' ORDER BY m.id LIMIT 1""",
              province)[0]


def post(server: LiveServer, token: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    r = httpx.post(f"{server.url}/api/events", json=events, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def members_of(server: LiveServer, org: str) -> int:
    r = httpx.get(f"{server.url}/api/snapshot", params={"org": org},
                  headers={"Authorization": f"Bearer {server.admin_token}"}, timeout=30)
    return int(r.json()["members"])


def test_a_province_token_cannot_speak_for_or_move_another_province_s_members(server: LiveServer) -> None:
    mine, theirs = two_provinces(server)
    scoped = create_token(open_store(server.db_url), role="ingest", org_code=mine)
    foreign_member, foreign_org = member_under(server, theirs)
    own_member, own_org = member_under(server, mine)
    tag = uuid.uuid4().hex[:8]
    before_mine, before_theirs = members_of(server, mine), members_of(server, theirs)
    events = [
        # the outside test's first find: an event at my province naming a member of another
        {"id": f"{tag}-1", "type": "study", "org": mine, "member": foreign_member, "data": {"points": 1, "title": "t"}},
        # its second: a completed transfer that pulls another province's member into mine
        {"id": f"{tag}-2", "type": "transfer_completed", "org": mine, "member": foreign_member,
         "data": {"transfer": f"T-{tag}", "from_org": foreign_org, "to_org": own_org}},
        {"id": f"{tag}-3", "type": "transfer_requested", "org": own_org, "member": own_member,
         "data": {"transfer": f"T-{tag}-b", "from_org": own_org, "to_org": "NOPE"}},
        {"id": f"{tag}-4", "type": "transfer_requested", "org": own_org, "member": own_member,
         "data": {"transfer": f"T-{tag}-c", "from_org": own_org, "to_org": foreign_org}},
        {"id": f"{tag}-5", "type": "study", "org": own_org, "member": own_member, "data": {"points": 1, "title": "t"}},
    ]
    answer = post(server, scoped, events)
    errors = {r["index"]: r["error"] for r in answer["rejected"]}
    assert answer["accepted"] == 1 and set(errors) == {0, 1, 2, 3}, answer
    assert errors[0] == errors[1] == f"unknown member {foreign_member!r}"  # outside the scope: as if unknown
    assert errors[2] == "data.to_org: unknown organisation 'NOPE'"
    assert errors[3].startswith("data.to_org: organisation") and "outside this token's scope" in errors[3]
    assert (members_of(server, mine), members_of(server, theirs)) == (before_mine, before_theirs)
    assert db(server, "SELECT count(*) FROM events WHERE event_id LIKE ?", f"{tag}-%")[0][0] == 1


def test_a_member_must_be_on_the_roll_of_the_event_s_organisation(server: LiveServer) -> None:
    mine, theirs = two_provinces(server)
    member, _ = member_under(server, mine)
    _, elsewhere = member_under(server, theirs)
    answer = post(server, server.token, [{"type": "login", "org": elsewhere, "member": member}])
    assert answer["accepted"] == 0
    assert answer["rejected"] == [{"index": 0, "error": f"member {member!r} is not on the roll of {elsewhere!r} or an organisation under it"}]


def test_a_completed_transfer_moves_the_member_in_the_store_and_after_a_restart(server: LiveServer) -> None:
    mine, theirs = two_provinces(server)
    member, from_org = member_under(server, theirs)
    _, to_org = member_under(server, mine)
    tag = uuid.uuid4().hex[:8]
    before_mine, before_theirs = members_of(server, mine), members_of(server, theirs)
    transfer = {"transfer": f"T-{tag}", "from_org": from_org, "to_org": to_org}
    steps = [("transfer_requested", from_org), ("transfer_approved", from_org), ("transfer_completed", to_org)]
    events = [{"id": f"{tag}-{i}", "type": kind, "org": org, "member": member, "data": transfer}
              for i, (kind, org) in enumerate(steps)]
    assert post(server, server.token, events)["accepted"] == 3
    after = (members_of(server, mine), members_of(server, theirs))
    assert after == (before_mine + 1, before_theirs - 1)
    assert db(server, "SELECT o.code FROM members m JOIN organisations o ON o.id = m.org_id WHERE m.code = ?", member) == [(to_org,)]
    # Sent again, the completion is a duplicate, not a rejection; the member now acts at the new branch.
    again = post(server, server.token, [events[-1], {"type": "login", "org": to_org, "member": member}])
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (1, 1, [])
    server.restart()
    assert (members_of(server, mine), members_of(server, theirs)) == after
