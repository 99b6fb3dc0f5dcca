"""Ingest against a live server: idempotency, bad input, tokens, kill -9, backpressure; and the writer on PostgreSQL.

Every test talks to ``python app.py`` over real websockets and HTTP and reads
the server's real SQLite file; the PostgreSQL test runs the writer on a
schema of its own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from conftest import LiveServer
from sqlalchemy import create_engine, insert, text
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from dashboard.domain.events import EventType
from dashboard.ingest.ingestor import MAX_FRAME_BYTES, EventChecker, FrameError, Ingestor, MemberIndex, parse_frame
from dashboard.live.bus import InProcessBus
from dashboard.store.engine import open_store
from dashboard.store.models import Member, Organisation
from dashboard.store.tree import OrgNode, OrgTree

pytestmark = pytest.mark.timeout(300)
REPO = Path(__file__).resolve().parents[1]


# -- helpers -------------------------------------------------------------------


def roll(server: LiveServer, n: int = 500) -> list[tuple[str, str]]:
    """(member code, its organisation's code) of ``n`` members of the server's demo organisation."""
    engine = create_engine(server.db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT m.code, o.code FROM members m JOIN organisations o ON o.id = m.org_id ORDER BY m.id LIMIT :n"),
            {"n": n},
        ).all()
    engine.dispose()
    return [(m, o) for m, o in rows]


def stored_count(server: LiveServer) -> int:
    engine = create_engine(server.db_url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM events")).scalar_one()
    engine.dispose()
    return int(count)


def events_total(server: LiveServer) -> int:
    return int(httpx.get(f"{server.url}/api/snapshot", timeout=10).json()["events_total"])


def study_events(members: list[tuple[str, str]], n: int, prefix: str, title: str = "学习贯彻党的二十大精神") -> list[dict[str, Any]]:
    return [
        {
            "id": f"{prefix}-{i}",
            "type": "study",
            "org": members[i % len(members)][1],
            "member": members[i % len(members)][0],
            "data": {"points": 1 + i % 5, "minutes": 10, "title": title},
        }
        for i in range(n)
    ]


def frames_of(events: list[dict[str, Any]], size: int) -> list[str]:
    return [orjson.dumps({"events": events[i : i + size]}).decode() for i in range(0, len(events), size)]


def ws_url(server: LiveServer, token: str | None = None) -> str:
    return f"{server.ws_ingest}?token={token or server.token}"


async def exchange(url: str, frames: list[str | bytes], window: int = 8, **kwargs: Any) -> list[dict[str, Any]]:
    """Send ``frames`` pipelined (``window`` in flight) and return their answers, in order."""
    answers: list[dict[str, Any]] = []
    async with connect(url, max_size=None, compression=None, **kwargs) as ws:
        room = asyncio.Semaphore(window)

        async def send() -> None:
            for frame in frames:
                await room.acquire()
                await ws.send(frame)

        sender = asyncio.create_task(send())
        while len(answers) < len(frames):
            answers.append(orjson.loads(await ws.recv()))
            room.release()
        await sender
    return answers


def send(server: LiveServer, frames: list[str | bytes], **kwargs: Any) -> list[dict[str, Any]]:
    return asyncio.run(exchange(ws_url(server), frames, **kwargs))


async def close_code(url: str, *frames: str | bytes, **kwargs: Any) -> tuple[int | None, str, list[dict[str, Any]]]:
    """Send ``frames``, read answers until the server closes; its close code and reason, and the answers."""
    answers: list[dict[str, Any]] = []
    try:
        async with connect(url, max_size=None, compression=None, **kwargs) as ws:
            for frame in frames:
                await ws.send(frame)
            while True:
                answers.append(orjson.loads(await asyncio.wait_for(ws.recv(), timeout=30)))
    except ConnectionClosed as closed:
        return (closed.rcvd.code, closed.rcvd.reason, answers) if closed.rcvd else (None, "", answers)
    raise AssertionError("unreachable: recv returns or raises")


def totals(answers: list[dict[str, Any]]) -> tuple[int, int, int]:
    return (
        sum(a["accepted"] for a in answers),
        sum(a["duplicates"] for a in answers),
        sum(len(a["rejected"]) for a in answers),
    )


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


# -- parsing a frame (no server) ---------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "count"),
    [
        ('{"type": "like", "org": "X"}', 1),
        ('[{"type": "like", "org": "X"}, {"type": "like", "org": "Y"}]', 2),
        ('{"events": [{"type": "like", "org": "X"}]}', 1),
        (b"[]", 0),
    ],
)
def test_a_frame_is_an_event_an_array_or_an_events_object(payload: str | bytes, count: int) -> None:
    assert len(parse_frame(payload)) == count


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        ("{oops", "not valid JSON"),
        ("42", "got a number"),
        ('"study"', "got a string"),
        ('{"events": {"type": "like"}}', '"events" must be an array'),
        ('{"events": [], "extra": 1}', "unknown field(s) beside"),
    ],
)
def test_a_frame_of_the_wrong_shape_is_refused_in_words(payload: str, says: str) -> None:
    with pytest.raises(FrameError) as refused:
        parse_frame(payload)
    assert says in str(refused.value)


def test_a_frame_of_more_than_1000_events_is_refused_as_too_large() -> None:
    with pytest.raises(FrameError) as refused:
        parse_frame(orjson.dumps([{}] * 1001))
    assert refused.value.too_large and "at most 1,000" in str(refused.value)


def test_member_index_finds_every_code_of_a_large_roll_and_nothing_else() -> None:
    roll_ = [(f"M{i:08d}", i * 3 + 1) for i in range(200_000)]
    index = MemberIndex(roll_)
    probe = [roll_[i][0] for i in range(0, 200_000, 997)] + ["M99999999", "", "m00000001"]
    expected = [roll_[i][1] for i in range(0, 200_000, 997)] + [None, None, None]
    assert index.lookup(probe) == expected
    assert MemberIndex([]).lookup(["M1"]) == [None]


ONE_OF_EACH_TYPE: list[dict[str, Any]] = [
    {"type": "study", "member": "M1", "data": {"points": 5, "minutes": 20, "title": " 学习贯彻党的二十大精神 "}},
    {"type": "article_read", "member": "M1", "data": {"title": "机关党建", "article": "A012"}},
    {"type": "like", "data": {"article": "A012"}},
    {"type": "comment", "member": "M1", "data": {"title": "机关党建"}},
    {"type": "share"},
    {"type": "meeting_held", "data": {"kind": "themed_day", "attendees": 23}},
    {"type": "meeting_attended", "member": "M1", "data": {"kind": "themed_day", "meeting": "m-1"}},
    {"type": "dues_paid", "member": "M1", "data": {"amount": 36.5, "month": "2026-11"}},
    {"type": "volunteer", "member": "M1", "data": {"hours": 2.5}},
    {"type": "transfer_requested", "member": "M1", "data": {"transfer": "T-1", "from_org": "BR", "to_org": "TOP", "reason": "工作调动"}},
    {"type": "transfer_approved", "member": "M1", "data": {"transfer": "T-1", "from_org": "BR", "to_org": "TOP"}},
    {"type": "transfer_rejected", "member": "M1", "data": {"transfer": "T-2", "from_org": "BR", "to_org": "TOP"}},
    {"type": "transfer_completed", "member": "M1", "data": {"transfer": "T-1", "from_org": "BR", "to_org": "TOP"}},
    {"type": "recruit_applied", "data": {"name": "李明"}},
    {"type": "recruit_activist", "member": "M1"},
    {"type": "recruit_development_target", "member": "M1", "data": {}},
    {"type": "recruit_probationary", "member": "M1"},
    {"type": "recruit_full", "member": "M1"},
    {"type": "login", "member": "M1", "data": {"device": "android"}},
    {"type": "notice", "data": {"title": "今晚视频会议", "level": "urgent", "ttl_s": 7200}},
]


def test_a_frame_checked_in_one_call_gives_the_same_rows_as_event_by_event() -> None:
    top = OrgNode(1, "TOP", "top", "committee", None, 0, None, None, None, None)
    branch = OrgNode(2, "BR", "branch", "branch", 1, 1, None, None, None, None)
    checker = EventChecker(OrgTree.from_nodes([top, branch]), MemberIndex([("M1", 7)], {7: 2}))
    events = [{"id": f"e-{i}", "org": "BR", "ts": "2026-11-27T09:30:00+08:00", **e} for i, e in enumerate(ONE_OF_EACH_TYPE)]
    now_ms = 1_800_000_000_000  # 2027-01-15
    for frame in (orjson.dumps(events), orjson.dumps({"events": events}).decode()):
        fast_rows, fast_rejected = checker.check_frame(frame, now_ms)
        slow_rows, slow_rejected = checker.check(events, now_ms)
        assert fast_rejected == slow_rejected == []
        assert [(r.values, r.data) for r in fast_rows] == [(r.values, r.data) for r in slow_rows]
    assert {r.values[2] for r in fast_rows} == {t.value for t in EventType}
    study, dues = fast_rows[0], fast_rows[7]
    assert study.data == {"points": 5, "minutes": 20, "title": "学习贯彻党的二十大精神"} and study.values[5] == 7
    assert dues.data == {"amount": 36.5, "month": "2026-11"}
    assert fast_rows[-1].data == {"title": "今晚视频会议", "level": "urgent", "ttl_s": 7200}


# -- the live server -------------------------------------------------------------------


def test_the_same_10000_events_sent_twice_are_counted_once(live_server: LiveServer) -> None:
    members = roll(live_server)
    events = study_events(members, 10_000, f"twice-{uuid.uuid4().hex[:8]}")
    before_total, before_rows = events_total(live_server), stored_count(live_server)

    first = send(live_server, frames_of(events, 500))
    second = send(live_server, frames_of(events, 500))

    assert [a["seq"] for a in first] == list(range(1, 21))
    assert totals(first) == (10_000, 0, 0)
    assert totals(second) == (0, 10_000, 0)
    assert stored_count(live_server) - before_rows == 10_000
    assert events_total(live_server) - before_total == 10_000


def test_duplicates_within_one_frame_and_across_http_and_websocket_count_once(live_server: LiveServer) -> None:
    members = roll(live_server, 10)
    event = study_events(members, 1, f"dup-{uuid.uuid4().hex[:8]}")[0]
    before = stored_count(live_server)
    [answer] = send(live_server, [orjson.dumps([event, event, event]).decode()])
    assert (answer["accepted"], answer["duplicates"]) == (1, 2)
    again = httpx.post(f"{live_server.url}/api/events", json=[event], headers={"Authorization": f"Bearer {live_server.token}"})
    assert again.json() == {"accepted": 0, "duplicates": 1, "rejected": []}
    assert stored_count(live_server) - before == 1


def test_events_without_an_id_get_one_and_are_stored(live_server: LiveServer) -> None:
    members = roll(live_server, 10)
    event = {k: v for k, v in study_events(members, 1, "x")[0].items() if k != "id"}
    before = stored_count(live_server)
    answers = send(live_server, [orjson.dumps(event).decode(), orjson.dumps(event).decode()])
    assert totals(answers) == (2, 0, 0)
    engine = create_engine(live_server.db_url)
    with engine.connect() as conn:
        ids = conn.execute(text("SELECT event_id FROM events ORDER BY seq DESC LIMIT 2")).scalars().all()
    engine.dispose()
    assert stored_count(live_server) - before == 2 and len(set(ids)) == 2 and all(ids)


def _bad_events(member: str, org: str) -> list[tuple[dict[str, Any] | int, str]]:
    """(event, what its rejection must say)."""
    return [
        ({"type": "study", "org": org, "member": member, "data": {"points": "five", "title": "t"}},
         "data.points: must be a whole number"),
        ({"type": "study", "org": org, "member": member, "data": {"points": -1, "title": "t"}}, "data.points: must be ≥ 0"),
        ({"type": "study", "org": org, "member": member}, "data.points: required"),
        ({"type": "meditation", "org": org}, "unknown type 'meditation'"),
        ({"type": "like", "org": "NO-SUCH-ORG"}, "unknown organisation 'NO-SUCH-ORG'"),
        ({"type": "login", "org": org, "member": "NO-SUCH-MEMBER"}, "unknown member 'NO-SUCH-MEMBER'"),
        ({"type": "login", "org": org}, "member: required"),
        ({"type": "like", "org": org, "ts": "2099-01-01T00:00:00+08:00"}, "more than 5 minutes ahead"),
        ({"type": "like", "org": org, "ts": "last tuesday"}, "ts: 'last tuesday' is not a date-time"),
        ({"type": "like", "org": org, "ts": "2026-11-27T09:30:00"}, "needs a UTC offset"),
        ({"id": "x" * 65, "type": "like", "org": org}, "id: at most 64 characters"),
        ({"type": "like", "org": org, "colour": "red"}, "colour: unknown field"),
        ({"type": "like", "org": 42}, "org: must be a string"),
        (7, "an event must be a JSON object"),
    ]


def test_bad_events_are_rejected_with_their_index_and_the_good_ones_in_the_frame_are_taken(live_server: LiveServer) -> None:
    member, org = roll(live_server, 1)[0]
    bad = _bad_events(member, org)
    good = study_events([(member, org)], 3, f"mixed-{uuid.uuid4().hex[:8]}")
    frame = [good[0], *[e for e, _ in bad], good[1], good[2]]
    before_total, before_rows = events_total(live_server), stored_count(live_server)

    [answer] = send(live_server, [orjson.dumps(frame).decode()])

    assert answer["accepted"] == 3 and answer["duplicates"] == 0
    assert [r["index"] for r in answer["rejected"]] == list(range(1, len(bad) + 1))
    for rejection, (_, says) in zip(answer["rejected"], bad):
        assert says in rejection["error"], rejection
    assert stored_count(live_server) - before_rows == 3
    assert events_total(live_server) - before_total == 3


@pytest.mark.parametrize(
    ("frame", "says"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2", "not valid JSON"),
        ("42", "got a number"),
        ('{"events": "all of them"}', '"events" must be an array'),
        (orjson.dumps([{"type": "like", "org": "X"}] * 1001).decode(), "at most 1,000 per frame"),
        (orjson.dumps([{}] * 100_001).decode(), "holds 100,001 events"),
        (b'{"type": "like"}', "binary frames are not accepted"),
    ],
    ids=["not-json", "truncated", "number", "events-not-array", "1001-events", "100001-small-events", "binary"],
)
def test_a_bad_frame_gets_an_error_answer_and_the_connection_goes_on(live_server: LiveServer, frame: str | bytes, says: str) -> None:
    member, org = roll(live_server, 1)[0]
    good = orjson.dumps(study_events([(member, org)], 1, f"after-{uuid.uuid4().hex[:8]}")).decode()
    before = stored_count(live_server)
    bad_answer, good_answer = send(live_server, [frame, good])
    assert bad_answer["seq"] == 1 and says in bad_answer["error"]
    assert (bad_answer["accepted"], bad_answer["duplicates"]) == (0, 0)
    assert good_answer["seq"] == 2 and good_answer["accepted"] == 1
    assert stored_count(live_server) - before == 1


def test_frames_over_the_size_limit_close_with_1009_and_the_server_goes_on(live_server: LiveServer) -> None:
    member, org = roll(live_server, 1)[0]
    good = orjson.dumps(study_events([(member, org)], 1, f"pre-{uuid.uuid4().hex[:8]}")).decode()
    ten_mb = '{"type": "like", "org": "' + "x" * (10 * 1024 * 1024) + '"}'
    hundred_thousand = orjson.dumps([{"type": "like", "org": org, "member": member}] * 100_001).decode()
    assert len(hundred_thousand) > MAX_FRAME_BYTES
    before = stored_count(live_server)

    assert totals(send(live_server, [good])) == (1, 0, 0)
    code, reason, answers = asyncio.run(close_code(ws_url(live_server), ten_mb))
    assert code == 1009 and "4194304" in reason.replace(",", "") and answers == []
    assert asyncio.run(close_code(ws_url(live_server), hundred_thousand))[0] == 1009
    assert httpx.get(f"{live_server.url}/api/health", timeout=10).status_code == 200
    assert stored_count(live_server) - before == 1


def test_a_text_frame_that_is_not_utf8_closes_with_1007(live_server: LiveServer) -> None:
    async def scenario() -> int | None:
        try:
            async with connect(ws_url(live_server), compression=None) as ws:
                await ws.send(b'{"type": "\xff\xfe"}', text=True)  # sent as a text frame, unchecked
                await asyncio.wait_for(ws.recv(), timeout=30)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        return None

    assert asyncio.run(scenario()) == 1007
    assert httpx.get(f"{live_server.url}/api/health", timeout=10).status_code == 200


# -- tokens ------------------------------------------------------------------------------


def cli_token(server: LiveServer, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "dashboard", "token", "create", "--database-url", server.db_url, *args],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_websocket_closes_with_1008_without_a_valid_ingest_token(live_server: LiveServer) -> None:
    assert asyncio.run(close_code(live_server.ws_ingest))[0] == 1008
    assert asyncio.run(close_code(ws_url(live_server, "not-a-token")))[0] == 1008
    display = cli_token(live_server, "--role", "display")
    code, reason, _ = asyncio.run(close_code(ws_url(live_server, display)))
    assert code == 1008 and "display" in reason


def test_tokens_from_the_cli_and_the_environment_may_send_events(live_server: LiveServer) -> None:
    members = roll(live_server, 10)
    ingest = cli_token(live_server, "--role", "ingest", "--label", "test")
    assert ingest and " " not in ingest
    frame = frames_of(study_events(members, 2, f"tok-{uuid.uuid4().hex[:8]}"), 2)
    by_query = asyncio.run(exchange(ws_url(live_server, ingest), frame))
    by_header = asyncio.run(exchange(live_server.ws_ingest, frame, additional_headers={"Authorization": f"Bearer {ingest}"}))
    by_env = asyncio.run(exchange(ws_url(live_server, live_server.token), frame))
    by_admin = asyncio.run(exchange(ws_url(live_server, live_server.admin_token), frame))
    assert totals(by_query) == (2, 0, 0)
    assert totals(by_header) == totals(by_env) == totals(by_admin) == (0, 2, 0)


def test_a_token_scoped_to_an_organisation_may_only_send_events_of_its_subtree(live_server: LiveServer) -> None:
    engine = create_engine(live_server.db_url)
    with engine.connect() as conn:
        branch = conn.execute(text("SELECT code FROM organisations WHERE kind = 'branch' ORDER BY id LIMIT 1")).scalar_one()
        top = conn.execute(text("SELECT code FROM organisations WHERE parent_id IS NULL")).scalar_one()
    engine.dispose()
    token = cli_token(live_server, "--role", "ingest", "--org", branch)
    tag = uuid.uuid4().hex[:8]
    inside = {"id": f"in-{tag}", "type": "like", "org": branch}
    outside = {"id": f"out-{tag}", "type": "like", "org": top}
    [answer] = asyncio.run(exchange(ws_url(live_server, token), [orjson.dumps([inside, outside]).decode()]))
    assert answer["accepted"] == 1
    assert answer["rejected"] == [{"index": 1, "error": f"organisation '{top}' is outside this token's scope ({branch})"}]


def test_http_ingest_takes_both_body_shapes_and_answers_errors_with_status_codes(live_server: LiveServer) -> None:
    members = roll(live_server, 10)
    url = f"{live_server.url}/api/events"
    auth = {"Authorization": f"Bearer {live_server.token}"}
    tag = uuid.uuid4().hex[:8]
    as_array = study_events(members, 3, f"http-a-{tag}")
    as_object = {"events": study_events(members, 2, f"http-o-{tag}")}

    assert httpx.post(url, json=as_array, headers=auth).json() == {"accepted": 3, "duplicates": 0, "rejected": []}
    assert httpx.post(f"{url}?token={live_server.token}", json=as_object).json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    mixed = httpx.post(url, json=[*as_array, {"type": "nope", "org": "X"}], headers=auth).json()
    assert (mixed["accepted"], mixed["duplicates"], mixed["rejected"][0]["index"]) == (0, 3, 3)

    no_token = httpx.post(url, json=as_array)
    assert no_token.status_code == 401 and "token" in no_token.json()["detail"]
    assert httpx.post(url, json=as_array, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.post(url, content=b"{oops", headers=auth).status_code == 400
    assert httpx.post(url, content=b'[{"type": "like", "org": "\xff"}]', headers=auth).status_code == 400
    assert httpx.post(url, content=b"42", headers=auth).status_code == 400
    too_many = httpx.post(url, json=[{}] * 1001, headers=auth)
    assert too_many.status_code == 413 and "at most 1,000" in too_many.json()["detail"]
    assert httpx.post(url, content=b"[" + b" " * (5 * 1024 * 1024) + b"]", headers=auth).status_code == 413


def test_the_openapi_page_documents_http_ingest(live_server: LiveServer) -> None:
    spec = httpx.get(f"{live_server.url}/api/openapi.json").json()
    post = spec["paths"]["/api/events"]["post"]
    body = post["requestBody"]["content"]["application/json"]
    assert {"array", "object"} <= set(body["examples"])
    assert "type" in body["schema"]["anyOf"][0]["items"]["properties"]
    assert {"200", "401", "413"} <= set(post["responses"])
    assert httpx.get(f"{live_server.url}/api/docs").status_code == 200


# -- crashes and floods ------------------------------------------------------------------


def test_kill_9_mid_stream_then_resending_everything_stores_each_acknowledged_event_once(fresh_server: LiveServer) -> None:
    members = roll(fresh_server)
    events = study_events(members, 20_000, f"crash-{uuid.uuid4().hex[:8]}")
    frames = frames_of(events, 500)
    acknowledged: set[str] = set()

    async def stream(kill_after: int | None) -> None:
        async with connect(ws_url(fresh_server), max_size=None, compression=None) as ws:
            for frame in frames:
                await ws.send(frame)
            for k, frame in enumerate(frames):
                answer = orjson.loads(await ws.recv())
                assert answer["seq"] == k + 1 and not answer["rejected"]
                acknowledged.update(e["id"] for e in orjson.loads(frame)["events"])
                if kill_after is not None and k + 1 == kill_after:
                    threading.Thread(target=fresh_server.kill).start()

    with pytest.raises((ConnectionClosed, OSError)):
        asyncio.run(stream(kill_after=5))
    assert 5 * 500 <= len(acknowledged) < len(events)
    fresh_server.start()
    assert set(stored_ids(fresh_server)) >= acknowledged
    asyncio.run(stream(kill_after=None))

    ids = stored_ids(fresh_server)
    assert len(ids) == len(set(ids)) == len(events)
    assert events_total(fresh_server) == stored_count(fresh_server) == len(events)


def stored_ids(server: LiveServer) -> list[str]:
    engine = create_engine(server.db_url)
    with engine.connect() as conn:
        ids = conn.execute(text("SELECT event_id FROM events")).scalars().all()
    engine.dispose()
    return list(ids)


def test_a_flood_is_paced_by_the_acknowledgements_and_memory_stays_bounded(live_server: LiveServer) -> None:
    members = roll(live_server)
    frames = frames_of(study_events(members, 300_000, f"flood-{uuid.uuid4().hex[:8]}", title="学" * 150), 1000)
    assert live_server.proc is not None
    rss_before = rss_mb(live_server.proc.pid)
    ahead: list[int] = []

    async def flood() -> int:
        accepted = 0
        async with connect(ws_url(live_server), max_size=None, compression=None) as ws:
            sent = 0

            async def pour() -> None:
                nonlocal sent
                for frame in frames:
                    await ws.send(frame)  # waits while the server does not read: that is the backpressure
                    sent += 1

            pourer = asyncio.create_task(pour())
            for answered in range(1, len(frames) + 1):
                accepted += orjson.loads(await ws.recv())["accepted"]
                ahead.append(sent - answered)
            await pourer
        return accepted

    assert asyncio.run(flood()) == 300_000
    assert max(ahead) < len(frames) // 2, f"the sender ran {max(ahead)} frames ahead of the answers"
    assert rss_mb(live_server.proc.pid) - rss_before < 300


# -- the writer on PostgreSQL ----------------------------------------------------------------


@pytest.fixture
def postgres_ingestor(postgres_url: str) -> Iterator[tuple[Ingestor, list[Any]]]:
    engine = open_store(postgres_url)
    with engine.begin() as conn:
        conn.execute(insert(Organisation), [
            {"id": 1, "code": "TOP", "name": "top", "kind": "committee", "parent_id": None, "level": 0, "path": "/1/"},
            {"id": 2, "code": "BR", "name": "branch", "kind": "branch", "parent_id": 1, "level": 1, "path": "/1/2/"},
        ])
        conn.execute(insert(Member), [
            {"id": 1, "code": "M1", "name": "甲", "org_id": 2, "stage": "full", "gender": "F", "ethnicity": "汉族",
             "birth_year": 1980, "education": "bachelor", "occupation": "staff", "join_date": dt.date(2005, 7, 1)},
        ])
    bus = InProcessBus()
    published: list[Any] = []
    bus.subscribe(published.extend)
    ingestor = Ingestor(engine, OrgTree.load(engine), bus)
    yield ingestor, published
    ingestor.close()
    engine.dispose()


def test_the_writer_is_idempotent_on_postgresql(postgres_ingestor: tuple[Ingestor, list[Any]]) -> None:
    ingestor, published = postgres_ingestor
    batch = [{"id": f"pg-{i}", "type": "study", "org": "BR", "member": "M1", "data": {"points": 2, "title": "学习"}} for i in range(1200)]

    async def scenario() -> list[tuple[int, int, int]]:
        results = await asyncio.gather(ingestor.submit(batch[:600]), ingestor.submit(batch[300:900] + batch[:1]))
        again = await ingestor.submit(batch[900:] + batch[:10] + [{"type": "like", "org": "BR"}])
        return [(r.accepted, r.duplicates, len(r.rejected)) for r in (*results, again)]

    assert asyncio.run(scenario()) == [(600, 0, 0), (300, 301, 0), (301, 10, 0)]
    assert len(published) == 1201 and len({e.event_id for e in published}) == 1201
    assert [e.seq for e in published] == sorted(e.seq for e in published)
