"""The organisation tree in memory: lookups by code, ancestors, subtrees.

Loaded once from the store and shared by ingest (code → id), the aggregator
(roll-ups to every ancestor) and scopes (is this organisation inside that
subtree?). Ancestor chains are precomputed as tuples so the per-event path is
a dictionary lookup, O(depth).

A store filled by a bad import may hold an orphan (parent missing) or a cycle;
such organisations are kept out of the tree and listed in ``problems`` so the
app can report them by name instead of crashing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Engine

from dashboard.store.bulk import fetch_rows

# The organisations table's columns an OrgNode holds, in its field order.
ORG_NODE_COLUMNS = ("id", "code", "name", "kind", "parent_id", "level", "region_code", "lon", "lat", "unit_type")


@dataclass(frozen=True, slots=True)
class OrgNode:
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    level: int
    region_code: str | None
    lon: float | None
    lat: float | None
    unit_type: str | None

    def public_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "level": self.level,
            "region": self.region_code,
            "unit_type": self.unit_type,
            "lon": self.lon,
            "lat": self.lat,
        }


@dataclass
class OrgTree:
    nodes: dict[int, OrgNode]
    root_id: int | None
    by_code: dict[str, int] = field(default_factory=dict)
    children: dict[int, list[int]] = field(default_factory=dict)
    ancestors: dict[int, tuple[int, ...]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @classmethod
    def from_nodes(cls, rows: Iterable[OrgNode]) -> OrgTree:
        nodes = {n.id: n for n in rows}
        roots = sorted(i for i, n in nodes.items() if n.parent_id is None)
        tree = cls(nodes={}, root_id=roots[0] if roots else None)
        problems: list[str] = []
        if len(roots) > 1:
            extra = ", ".join(nodes[r].code for r in roots[1:])
            problems.append(f"more than one top organisation; using {nodes[roots[0]].code}, ignoring {extra}")
        kids: dict[int, list[int]] = {}
        for n in nodes.values():
            if n.parent_id is not None:
                kids.setdefault(n.parent_id, []).append(n.id)
        if tree.root_id is not None:
            stack: list[tuple[int, tuple[int, ...]]] = [(tree.root_id, ())]
            while stack:
                node_id, above = stack.pop()
                chain = (node_id, *above)
                tree.nodes[node_id] = nodes[node_id]
                tree.ancestors[node_id] = chain
                children = sorted(kids.get(node_id, ()))
                tree.children[node_id] = children
                stack.extend((c, chain) for c in children)
        unreached = [n for i, n in nodes.items() if i not in tree.nodes and i not in roots[1:]]
        for n in sorted(unreached, key=lambda n: n.code):
            reason = "its parent is missing" if n.parent_id not in nodes else "it is in a cycle or under one"
            problems.append(f"organisation {n.code} ({n.name}) is not reachable from the top: {reason}")
        tree.problems = problems
        tree.by_code = {n.code: i for i, n in tree.nodes.items()}
        return tree

    @classmethod
    def load(cls, engine: Engine) -> OrgTree:
        # Through the driver (dashboard/store/bulk.py): 100,000 organisations are read at every start.
        rows = fetch_rows(engine, f"SELECT {', '.join(ORG_NODE_COLUMNS)} FROM organisations")
        return cls.from_nodes(OrgNode(*row) for row in rows)

    def __len__(self) -> int:
        return len(self.nodes)

    def __contains__(self, org_id: object) -> bool:
        return org_id in self.nodes

    @property
    def root(self) -> OrgNode | None:
        return self.nodes.get(self.root_id) if self.root_id is not None else None

    def get(self, code: str) -> OrgNode | None:
        org_id = self.by_code.get(code)
        return self.nodes[org_id] if org_id is not None else None

    def is_within(self, org_id: int, scope_root_id: int) -> bool:
        """True if ``org_id`` is ``scope_root_id`` or below it."""
        return scope_root_id in self.ancestors.get(org_id, ())

    def walk(self, org_id: int) -> Iterator[int]:
        """The ids of ``org_id``'s subtree, itself first (depth first)."""
        stack = [org_id]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(self.children.get(node, ())))

    def path_codes(self, org_id: int) -> list[str]:
        return [self.nodes[i].code for i in reversed(self.ancestors[org_id])]
