"""Reading the roll and the event log back from the store, for a rebuild."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pandas as pd
from sqlalchemy import Engine, select

from dashboard.domain.events import StoredEvent
from dashboard.live.aggregator.members import MEMBER_COLUMNS
from dashboard.store.models import Event, Member


def _data(text: str | None) -> dict[str, Any]:
    """An event's stored JSON object; a row that does not parse to one counts as an event with no data."""
    try:
        value = orjson.loads(text) if text else {}
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def read_members(engine: Engine) -> pd.DataFrame:
    """The members table with the columns the aggregator keeps (no names or phones)."""
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(select(*(getattr(Member, c) for c in MEMBER_COLUMNS)))]
    # Plain tuples: handed SQLAlchemy rows, pandas probes each for attributes it lacks, and every miss
    # builds a KeyError message (measured: most of a 1M-member rebuild's first minute).
    return pd.DataFrame(rows, columns=list(MEMBER_COLUMNS))


def iter_stored_events(engine: Engine, chunk: int = 20_000, after_seq: int = 0) -> Iterator[list[StoredEvent]]:
    """Every stored event with seq > ``after_seq``, in seq order, ``chunk`` at a time (keyset pagination)."""
    columns = (Event.seq, Event.event_id, Event.type, Event.ts_ms, Event.org_id, Event.member_id, Event.data)
    while True:
        with engine.connect() as conn:
            rows = conn.execute(select(*columns).where(Event.seq > after_seq).order_by(Event.seq).limit(chunk)).all()
        if not rows:
            return
        yield [
            StoredEvent(seq, event_id, kind, ts_ms, org_id, member_id, _data(data))
            for seq, event_id, kind, ts_ms, org_id, member_id, data in rows
        ]
        after_seq = rows[-1][0]
