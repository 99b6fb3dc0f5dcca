"""Member names for the live feed, looked up by id in small batches and cached.

The feed shows at most a dozen names per scope per tick, so a bounded LRU
cache in front of one indexed query beats holding a million names in memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

from sqlalchemy import Engine, select

from dashboard.store.models import Member


class MemberDirectory:
    def __init__(self, engine: Engine, cache_size: int = 20_000) -> None:
        self._engine = engine
        self._cache: OrderedDict[int, str] = OrderedDict()
        self._size = cache_size
        self._lock = threading.Lock()

    def names(self, ids: Iterable[int]) -> dict[int, str]:
        wanted = set(ids)
        with self._lock:
            found = {i: self._cache[i] for i in wanted if i in self._cache}
            for i in found:
                self._cache.move_to_end(i)
        missing = wanted - found.keys()
        if missing:
            with self._engine.connect() as conn:
                rows = conn.execute(select(Member.id, Member.name).where(Member.id.in_(missing))).all()
            with self._lock:
                for member_id, name in rows:
                    found[member_id] = name
                    self._cache[member_id] = name
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        return found
