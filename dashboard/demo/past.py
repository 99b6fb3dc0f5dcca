"""Where the stored past left off, so the live simulator continues it without a seam.

Read once when the demo's feed starts (``LiveSimulator``): the transfers the
past left open, who has paid this month's dues, which branches held which
meeting this period (``PastState``), and how many events the past had in its
last hour (``PastPace``), the rate the feed starts at. docs/simulator.md,
"Continuing the past".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import orjson
from sqlalchemy import Engine, func, select

from dashboard.demo.simulator import SHANGHAI, slot_weights
from dashboard.store.models import Event, Member

DAY_S = 86_400.0
HOUR_S = 3600.0
TRANSFER_OVERDUE_S = 30 * DAY_S
# A past ending longer ago than this is not continued: the feed starts at its own rate.
RECENT_PAST_S = DAY_S


@dataclass(frozen=True, slots=True)
class OpenTransfer:
    """A transfer the past left open: its last step and when that was."""

    code: str
    member: str  # member code
    from_org: str
    to_org: str
    reason: str
    step: str  # "requested" or "approved"
    opened: float  # epoch seconds of the request
    last: float  # epoch seconds of the last step


@dataclass
class PastState:
    """What the simulator's own bookkeeping must start from."""

    transfers: list[OpenTransfer] = field(default_factory=list)
    dues_paid: set[str] = field(default_factory=set)  # member codes who paid for the current month
    meetings: list[tuple[int, str, float]] = field(default_factory=list)  # (organisation id, kind, epoch) this year

    @classmethod
    def load(cls, engine: Engine, now: float) -> PastState:
        """Read the store's transfers, this month's dues and this year's meetings up to ``now``."""
        local = dt.datetime.fromtimestamp(now, SHANGHAI)
        year_start = dt.datetime(local.year, 1, 1, tzinfo=SHANGHAI).timestamp()
        month_start = dt.datetime(local.year, local.month, 1, tzinfo=SHANGHAI).timestamp()
        month = f"{local.year:04d}-{local.month:02d}"
        until = int(now * 1000)
        state = cls()
        with engine.connect() as conn:
            codes = dict(conn.execute(select(Member.id, Member.code)).all())
            transfers = conn.execute(
                select(Event.type, Event.ts_ms, Event.member_id, Event.data)
                .where(Event.type.in_(("transfer_requested", "transfer_approved", "transfer_rejected", "transfer_completed")))
                .where(Event.ts_ms < until)
                .order_by(Event.seq)
            ).all()
            # Dues for this month may be paid in advance (late last month): two months are read.
            dues = conn.execute(
                select(Event.member_id, Event.data)
                .where(Event.type == "dues_paid", Event.ts_ms >= int((month_start - 31 * DAY_S) * 1000), Event.ts_ms < until)
            ).all()
            meetings = conn.execute(
                select(Event.org_id, Event.ts_ms, Event.data)
                .where(Event.type == "meeting_held", Event.ts_ms >= int(year_start * 1000), Event.ts_ms < until)
            ).all()
        state.transfers = _open_transfers(transfers, codes)
        state.dues_paid = {codes[m] for m, data in dues if m in codes and _data(data).get("month") == month}
        state.meetings = [(int(org), str(_data(data).get("kind")), ts / 1000) for org, ts, data in meetings]
        return state


def _data(text: str | None) -> dict[str, object]:
    try:
        value = orjson.loads(text) if text else {}
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _open_transfers(rows: list, codes: dict[int, str]) -> list[OpenTransfer]:  # type: ignore[type-arg]
    """Transfers whose last stored step is a request or an approval, in the order they were opened."""
    found: dict[str, OpenTransfer] = {}
    for kind, ts_ms, member_id, text in rows:
        data = _data(text)
        code = data.get("transfer")
        if not isinstance(code, str):
            continue
        if kind in ("transfer_rejected", "transfer_completed"):
            found.pop(code, None)
            continue
        if member_id not in codes:
            continue
        seen = found.get(code)
        found[code] = OpenTransfer(
            code=code,
            member=codes[member_id],
            from_org=str(data.get("from_org")),
            to_org=str(data.get("to_org")),
            reason=str(data.get("reason") or ""),
            step="approved" if kind == "transfer_approved" else "requested",
            opened=seen.opened if seen else ts_ms / 1000,
            last=ts_ms / 1000,
        )
    return list(found.values())


def _weight(epoch: float) -> float:
    """The model's total weight of activity at a moment (the daily rhythm and the calendar)."""
    return sum(slot_weights(epoch).values())


@dataclass(frozen=True, slots=True)
class PastPace:
    """The stored past's event rate in its last hour, carried forward along the model's daily rhythm.

    ``rate_at(t)`` = the last hour's events per second × weight(t) / weight(the middle of that hour):
    the live feed starts at the density the past ended with and then rises and falls through the day
    as the past did.
    """

    per_s: float
    at: float  # the middle of the measured hour, epoch seconds
    last: float  # the last stored event, epoch seconds: the live feed continues from here

    @classmethod
    def measure(cls, engine: Engine, now: float) -> PastPace | None:
        """The pace of the hour before the last stored event, if that event is recent; else None."""
        with engine.connect() as conn:
            last_ms = conn.execute(select(func.max(Event.ts_ms)).where(Event.ts_ms <= int(now * 1000))).scalar()
            if last_ms is None or now - last_ms / 1000 > RECENT_PAST_S:
                return None
            count = conn.execute(
                select(func.count()).select_from(Event).where(Event.ts_ms > last_ms - int(HOUR_S * 1000), Event.ts_ms <= last_ms)
            ).scalar_one()
        if not count:
            return None
        return cls(per_s=count / HOUR_S, at=last_ms / 1000 - HOUR_S / 2, last=last_ms / 1000)

    def rate_at(self, epoch: float) -> float:
        return self.per_s * _weight(epoch) / _weight(self.at)
