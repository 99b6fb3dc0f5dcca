"""No count the public level hides can be worked out from what it shows (issue 17, hole 2).

The outside test subtracted: ``members 632, full_members 629`` gave away a
hidden ``probationary`` of 3. Here an attacker with every public reply of a
sample of organisations — each reply and the replies of its parent and
children — narrows each count to the range its shown value allows and
propagates every sum the exact figures obey (parts of a total, a parent at
least the sum of its children) until nothing moves. A hidden count must keep
more than one possible value; and the true value must stay inside what was
derived, which checks the attacker's reasoning itself.

The frames a public screen receives (the units rows, the map's regions, the
topology's health colours), captured on the wire, must say nothing beyond
those attacked replies: each figure is the public snapshot's own or computed
from its shown counts alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest

from dashboard.access.scopes import PEOPLE_KEYS, PUBLIC_MIN_COUNT, PUBLIC_ROUNDING, Scope, mask_snapshot, public_count, shown_share
from dashboard.live.screen_client import ScreenClient, find_ticket, page_layout, stream_callback_id
from dashboard.map.view import MAP_KPIS
from dashboard.store.engine import open_store
from dashboard.store.tree import OrgTree
from dashboard.topology.health import compute_health, unpack_levels
from dashboard.topology.radial import TreeIndex
from dashboard.wall.units import UNIT_FIELDS
from tests.conftest import LiveServer

Var = tuple[str, str]  # (organisation code, flattened key)
SAMPLE = 150


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # A week of history: dues, activity and meetings to mask, not only zeros.
    srv = LiveServer(tmp_path_factory.mktemp("arith") / "lianxin.db", demo_members=1500, history_days=7).start()
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


def public_frame(server: LiveServer, org: str) -> dict[str, Any]:
    """The first (full) frame an anonymous public screen of ``org`` receives, as sent."""

    async def run() -> dict[str, Any]:
        ticket = find_ticket(await page_layout(server.url, "/", f"?org={org}"))
        screen = ScreenClient(server.url, ticket, await stream_callback_id(server.url))
        for _ in range(20):  # until the first frame is in (each run is bounded)
            if (await screen.run(1.0)).frames:
                return screen.frames[0]["kpi"]
        raise AssertionError("no frame within 20 s")

    return asyncio.run(run())


def public_snapshots(server: LiveServer, codes: list[str]) -> dict[str, dict[str, Any]]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        return {code: client.get("/api/snapshot", params={"org": code}).json() for code in codes}


def test_public_unit_rows_are_the_public_snapshots_figures(server: LiveServer) -> None:
    """The units section (wall spotlight, tablet cards) shows each unit's public snapshot, dues rate included."""
    root = OrgTree.load(open_store(server.db_url))
    top = root.nodes[root.root_id].code
    rows = public_frame(server, top)["units"]
    shown = public_snapshots(server, list(rows))
    assert len(rows) >= 10
    for code, row in rows.items():
        snap, values = shown[code], dict(zip(UNIT_FIELDS, row))
        assert values["members"] == snap["members"] and values["active_today"] == snap["active_today"], code
        assert values["transfers_overdue"] == snap["transfers"]["overdue"], code
        assert values["dues_rate"] == snap["dues_rate"] == shown_share(snap["dues_paid"], snap["members"]), code
    assert any(v is not None for row in rows.values() for v in (dict(zip(UNIT_FIELDS, row))["dues_rate"],)), "some rate shown"


def test_public_map_regions_come_from_the_shown_counts(server: LiveServer) -> None:
    """Each region of the national map is one provincial committee: its figures are that committee's public ones."""
    tree = OrgTree.load(open_store(server.db_url))
    regions = public_frame(server, tree.nodes[tree.root_id].code)["map_regions"]
    provinces = {tree.nodes[c].region_code: tree.nodes[c].code for c in tree.children[tree.root_id] if tree.nodes[c].region_code}
    shown = public_snapshots(server, [provinces[r] for r in regions])
    assert len(regions) >= 10
    for region, values in regions.items():
        snap, kpis = shown[provinces[region]], dict(zip(MAP_KPIS, values))
        if snap["members"] is None:
            assert values == [None] * len(MAP_KPIS), region
            continue
        assert kpis["members"] == snap["members"], region
        assert kpis["dues_rate"] == snap["dues_rate"], region
        assert kpis["activity"] == round(snap["events_today"] / snap["members"], 3), region


def test_public_topology_colours_come_from_the_shown_counts(server: LiveServer) -> None:
    """The health levels a public screen of a province receives are those the public snapshots alone give."""
    tree = OrgTree.load(open_store(server.db_url))
    index = TreeIndex.build(tree)
    province = max(tree.children[tree.root_id], key=lambda c: sum(1 for _ in tree.walk(c)))
    inside = list(tree.walk(province))
    health = public_frame(server, tree.nodes[province].code)["topo_health"]
    shown = public_snapshots(server, [tree.nodes[i].code for i in [tree.root_id, *inside]])

    def column(get: Any) -> np.ndarray:
        return np.array([get(shown[tree.nodes[i].code]) or 0 for i in [tree.root_id, *inside]], dtype=np.int64)

    table = {
        "org_id": np.array([tree.root_id, *inside], dtype=np.int64),
        "members": column(lambda s: s["members"]),
        "branches": column(lambda s: s["branches"]),
        "three_meetings_branches": column(lambda s: s["meetings"]["three_meetings_branches"]),
        "dues_paid": column(lambda s: s["dues_paid"]),
        "active_today": column(lambda s: s["active_today"]),
        "few_members": column(lambda s: s["rule_breaks"]["few_members"]),
        "no_secretary": column(lambda s: s["rule_breaks"]["no_secretary"]),
        "no_meeting": column(lambda s: s["rule_breaks"]["no_meeting"]),
        "transfers_overdue": column(lambda s: s["transfers"]["overdue"]),
    }
    expected = compute_health(index, table, 0.0, public=True)
    start = int(index.pre_of(province))
    assert health["n"] == len(inside) >= 10
    assert unpack_levels(health["b"], health["n"]).tolist() == expected.level[start : start + len(inside)].tolist()
