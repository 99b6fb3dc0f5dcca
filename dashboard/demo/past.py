"""Where the stored past left off, so the live simulator continues it without a seam.

Read once when the demo's feed starts (``LiveSimulator``): the transfers the
past left open, who has paid this month's dues, which branches held which
meeting this period (``PastState``), and how many events the past had at
each hour of its last whole days (``PastPace``), the rates the feed keeps.
docs/simulator.md, "Continuing the past".
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Engine, func, select

from dashboard.demo.simulator import SHANGHAI
from dashboard.store.models import Event, Member

DAY_S = 86_400.0
HOUR_S = 3600.0
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


def _open_transfers(rows: Sequence[Any], codes: dict[int, str]) -> list[OpenTransfer]:
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


PROFILE_DAYS = 14  # whole days before today whose hours make the pace
LEVEL_FADES_S = HOUR_S  # how fast the last hour's own level gives way to the average hour's
LEVEL_BOUNDS = (0.25, 4.0)


@dataclass(frozen=True, slots=True)
class PastPace:
    """The stored past's events per second at each local hour — of working days and of weekends
    apart — averaged over its last PROFILE_DAYS whole days: the rate the live feed keeps, so that
    it has the past's density at every hour of the day and the trends do not step where they join.

    ``rate_at(t)`` interpolates between the middles of the hours, so the rate never jumps on the hour.
    A day is busier or quieter than the average one (meetings come in bursts: the same hour of a
    fortnight's working days ranges from a quarter to one and a half times the average), so the feed starts at the level of the past's last hour —
    ``level``, its events over what the average gave that hour — and fades to the average
    (e^(-t/1 h)): no step where they join, the past's density at every hour after that.
    """

    per_hour: tuple[tuple[float, ...], tuple[float, ...]]  # [weekend][local hour] events per second
    last: float  # the last stored event, epoch seconds: the live feed continues from here
    level: float = 1.0

    @classmethod
    def measure(cls, engine: Engine, now: float) -> PastPace | None:
        """The pace of the past, if it reaches up to the last day before ``now``; else None."""
        today = dt.datetime.fromtimestamp(now, SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
        hi = int(today.timestamp() * 1000)
        lo = hi - PROFILE_DAYS * int(DAY_S * 1000)
        hour = Event.ts_ms // 3_600_000
        with engine.connect() as conn:
            last_ms = conn.execute(select(func.max(Event.ts_ms)).where(Event.ts_ms <= int(now * 1000))).scalar()
            if last_ms is None or now - last_ms / 1000 > RECENT_PAST_S:
                return None
            counts = conn.execute(
                select(hour, func.count()).where(Event.ts_ms >= lo, Event.ts_ms < hi).group_by(hour)
            ).all()
            last_hour = conn.execute(
                select(func.count()).select_from(Event).where(Event.ts_ms > last_ms - int(HOUR_S * 1000), Event.ts_ms <= last_ms)
            ).scalar_one()
        if not counts:
            return None
        sums = [[0.0] * 24, [0.0] * 24]
        for h, n in counts:
            local = dt.datetime.fromtimestamp(int(h) * HOUR_S, SHANGHAI)
            sums[local.weekday() >= 5][local.hour] += n
        days = [0, 0]
        for d in range(PROFILE_DAYS):
            days[(today - dt.timedelta(days=d + 1)).weekday() >= 5] += 1
        per_hour = tuple(tuple(s / max(1, n) / HOUR_S for s in sums[w]) for w, n in enumerate(days))
        average = cls(per_hour=per_hour, last=last_ms / 1000)  # type: ignore[arg-type]
        expected = average.average_between(average.last - HOUR_S, average.last) * HOUR_S
        level = min(max(last_hour / expected, LEVEL_BOUNDS[0]), LEVEL_BOUNDS[1]) if expected > 0 else 1.0
        return cls(per_hour=average.per_hour, last=average.last, level=level)

    def average_between(self, start: float, end: float, step: float = 60.0) -> float:
        """The average hour's events per second from ``start`` to ``end`` (the level left out)."""
        moments = [start + step * (i + 0.5) for i in range(max(1, int((end - start) / step)))]
        return sum(self._average_at(t) for t in moments) / len(moments)

    def _at_hour(self, start: float) -> float:
        local = dt.datetime.fromtimestamp(start, SHANGHAI)
        return self.per_hour[local.weekday() >= 5][local.hour]

    def rate_at(self, epoch: float) -> float:
        """Events per second at a moment: the average hour's, at the last hour's level fading away."""
        fade = math.exp(-max(0.0, epoch - self.last) / LEVEL_FADES_S)
        return self._average_at(epoch) * (1.0 + (self.level - 1.0) * fade)

    def _average_at(self, epoch: float) -> float:
        """Between the rates of the hours whose middles the moment lies between."""
        hour_start = epoch - epoch % HOUR_S
        middle = hour_start + HOUR_S / 2
        other = middle + (HOUR_S if epoch >= middle else -HOUR_S)
        share = abs(epoch - middle) / HOUR_S
        return (1 - share) * self._at_hour(middle) + share * self._at_hour(other)
