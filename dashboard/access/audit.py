"""The audit log: sign-ins, token use and every administrative action, in the store.

``record`` writes one row at once. Token use is frequent (a wall reloading, a
producer reconnecting), so ``record_use`` writes a given (actor, action,
target) at most once per ``USE_INTERVAL_S`` per process: the log shows that
and when a token was used without growing with the traffic. Which process
remembers what was written is a ``UseGate``: this process's memory by
default, Redis in a cluster (``dashboard/access/shared.py``), so a cluster
writes an entry once an interval, not once per process.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from sqlalchemy import Engine, insert, or_, select
from sqlalchemy.exc import SQLAlchemyError

from dashboard.access.tokens import TokenInfo
from dashboard.store.models import AuditEntry

log = logging.getLogger(__name__)

USE_INTERVAL_S = 600.0
MAX_REMEMBERED_USES = 50_000
FIELD_LIMITS = {"actor": 100, "action": 40, "target": 200, "address": 64}
DETAIL_LIMIT = 2000


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    ts: dt.datetime
    actor: str
    action: str
    target: str | None
    outcome: str
    address: str | None
    detail: str | None


class UseGate(Protocol):
    def first(self, key: tuple[Any, ...], interval_s: float) -> bool:
        """True if ``key`` was not let through in the last ``interval_s`` (and it is let through now)."""
        ...


class MemoryUseGate:
    """``UseGate`` in this process, bounded to the most recently used keys."""

    def __init__(self) -> None:
        self._last_use: OrderedDict[tuple[Any, ...], float] = OrderedDict()
        self._lock = threading.Lock()

    def first(self, key: tuple[Any, ...], interval_s: float) -> bool:
        now = time.monotonic()
        with self._lock:
            last = self._last_use.get(key)
            if last is not None and now - last < interval_s:
                return False
            self._last_use[key] = now
            self._last_use.move_to_end(key)
            while len(self._last_use) > MAX_REMEMBERED_USES:
                self._last_use.popitem(last=False)
        return True


def _clip(value: str | None, limit: int) -> str | None:
    return None if value is None else value[:limit]


class AuditLog:
    def __init__(self, engine: Engine, use_interval_s: float = USE_INTERVAL_S, gate: UseGate | None = None) -> None:
        self._engine = engine
        self._use_interval_s = use_interval_s
        self.gate: UseGate = gate or MemoryUseGate()

    def record(
        self,
        actor: str,
        action: str,
        *,
        target: str | None = None,
        ok: bool = True,
        address: str | None = None,
        detail: dict[str, object] | None = None,
    ) -> None:
        """Write one entry. A store that cannot take it is logged, never raised: auditing must not break a request."""
        row = {
            "ts": dt.datetime.now(dt.UTC),
            "actor": _clip(actor, FIELD_LIMITS["actor"]),
            "action": _clip(action, FIELD_LIMITS["action"]),
            "target": _clip(target, FIELD_LIMITS["target"]),
            "outcome": "ok" if ok else "refused",
            "address": _clip(address, FIELD_LIMITS["address"]),
            "detail": _clip(orjson.dumps(detail).decode(), DETAIL_LIMIT) if detail else None,
        }
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(AuditEntry).values(**row))
        except SQLAlchemyError as exc:
            log.error("audit entry %s %s not written: %s", actor, action, str(exc).splitlines()[0])

    def record_use(self, actor: str, action: str, *, target: str | None = None, ok: bool = True, address: str | None = None) -> bool:
        """Write the entry unless the same (actor, action, target) was written in the last interval; True if written."""
        if not self.gate.first((actor, action, target), self._use_interval_s):
            return False
        self.record(actor, action, target=target, ok=ok, address=address)
        return True

    def record_token_use(self, info: TokenInfo | None, target: str, address: str | None, *, allowed: bool = True) -> None:
        """A token used (or refused) for ``target``, at most once an interval; ``info`` None: unknown, revoked or expired."""
        if info is None:
            self.record_use(address or "unknown address", "token.refused", target=target, ok=False, address=address)
        else:
            self.record_use(info.actor, "token.use" if allowed else "token.refused", target=target, ok=allowed, address=address)

    def recent(self, limit: int = 200, search: str | None = None) -> list[AuditRow]:
        """The newest entries first; ``search`` matches actor, action or target (a plain substring)."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(max(1, min(limit, 1000)))
        if search:
            pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(
                or_(*(col.like(pattern, escape="\\") for col in (AuditEntry.actor, AuditEntry.action, AuditEntry.target)))
            )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [AuditRow(r.id, r.ts, r.actor, r.action, r.target, r.outcome, r.address, r.detail) for r in rows]
