"""Taking events in: check a frame, store its good events durably and once, publish them.

The path of a frame::

    EventChecker (a frame of valid events: parsed and checked in one
        pydantic-core call; any other frame: parse_frame, then event by event,
        a rejection with its index and reason per bad event; then org and
        member codes to ids, scope and clock rules)
      → Ingestor queue (bounded: a full queue makes senders wait)
      → EventWriter on one writer thread (group commit: every frame that
        arrived while the previous transaction ran goes into the next one;
        the unique key hash drops ids already stored)
      → bus (only the new events, in seq order) → the frame's answer.

A frame is answered only after the transaction that holds its events has
committed, so an acknowledged event survives a crash of the process.
Idempotency: an event's id is hashed to 64 bits (``key_hash``) under a unique
index; a repeated id — in the same frame, in frames merged into one
transaction, or after a restart — is counted as a duplicate and not published.
Events sent without an id get a server-assigned one and no key hash.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import itertools
import logging
import secrets
import time
from collections import deque
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Annotated, Any, Literal, Union

import numpy as np
import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model
from sqlalchemy import Connection, Engine, bindparam, select, update

from dashboard.domain.events import DATA_MODELS, MEMBER_REQUIRED, EventIn, EventType, StoredEvent, TransferData
from dashboard.live.bus import Bus
from dashboard.store.bulk import fetch_rows
from dashboard.store.models import Member, RosterEdits
from dashboard.store.tree import OrgTree

log = logging.getLogger(__name__)

MAX_EVENTS_PER_FRAME = 1_000
MAX_FRAME_BYTES = 4 * 1024 * 1024
MAX_FUTURE_MS = 5 * 60 * 1000
PENDING_EVENTS_LIMIT = 20_000
GROUP_COMMIT_EVENTS = 10_000
ROWS_PER_STATEMENT = 500
MAX_ERRORS_PER_EVENT = 3

EVENT_COLUMNS = ("key_hash", "event_id", "type", "ts_ms", "org_id", "member_id", "data")
STORE_FAILED = "the events could not be stored: the store is unavailable at the moment; none were kept — send the frame again"
SHUTTING_DOWN = "the server is shutting down; send the frame again after it restarts"
KNOWN_TYPES = ", ".join(t.value for t in EventType)
TYPE_NAMES: dict[str, str] = {t: t.value for t in EventType}  # EventType member or its plain value → the value


class FrameError(ValueError):
    """The whole frame is refused: not JSON, not a list of events, or too many events."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


class IngestUnavailable(RuntimeError):
    """The events could not be stored now (store failure, shutdown); nothing of the frame was kept."""


@dataclass
class IngestResult:
    accepted: int
    duplicates: int
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected}


def key_hash(text: str) -> int:
    """A signed 64-bit hash of an id or code (fits BIGINT and int64)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)


def _json_kind(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return orjson.dumps(value).decode()
    return {dict: "an object", list: "an array", str: "a string"}.get(type(value), "a number")


def parse_frame(payload: str | bytes) -> list[Any]:
    """The raw events of one frame: an event, a JSON array of events or ``{"events": [...]}``.

    The transport limits the frame's size (``MAX_FRAME_BYTES``) before this is called.
    """
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise FrameError(f"not valid JSON: {exc}") from None
    if isinstance(doc, list):
        events = doc
    elif isinstance(doc, dict) and "events" in doc:
        events = doc["events"]
        if not isinstance(events, list):
            raise FrameError(f'"events" must be an array of events, got {_json_kind(events)}')
        extra = sorted(set(doc) - {"events"})
        if extra:
            raise FrameError(f'unknown field(s) beside "events": {", ".join(extra)}')
    elif isinstance(doc, dict):
        events = [doc]
    else:
        raise FrameError(f'expected an event, an array of events or {{"events": [...]}}, got {_json_kind(doc)}')
    if len(events) > MAX_EVENTS_PER_FRAME:
        raise FrameError(
            f"the frame holds {len(events):,} events; at most {MAX_EVENTS_PER_FRAME:,} per frame — split it",
            too_large=True,
        )
    return events


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _say(err: Any) -> str:
    """One pydantic error in plain words."""
    kind, ctx, value = err["type"], err.get("ctx", {}), err.get("input")
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        op = {"greater_than_equal": ("≥", "ge"), "greater_than": (">", "gt"),
              "less_than_equal": ("≤", "le"), "less_than": ("<", "lt")}[kind]
        bound = ctx[op[1]]
        bound = int(bound) if isinstance(bound, float) and bound.is_integer() else bound
        return f"must be {op[0]} {bound} (got {_shown(value)})"
    if kind == "string_too_long":
        return f"at most {ctx['max_length']} characters (got {len(value)})"
    if kind == "string_too_short":
        return "must not be empty" if ctx.get("min_length") == 1 else f"at least {ctx['min_length']} characters"
    if kind == "string_type":
        return f"must be a string, got {_json_kind(value)}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number (got {_shown(value)})"
    if kind in ("float_type", "float_parsing", "finite_number"):
        return f"must be a number (got {_shown(value)})"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a JSON object, got {_json_kind(value)}"
    if kind == "enum":
        return f"{_shown(value)} is not one of {ctx['expected']}"
    if kind.startswith("datetime") or kind.startswith("timezone"):
        return f"{_shown(value)} is not a date-time; use ISO 8601 with an offset, e.g. 2026-11-27T09:30:00+08:00"
    if kind == "string_pattern_mismatch":
        return f"{_shown(value)} does not have the expected form {ctx['pattern']}"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))  # our own validators already speak plainly
    return str(err["msg"])


def describe(exc: ValidationError, prefix: str = "") -> str:
    """A pydantic ValidationError flattened into one short line: ``field: reason; field: reason``."""
    errors = exc.errors(include_url=False)
    parts = []
    for err in errors[:MAX_ERRORS_PER_EVENT]:
        where = prefix + ".".join(str(p) for p in err["loc"])
        said = _say(err)
        parts.append(said if not where or said.startswith(f"{where} ") else f"{where}: {said}")
    if len(errors) > MAX_ERRORS_PER_EVENT:
        parts.append(f"and {len(errors) - MAX_ERRORS_PER_EVENT} more")
    return "; ".join(parts)


class MemberIndex:
    """Member code → id for a roll of any size: sorted 64-bit code hashes beside the ids.

    About 16 bytes a member (16 MB for a million) instead of ~150 MB for a
    dict of strings. The hash is Python's own string hash: it differs between
    processes, which is fine for an index built in this one, and it is cached
    on each string. The rare codes whose hashes collide are kept exactly in a
    small dict.
    """

    def __init__(self, codes_and_ids: Sequence[tuple[str, int]], org_of: Mapping[int, int] | None = None) -> None:
        org_of = org_of or {}
        self._build(
            [code for code, _ in codes_and_ids],
            np.fromiter((i for _, i in codes_and_ids), dtype=np.int64, count=len(codes_and_ids)),
            np.fromiter(org_of.keys(), dtype=np.int64, count=len(org_of)),
            np.fromiter(org_of.values(), dtype=np.int64, count=len(org_of)),
        )

    def _build(self, codes: Sequence[str], ids: np.ndarray, placed: np.ndarray, orgs: np.ndarray) -> None:
        """Index ``codes`` (with their ``ids``); the members ``placed`` are in ``orgs``."""
        # The roll's member id → organisation id (-1: not known); 8 bytes a member.
        self._org_of = np.full(int(placed.max()) + 1 if len(placed) else 0, -1, dtype=np.int64)
        self._org_of[placed] = orgs
        hashes = np.fromiter(map(hash, codes), dtype=np.int64, count=len(codes))
        order = np.argsort(hashes, kind="stable")
        self._hashes, self._ids = hashes[order], ids[order]
        clash = np.zeros(len(hashes), dtype=bool)
        clash[1:] = self._hashes[1:] == self._hashes[:-1]
        clash[:-1] |= clash[1:]
        clashing = set(self._hashes[clash].tolist())
        self._exact = {code: int(i) for code, i in zip(codes, ids.tolist()) if hash(code) in clashing} if clashing else {}

    @classmethod
    def load(cls, engine: Engine) -> MemberIndex:
        """The roll's codes, ids and organisations in one read through the driver (``fetch_rows``)."""
        rows = fetch_rows(engine, "SELECT code, id, org_id FROM members")
        codes, ids, orgs = zip(*rows) if rows else ((), (), ())
        index = cls.__new__(cls)
        id_array = np.fromiter(ids, dtype=np.int64, count=len(ids))
        index._build(codes, id_array, id_array, np.fromiter(orgs, dtype=np.int64, count=len(orgs)))
        return index

    def __len__(self) -> int:
        return len(self._hashes)

    def org_of(self, member_id: int) -> int | None:
        """The organisation the roll has the member in (after the transfers stored since it was loaded)."""
        if 0 <= member_id < len(self._org_of) and self._org_of[member_id] >= 0:
            return int(self._org_of[member_id])
        return None

    def move(self, member_id: int, org_id: int) -> None:
        """A completed transfer, once stored: the member is now on the roll of ``org_id``."""
        if 0 <= member_id < len(self._org_of):
            self._org_of[member_id] = org_id

    def lookup(self, codes: Sequence[str]) -> list[int | None]:
        """The id of each code, None where the code is not on the roll."""
        if not codes:
            return []
        wanted = np.fromiter((hash(c) for c in codes), dtype=np.int64, count=len(codes))
        pos = np.searchsorted(self._hashes, wanted).clip(0, max(len(self._hashes) - 1, 0))
        if len(self._hashes):
            found = self._hashes[pos] == wanted
            ids = np.where(found, self._ids[pos], -1).tolist()
        else:
            ids = [-1] * len(codes)
        out: list[int | None] = [None if i < 0 else i for i in ids]
        if self._exact:
            for k, code in enumerate(codes):
                if code in self._exact:
                    out[k] = self._exact[code]
        return out


@dataclass(slots=True)
class Row:
    """A checked event: its column values for the events table, and its data for the bus."""

    values: tuple[Any, ...]  # in EVENT_COLUMNS order
    data: dict[str, Any]
    moves_to: int | None = None  # a transfer_completed: the organisation id the member moves to

    @property
    def member_id(self) -> int | None:
        return self.values[5]

    @property
    def event_id(self) -> str:
        return self.values[1]

    @property
    def key_hash(self) -> int | None:
        return self.values[0]

    def stored(self, seq: int) -> StoredEvent:
        _, event_id, type_, ts_ms, org_id, member_id, _ = self.values
        return StoredEvent(seq, event_id, type_, ts_ms, org_id, member_id, self.data)


class ServerIds:
    """Ids for events sent without one: a random per-process prefix and a counter, unique across restarts."""

    def __init__(self) -> None:
        self._prefix = f"srv-{secrets.token_hex(6)}-"
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter):x}"


def _typed_event(etype: EventType, data_model: type[BaseModel]) -> type[EventIn]:
    """``EventIn`` with ``type`` fixed and ``data`` checked by the type's model (the shape of a valid event)."""
    optional = all(not f.is_required() for f in data_model.model_fields.values())
    data_field = (data_model, Field(default_factory=data_model)) if optional else (data_model, ...)
    return create_model(f"{etype.name}_event", __base__=EventIn, type=(Literal[etype.value], ...), data=data_field)


_TypedEvent = Annotated[Union[tuple(_typed_event(t, m) for t, m in DATA_MODELS.items())], Field(discriminator="type")]  # noqa: UP007


class _EventsObject(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: Annotated[list[_TypedEvent], Field(max_length=MAX_EVENTS_PER_FRAME)]


# Frames of valid events, parsed and checked in one call each (pydantic-core, no Python per field).
# Any error sends the frame down the slow path, which finds each bad event and says why.
_VALID_ARRAY = TypeAdapter(Annotated[list[_TypedEvent], Field(max_length=MAX_EVENTS_PER_FRAME)])
_VALID_OBJECT = TypeAdapter(Annotated[Union[_EventsObject, _TypedEvent], Field(union_mode="left_to_right")])  # noqa: UP007


def _valid_events(payload: str | bytes) -> list[EventIn] | None:
    """The events of a frame in which every event is valid; None for any other frame."""
    first = payload[:1]
    try:
        if first in ("[", b"["):
            return _VALID_ARRAY.validate_json(payload)
        if first in ("{", b"{"):
            valid = _VALID_OBJECT.validate_json(payload)
            return valid.events if isinstance(valid, _EventsObject) else [valid]
    except ValidationError:
        pass
    return None


class EventChecker:
    """Checks events against the catalogue, the organisation tree and the member roll."""

    def __init__(self, tree: OrgTree, members: MemberIndex) -> None:
        self.tree = tree
        self.members = members
        self._ids = ServerIds()

    def check_frame(
        self, payload: str | bytes, now_ms: int, scope_org_id: int | None = None
    ) -> tuple[list[Row], list[dict[str, Any]]]:
        """Like ``check`` for a frame's JSON text; FrameError if the frame itself is unusable."""
        events = _valid_events(payload)
        if events is None:
            return self.check(parse_frame(payload), now_ms, scope_org_id)
        return self._resolve([(i, e, e.data) for i, e in enumerate(events)], [], now_ms, scope_org_id)

    def check(
        self, raw_events: Sequence[Any], now_ms: int, scope_org_id: int | None = None
    ) -> tuple[list[Row], list[dict[str, Any]]]:
        """The good events as rows and the rejected ones as ``{"index", "error"}``, in frame order."""
        rejected: list[dict[str, Any]] = []
        valid: list[tuple[int, EventIn, BaseModel]] = []
        for index, raw in enumerate(raw_events):
            if not isinstance(raw, dict):
                rejected.append({"index": index, "error": f"an event must be a JSON object, got {_json_kind(raw)}"})
                continue
            try:
                event = EventIn.model_validate(raw)
            except ValidationError as exc:
                rejected.append({"index": index, "error": self._envelope_error(exc, raw)})
                continue
            try:
                valid.append((index, event, DATA_MODELS[event.type].model_validate(event.data)))
            except ValidationError as exc:
                rejected.append({"index": index, "error": describe(exc, prefix="data.")})
        return self._resolve(valid, rejected, now_ms, scope_org_id)

    def _resolve(
        self,
        valid: list[tuple[int, EventIn, BaseModel]],
        rejected: list[dict[str, Any]],
        now_ms: int,
        scope_org_id: int | None,
    ) -> tuple[list[Row], list[dict[str, Any]]]:
        """Codes to ids, the rules beyond the schema (scope, roll, transfers, clock), and the rows."""
        by_code = self.tree.by_code
        member_ids = iter(self.members.lookup([e.member for _, e, _ in valid if e.member is not None]))
        rows: list[Row] = []
        latest_ms = now_ms + MAX_FUTURE_MS
        for index, event, data_model in valid:
            member, ts, event_id = event.member, event.ts, event.id
            member_id = next(member_ids) if member is not None else None
            org_id = by_code.get(event.org)
            ts_ms = now_ms if ts is None else round(ts.timestamp() * 1000)
            moves_to: int | None = None
            if org_id is None:
                error: str | None = f"unknown organisation {event.org!r}"
            elif (error := self._outside(event.org, org_id, scope_org_id)) is not None:
                pass
            elif member is None and event.type in MEMBER_REQUIRED:
                error = f"member: required for a {TYPE_NAMES[event.type]} event"
            elif member is not None and (member_id is None or not self._member_in(member_id, scope_org_id)):
                error = f"unknown member {member!r}"
            elif isinstance(data_model, TransferData):
                error, moves_to = self._transfer_error(event, org_id, member_id, data_model, scope_org_id)
            elif member_id is not None and not self._member_in(member_id, org_id):
                error = f"member {member!r} is not on the roll of {event.org!r} or an organisation under it"
            if error is None and ts is not None and ts_ms > latest_ms:
                error = self._future_error(ts, now_ms)
            if error is not None:
                rejected.append({"index": index, "error": error})
                continue
            data = data_model.model_dump(mode="json", exclude_none=True)
            values = (
                None if event_id is None else key_hash(event_id),
                self._ids.next() if event_id is None else event_id,
                TYPE_NAMES[event.type],
                ts_ms,
                org_id,
                member_id,
                orjson.dumps(data).decode(),
            )
            rows.append(Row(values, data, moves_to))
        rejected.sort(key=lambda r: r["index"])
        return rows, rejected

    def _outside(self, code: str, org_id: int, scope_org_id: int | None) -> str | None:
        """Why an organisation an event names is refused for this token's scope; None if it is inside."""
        if scope_org_id is None or self.tree.is_within(org_id, scope_org_id):
            return None
        return f"organisation {code!r} is outside this token's scope ({self.tree.nodes[scope_org_id].code})"

    def _member_in(self, member_id: int, org_id: int | None) -> bool:
        """The roll has the member in ``org_id``'s subtree (None: the whole tree)."""
        if org_id is None:
            return True
        home = self.members.org_of(member_id)
        return home is not None and home in self.tree.nodes and self.tree.is_within(home, org_id)

    def _transfer_error(
        self, event: EventIn, org_id: int, member_id: int | None, data: TransferData, scope_org_id: int | None
    ) -> tuple[str | None, int | None]:
        """A transfer names two organisations: both known and in scope, the event's one of them, the member
        on the roll of the one left (or, for a completion sent again, of the one joined).

        Returns the error, or None and the organisation a completed transfer moves the member to.
        """
        ends: dict[str, int] = {}
        for field_name in ("from_org", "to_org"):
            code = getattr(data, field_name)
            end = self.tree.by_code.get(code)
            if end is None:
                return f"data.{field_name}: unknown organisation {code!r}", None
            outside = self._outside(code, end, scope_org_id)
            if outside is not None:
                return f"data.{field_name}: {outside}", None
            ends[field_name] = end
        if org_id not in ends.values():
            return f"org {event.org!r} must be the transfer's from_org or to_org", None
        completed = event.type == EventType.transfer_completed
        homes = [ends["from_org"], ends["to_org"]] if completed else [ends["from_org"]]
        if member_id is not None and not any(self._member_in(member_id, home) for home in homes):
            return f"member {event.member!r} is not on the roll of {data.from_org!r} (the organisation left)", None
        return None, ends["to_org"] if completed else None

    @staticmethod
    def _future_error(ts: dt.datetime, now_ms: int) -> str:
        now = dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC).isoformat(timespec="seconds")
        return (
            f"ts {ts.isoformat()} is more than 5 minutes ahead of the server's clock (now {now}); "
            "check the sender's clock"
        )

    @staticmethod
    def _envelope_error(exc: ValidationError, raw: dict[str, Any]) -> str:
        for err in exc.errors(include_url=False):
            if err["loc"] == ("type",) and err["type"] == "enum":
                return f"unknown type {_shown(raw.get('type'))}; known types: {KNOWN_TYPES}"
        return describe(exc)


class EventWriter:
    """Appends checked rows to the events table; one call is one transaction.

    A multi-row ``INSERT … ON CONFLICT (key_hash) DO NOTHING RETURNING seq,
    event_id`` (SQLite ≥ 3.35 and PostgreSQL) both drops ids already stored
    and tells which rows are new and their seq.
    """

    def __init__(self, engine: Engine) -> None:
        if not engine.dialect.insert_returning:
            raise RuntimeError(f"the {engine.dialect.name} database is too old for INSERT … RETURNING (SQLite ≥ 3.35 needed)")
        self._engine = engine
        mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        self._values = "(" + ", ".join([mark] * len(EVENT_COLUMNS)) + ")"
        self._statements: dict[int, str] = {}

    def _statement(self, rows: int) -> str:
        sql = self._statements.get(rows)
        if sql is None:
            sql = (
                f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES "
                + ", ".join([self._values] * rows)
                + " ON CONFLICT (key_hash) DO NOTHING RETURNING seq, event_id"
            )
            self._statements[rows] = sql
        return sql

    @staticmethod
    def _move(conn: Connection, moves: list[dict[str, int | None]]) -> None:
        """Move members; the edits this makes to the roll are the server's own (``roster_edits.own``).

        A snapshot's tail replays these transfers, so they must not make the
        snapshot look counted over another roll (dashboard/live/aggregator/snapshot.py).
        The counter row is locked first, so no other writer's edit lands between.
        """
        locked = select(RosterEdits.n).where(RosterEdits.id == 1)
        before = conn.execute(locked.with_for_update()).scalar_one()
        conn.execute(update(Member).where(Member.id == bindparam("member")).values(org_id=bindparam("org")), moves)
        conn.execute(update(RosterEdits).where(RosterEdits.id == 1).values(own=RosterEdits.own + RosterEdits.n - before))

    def write(self, frames: Sequence[Sequence[Row]]) -> list[list[StoredEvent]]:
        """Store the rows of several frames in one transaction; per frame, the events that were new."""
        seen: set[int] = set()
        fresh: list[list[Row]] = []
        for rows in frames:
            kept = []
            for row in rows:
                if row.key_hash is None:
                    kept.append(row)
                elif row.key_hash not in seen:
                    seen.add(row.key_hash)
                    kept.append(row)
            fresh.append(kept)
        todo = [row for rows in fresh for row in rows]
        seq_of: dict[str, int] = {}
        with self._engine.begin() as conn:
            for start in range(0, len(todo), ROWS_PER_STATEMENT):
                chunk = todo[start : start + ROWS_PER_STATEMENT]
                params = tuple(itertools.chain.from_iterable(row.values for row in chunk))
                for seq, event_id in conn.exec_driver_sql(self._statement(len(chunk)), params):
                    seq_of[event_id] = seq
            moves = [{"member": row.member_id, "org": row.moves_to} for row in todo
                     if row.moves_to is not None and row.event_id in seq_of]
            if moves:  # the roll follows completed transfers in the same transaction: store and screens agree
                self._move(conn, moves)
        return [
            [row.stored(seq_of[row.event_id]) for row in rows if row.event_id in seq_of]
            for rows in fresh
        ]


@dataclass
class _Job:
    rows: list[Row]
    rejected: list[dict[str, Any]]
    future: asyncio.Future[IngestResult]


class Ingestor:
    """Validates frames, writes them with group commit on one writer thread, publishes what is new.

    Use from one event loop (the server's). ``enqueue`` returns once the
    frame is queued — it waits while ``pending_limit`` checked events are
    already waiting for the store, which is how a flood slows its senders —
    and gives a future that resolves after commit and publication.
    """

    def __init__(self, engine: Engine, tree: OrgTree, bus: Bus, *, pending_limit: int = PENDING_EVENTS_LIMIT) -> None:
        self._engine = engine
        self._bus = bus
        self._checker = EventChecker(tree, MemberIndex.load(engine))
        self._writer = EventWriter(engine)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer")
        self._pending_limit = pending_limit
        self._pending = 0
        self._queue: deque[_Job] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._room: asyncio.Condition | None = None
        self._closed = False

    @property
    def tree(self) -> OrgTree:
        return self._checker.tree

    @tree.setter
    def tree(self, tree: OrgTree) -> None:
        """Swap in a reloaded organisation tree (after an import)."""
        self._checker.tree = tree

    @property
    def member_count(self) -> int:
        return len(self._checker.members)

    def reload_members(self) -> None:
        """Reload the member roll (after an import or new recruits). Blocking: ~1 s per million members."""
        self._checker.members = MemberIndex.load(self._engine)

    async def submit(self, raw_events: Sequence[Any], *, scope_org_id: int | None = None) -> IngestResult:
        """Check, store durably, publish the new events, then answer."""
        return await (await self.enqueue(raw_events, scope_org_id=scope_org_id))

    async def submit_frame(self, payload: str | bytes, *, scope_org_id: int | None = None) -> IngestResult:
        """``submit`` for a frame's JSON text (FrameError if the frame itself is unusable)."""
        return await (await self.enqueue_frame(payload, scope_org_id=scope_org_id))

    async def enqueue(
        self, raw_events: Sequence[Any], *, scope_org_id: int | None = None
    ) -> asyncio.Future[IngestResult]:
        """Check the events and queue the good ones for the writer; the future is the frame's answer."""
        loop = self._ready()
        rows, rejected = self._checker.check(raw_events, int(time.time() * 1000), scope_org_id)
        return await self._queue_rows(loop, rows, rejected)

    async def enqueue_frame(
        self, payload: str | bytes, *, scope_org_id: int | None = None
    ) -> asyncio.Future[IngestResult]:
        """``enqueue`` for a frame's JSON text: a frame of valid events is parsed and checked in one pass."""
        loop = self._ready()
        rows, rejected = self._checker.check_frame(payload, int(time.time() * 1000), scope_org_id)
        return await self._queue_rows(loop, rows, rejected)

    def _ready(self) -> asyncio.AbstractEventLoop:
        if self._closed:
            raise IngestUnavailable(SHUTTING_DOWN)
        return self._bind_loop()

    async def _queue_rows(
        self, loop: asyncio.AbstractEventLoop, rows: list[Row], rejected: list[dict[str, Any]]
    ) -> asyncio.Future[IngestResult]:
        future: asyncio.Future[IngestResult] = loop.create_future()
        if not rows:
            future.set_result(IngestResult(0, 0, rejected))
            return future
        await self._reserve(len(rows))
        self._queue.append(_Job(rows, rejected, future))
        assert self._wake is not None
        self._wake.set()
        return future

    def close(self) -> None:
        """Stop taking frames; frames not yet committed are answered with IngestUnavailable."""
        self._closed = True
        if self._task is not None and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._executor.shutdown(wait=True)

    def _bind_loop(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if self._loop is loop:
            return loop
        if self._loop is not None and not self._loop.is_closed():
            raise RuntimeError("the Ingestor is already serving another event loop")
        self._loop = loop
        self._wake = asyncio.Event()
        self._room = asyncio.Condition()
        self._pending = 0
        self._task = loop.create_task(self._run(), name="ingest-writer")
        return loop

    async def _reserve(self, n: int) -> None:
        assert self._room is not None
        async with self._room:
            await self._room.wait_for(lambda: self._pending == 0 or self._pending + n <= self._pending_limit)
            self._pending += n

    def _follow_moves(self, jobs: list[_Job], fresh: list[list[StoredEvent]]) -> None:
        """The checker's roll follows the completed transfers just stored (as the members table did)."""
        for job, new in zip(jobs, fresh):
            stored = {e.event_id for e in new}
            for row in job.rows:
                if row.moves_to is not None and row.member_id is not None and row.event_id in stored:
                    self._checker.members.move(row.member_id, row.moves_to)

    async def _release(self, n: int) -> None:
        assert self._room is not None
        async with self._room:
            self._pending -= n
            self._room.notify_all()

    async def _run(self) -> None:
        assert self._wake is not None
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._queue:
                    await self._commit(self._take_group())
        finally:
            self._fail(list(self._queue), IngestUnavailable(SHUTTING_DOWN))
            self._queue.clear()

    @staticmethod
    def _fail(jobs: list[_Job], error: IngestUnavailable) -> None:
        for job in jobs:
            if not job.future.done():
                job.future.set_exception(error)

    def _take_group(self) -> list[_Job]:
        jobs = [self._queue.popleft()]
        size = len(jobs[0].rows)
        while self._queue and size + len(self._queue[0].rows) <= GROUP_COMMIT_EVENTS:
            job = self._queue.popleft()
            jobs.append(job)
            size += len(job.rows)
        return jobs

    async def _commit(self, jobs: list[_Job]) -> None:
        assert self._loop is not None
        size = sum(len(job.rows) for job in jobs)
        try:
            fresh = await self._loop.run_in_executor(self._executor, self._writer.write, [job.rows for job in jobs])
        except asyncio.CancelledError:
            self._fail(jobs, IngestUnavailable(SHUTTING_DOWN))
            raise
        except Exception as exc:
            # The database's own message names its host, port, user and database: the log keeps it, the client gets none.
            log.exception("could not store a group of %d events: %s", size, exc)
            self._fail(jobs, IngestUnavailable(STORE_FAILED))
        else:
            try:
                await self._bus.async_publish(sorted(itertools.chain.from_iterable(fresh), key=attrgetter("seq")))
            except Exception:
                log.exception("publishing %d stored events failed; they are stored and will count after a restart", size)
            self._follow_moves(jobs, fresh)
            for job, new in zip(jobs, fresh):
                if not job.future.done():
                    job.future.set_result(IngestResult(len(new), len(job.rows) - len(new), job.rejected))
        finally:
            await self._release(size)
