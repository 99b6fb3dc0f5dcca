"""The aggregator's state as bytes and back: pickle, with the tree-derived parts by reference.

What the tree determines (the tree itself, its row layout, the time zone) is
not written: the pickler names those objects and the loader puts the current
ones in their place, so a snapshot is only the counters and per-member and
per-branch arrays. Loading accepts only the classes such a state holds (numpy
arrays and scalars, the aggregator's own classes, plain containers): a blob
that names anything else is refused, whatever wrote it.
"""

from __future__ import annotations

import io
import pickle
import zlib
from collections.abc import Mapping
from typing import Any

COMPRESSION_LEVEL = 1
ALLOWED_MODULE_PREFIXES = ("numpy", "dashboard.live.aggregator.")
ALLOWED_BUILTINS = frozenset({"set", "frozenset", "dict", "list", "tuple", "int", "float", "bool", "str", "bytes", "complex", "slice"})
ALLOWED_OTHERS = frozenset({
    ("copyreg", "_reconstructor"), ("collections", "OrderedDict"), ("collections", "defaultdict"), ("collections", "deque"),
    ("datetime", "date"), ("datetime", "datetime"), ("datetime", "timedelta"), ("datetime", "timezone"),
})


class StateError(ValueError):
    """A snapshot blob that cannot be loaded (damaged, or holding what a state never holds)."""


class _RefPickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, refs: Mapping[str, Any]) -> None:
        super().__init__(file, protocol=5)
        self._names = {id(obj): name for name, obj in refs.items()}

    def persistent_id(self, obj: Any) -> str | None:
        return self._names.get(id(obj))


class _RefUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, refs: Mapping[str, Any]) -> None:
        super().__init__(file)
        self._refs = refs

    def persistent_load(self, pid: Any) -> Any:
        try:
            return self._refs[pid]
        except (KeyError, TypeError):
            raise StateError(f"the snapshot refers to {pid!r}, which this server does not have") from None

    def find_class(self, module: str, name: str) -> Any:
        allowed = (
            module.startswith(ALLOWED_MODULE_PREFIXES)
            or (module == "builtins" and name in ALLOWED_BUILTINS)
            or (module, name) in ALLOWED_OTHERS
        )
        if not allowed:
            raise StateError(f"the snapshot holds {module}.{name}, which a live state never holds")
        return super().find_class(module, name)


def dumps(state: Mapping[str, Any], refs: Mapping[str, Any]) -> bytes:
    """``state`` pickled, every object in ``refs`` written as its name, deflated (level 1: the arrays are
    mostly zeros and small numbers, so a few times smaller at little CPU — 10 M members stay far below
    the databases' 1 GB limit on a value)."""
    buffer = io.BytesIO()
    _RefPickler(buffer, refs).dump(dict(state))
    return zlib.compress(buffer.getvalue(), COMPRESSION_LEVEL)


def loads(blob: bytes, refs: Mapping[str, Any]) -> dict[str, Any]:
    """The state ``dumps`` wrote, with the objects of ``refs`` in place of their names."""
    try:
        state = _RefUnpickler(io.BytesIO(zlib.decompress(blob)), refs).load()
    except StateError:
        raise
    except Exception as exc:  # a damaged blob fails in many ways; all mean the same here
        raise StateError(f"the snapshot cannot be read: {type(exc).__name__}") from None
    if not isinstance(state, dict):
        raise StateError("the snapshot is not a live state")
    return state
