"""No count the public level hides can be worked out from what it shows (issue 17, hole 2).

The outside test subtracted: ``members 632, full_members 629`` gave away a
hidden ``probationary`` of 3. Here an attacker with every public reply of a
sample of organisations — each reply and the replies of its parent and
children — narrows each count to the range its shown value allows and
propagates every sum the exact figures obey (parts of a total, a parent at
least the sum of its children) until nothing moves. A hidden count must keep
more than one possible value; and the true value must stay inside what was
derived, which checks the attacker's reasoning itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from dashboard.access.scopes import PEOPLE_KEYS, PUBLIC_MIN_COUNT, PUBLIC_ROUNDING, Scope, mask_snapshot, public_count
from tests.conftest import LiveServer

Var = tuple[str, str]  # (organisation code, flattened key)
SAMPLE = 150


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    srv = LiveServer(tmp_path_factory.mktemp("arith") / "lianxin.db", demo_members=1500).start()
    yield srv
    srv.stop()


def flat(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The people counts of a snapshot as ``a.b`` keys."""
    out: dict[str, Any] = {}

    def walk(value: Any, name: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{name}.{k}" if name else k)
        elif value is None or (isinstance(value, int) and not isinstance(value, bool)):
            out[name] = value

    walk({k: v for k, v in snapshot.items() if k in PEOPLE_KEYS}, "")
    return out


def identities(exact: dict[str, int]) -> list[tuple[str, list[str]]]:
    """Total = sum of parts, for every grouping the exact figures of this organisation obey."""
    groups: dict[str, list[str]] = {}
    for key in exact:
        if "." in key:
            groups.setdefault(key.rsplit(".", 1)[0], []).append(key)
    candidates = [("members", ["full_members", "probationary"])]
    for total in ("members", "full_members", "probationary"):
        candidates += [(total, parts) for parts in groups.values()]
        candidates += [(total, [key]) for key in exact if key != total]
    return [(t, p) for t, p in candidates if t in exact and all(k in exact for k in p) and exact[t] == sum(exact[k] for k in p)]


def domain(shown: int | None) -> tuple[int, int]:
    """Every true value the public level could have shown this way."""
    if shown is None:
        return 0, PUBLIC_MIN_COUNT - 1
    half = PUBLIC_ROUNDING // 2
    return max(PUBLIC_MIN_COUNT, shown - half), shown + half - 1


def propagate(bounds: dict[Var, tuple[int, int]], sums: list[tuple[Var, list[Var], bool]]) -> None:
    """Bounds consistency over ``total = Σ parts`` (or ``total ≥ Σ parts`` when not exact), to a fixpoint."""
    changed = True
    while changed:
        changed = False
        for total, parts, exact in sums:
            lo_sum = sum(bounds[p][0] for p in parts)
            hi_sum = sum(bounds[p][1] for p in parts)
            t_lo, t_hi = bounds[total]
            new_t = (max(t_lo, lo_sum), min(t_hi, hi_sum) if exact else t_hi)
            updates = {total: new_t}
            for p in parts:
                p_lo, p_hi = bounds[p]
                others_lo, others_hi = lo_sum - p_lo, hi_sum - p_hi
                updates[p] = (max(p_lo, t_lo - others_hi) if exact else p_lo, min(p_hi, t_hi - others_lo))
            for var, new in updates.items():
                if new != bounds[var]:
                    bounds[var] = new
                    changed = True


def test_public_rounding_is_what_the_docs_say() -> None:
    assert [public_count(v) for v in (0, 1, 4, 5, 14, 15, 632, 629)] == [None, None, None, 10, 10, 20, 630, 630]
    snap = {"members": 11, "dues_paid": 3, "dues_rate": 0.2727, "events_total": 7, "structure": {"gender": {"M": 4, "F": 7}}}
    assert mask_snapshot(snap, Scope(1, "public")) == {
        "members": 10, "dues_paid": None, "dues_rate": None, "events_total": 7, "structure": {"gender": {"M": None, "F": 10}}}


def test_no_hidden_count_can_be_derived_from_public_replies(server: LiveServer) -> None:
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    with httpx.Client(base_url=server.url, timeout=30) as client:
        orgs = client.get("/api/orgs", headers=admin).json()
        children: dict[str, list[str]] = {}
        for org in orgs:
            if org["parent"]:
                children.setdefault(org["parent"], []).append(org["code"])
        parents = [o["code"] for o in orgs if o["code"] in children][:SAMPLE // 3]
        sample = sorted({*parents, *(c for p in parents for c in children[p])})[:SAMPLE]
        exact = {code: flat(client.get("/api/snapshot", params={"org": code}, headers=admin).json()) for code in sample}
        public = {code: flat(client.get("/api/snapshot", params={"org": code}).json()) for code in sample}

    bounds: dict[Var, tuple[int, int]] = {(c, k): domain(v) for c, values in public.items() for k, v in values.items()}
    sums: list[tuple[Var, list[Var], bool]] = []
    for code in sample:
        sums += [((code, t), [(code, p) for p in parts], True) for t, parts in identities(exact[code])]
        inside = [c for c in children.get(code, []) if c in public]
        if inside:
            sums += [((code, k), [(c, k) for c in inside], False) for k in exact[code] if all(k in exact[c] for c in inside)]
    propagate(bounds, sums)

    hidden = [(var, bounds[var]) for var in bounds if public[var[0]][var[1]] is None]
    assert len(hidden) >= 50, "the sample must hold hidden counts to attack"
    for (code, key), (lo, hi) in bounds.items():
        assert lo <= exact[code][key] <= hi, f"the attack's own reasoning is wrong at {code} {key}"
    recovered = [(var, lo) for var, (lo, hi) in hidden if lo == hi]
    assert recovered == [], f"{len(recovered)} of {len(hidden)} hidden counts derived, e.g. {recovered[:5]}"
