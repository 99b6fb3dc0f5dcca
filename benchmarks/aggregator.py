"""The incremental aggregator: events per second through ``Aggregator.apply``.

A synthetic tree of ~45,000 organisations seven levels deep (top → 31
provinces → cities → counties → committees → branches → groups) and 1M
members, built in memory. A stream of events with a realistic mix (mostly
study, logins and reading; a few meetings, dues, transfers and recruitment
steps), timestamps within the last two minutes, is applied in batches.
Baselines in the same run, on the same events: a loop that only increments
one dict counter per event, and a loop that increments a dict counter for
the event's organisation and each ancestor (the least any O(depth) roll-up
must do). Also: memory held by the aggregator at 1M members (tracemalloc and
its own numpy accounting), the time to load the members, to recount at local
midnight, and to take a snapshot.

    python benchmarks/aggregator.py [--members 1000000] [--events 300000] [--batch 1000]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.domain.events import MeetingKind, StoredEvent
from dashboard.live.aggregator import SHANGHAI, Aggregator
from dashboard.live.aggregator.members import MEMBER_COLUMNS
from dashboard.store.tree import OrgNode, OrgTree

# (kind, children per parent) for levels 1.. below the top.
SHAPE = [("committee", 31), ("committee", 6), ("committee", 5), ("committee", 4), ("branch", 8), ("group", 1)]
GROUP_SHARE = 0.4  # share of branches that have a 党小组


def build_tree(rng: random.Random) -> OrgTree:
    nodes = [OrgNode(1, "ORG1", "top", "committee", None, 0, "110000", None, None, None)]
    level = [1]
    for depth, (kind, fanout) in enumerate(SHAPE, start=1):
        below = []
        for parent in level:
            if kind == "group" and rng.random() > GROUP_SHARE:
                continue
            for _ in range(fanout):
                org_id = len(nodes) + 1
                nodes.append(OrgNode(org_id, f"ORG{org_id}", f"org {org_id}", kind, parent, depth, "110000", None, None, None))
                below.append(org_id)
        level = below
    return OrgTree.from_nodes(nodes)


def member_frame(tree: OrgTree, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    homes = np.array([i for i, node in tree.nodes.items() if node.kind in ("branch", "group")])
    stage = rng.choice(["full", "probationary", "applicant", "activist", "development_target"], n, p=[0.8, 0.05, 0.08, 0.04, 0.03])
    party = np.isin(stage, ["full", "probationary"])
    join = pd.to_datetime("2000-01-01") + pd.to_timedelta(rng.integers(0, 9000, n), unit="D")
    return pd.DataFrame({
        "id": np.arange(1, n + 1),
        "org_id": rng.choice(homes, n),
        "stage": stage,
        "gender": rng.choice(["M", "F"], n, p=[0.69, 0.31]),
        "ethnicity": rng.choice(["han", "zhuang", "hui"], n, p=[0.923, 0.04, 0.037]),
        "birth_year": rng.integers(1940, 2006, n),
        "education": pd.Categorical(rng.choice(["college", "secondary", "postgraduate", "primary"], n)),
        "occupation": pd.Categorical(rng.choice(["worker", "farmer", "professional", "manager", "retired", "student", "other"], n)),
        "post": np.where(rng.random(n) < 0.05, "secretary", None),
        "join_date": pd.Series(join.date).where(party, None),
    })[list(MEMBER_COLUMNS)]


def event_stream(tree: OrgTree, members: pd.DataFrame, n: int, now_ms: int, seed: int) -> list[StoredEvent]:
    rng = random.Random(seed)
    member_org = dict(zip(members["id"].tolist(), members["org_id"].tolist()))
    member_ids = members["id"].to_numpy()
    branch_codes = [node.code for node in tree.nodes.values() if node.kind == "branch"]
    kinds = ["study", "login", "article_read", "like", "meeting_attended", "meeting_held", "dues_paid",
             "transfer_requested", "transfer_completed", "recruit_activist", "notice"]
    weights = [30, 25, 25, 10, 4, 1, 2, 1, 1, 0.5, 0.5]
    month = time.strftime("%Y-%m", time.localtime(now_ms / 1000))
    out = []
    picks = rng.choices(kinds, weights, k=n)
    for seq, kind in enumerate(picks, start=1):
        member = int(member_ids[rng.randrange(len(member_ids))])
        org = member_org[member]
        data: dict = {}
        if kind == "study":
            data = {"points": rng.choice([1, 2, 5, 10]), "minutes": 10, "title": "学习"}
        elif kind == "meeting_held":
            data, member = {"kind": rng.choice(list(MeetingKind)).value, "attendees": 12}, None
        elif kind == "dues_paid":
            data = {"amount": 20.0, "month": month}
        elif kind.startswith("transfer"):
            data = {"transfer": f"T{rng.randrange(n // 20 + 1)}", "from_org": tree.nodes[org].code,
                    "to_org": rng.choice(branch_codes)}
        elif kind == "notice":
            data, member = {"title": "通知"}, None
        out.append(StoredEvent(seq, f"e{seq}", kind, now_ms - rng.randrange(120_000), org, member, data))
    return out


def rate(run, events: list[StoredEvent], batch: int) -> float:
    start = time.perf_counter()
    for i in range(0, len(events), batch):
        run(events[i : i + batch])
    return len(events) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    tree = build_tree(random.Random(args.seed))
    members = member_frame(tree, args.members, args.seed)
    now = time.time()
    now = now - now % 86_400 + 4 * 3600  # noon in Shanghai, so the run never meets midnight
    clock = lambda: now  # noqa: E731 — a fixed clock: every run measures the same windows

    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    aggregator = Aggregator(tree, clock=clock, tz=SHANGHAI)
    aggregator.upsert_members(members)
    load_s = time.perf_counter() - started
    held_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()

    events = event_stream(tree, members, args.events, int(now * 1000), args.seed)
    aggregator.apply(events[:1])  # the first event ever starts the lost-contact clock (a one-off recount)

    dict_counts: dict[int, int] = defaultdict(int)

    def one_counter(batch: list[StoredEvent]) -> None:
        for event in batch:
            dict_counts[event.org_id] += 1

    chain_counts: dict[int, int] = defaultdict(int)
    ancestors = tree.ancestors

    def every_ancestor(batch: list[StoredEvent]) -> None:
        for event in batch:
            for org_id in ancestors[event.org_id]:
                chain_counts[org_id] += 1

    body = events[1:]
    baseline_one = rate(one_counter, body, args.batch)
    baseline_chain = rate(every_ancestor, body, args.batch)
    applied = rate(aggregator.apply, body, args.batch)
    applied_small = rate(aggregator.apply, body[: len(body) // 5], 10)

    root = tree.root_id
    branch = next(i for i, n in tree.nodes.items() if n.kind == "branch")
    start = time.perf_counter()
    for _ in range(200):
        aggregator.snapshot(root)
    snapshot_root_ms = (time.perf_counter() - start) / 200 * 1000
    start = time.perf_counter()
    for _ in range(200):
        aggregator.snapshot(branch)
    snapshot_branch_ms = (time.perf_counter() - start) / 200 * 1000
    start = time.perf_counter()
    changed = len(aggregator.drain_changed())
    drain_ms = (time.perf_counter() - start) * 1000

    now += 86_400  # the next day: today's counters cleared, members and branches recounted
    start = time.perf_counter()
    aggregator.tick()
    midnight_s = time.perf_counter() - start

    depth = max(len(chain) for chain in tree.ancestors.values())
    print(json.dumps({
        "benchmark": "aggregator_apply",
        "organisations": len(tree),
        "depth": depth,
        "members": args.members,
        "events": len(body),
        "batch": args.batch,
        "events_per_s": round(applied),
        "events_per_s_batch_10": round(applied_small),
        "baseline_one_dict_counter_per_event": round(baseline_one),
        "baseline_dict_counter_per_ancestor": round(baseline_chain),
        "ratio_vs_one_counter": round(applied / baseline_one, 3),
        "ratio_vs_counter_per_ancestor": round(applied / baseline_chain, 3),
        "target_events_per_s": 100_000,
        "memory_mb_tracemalloc": round(held_bytes / 2**20, 1),
        "memory_mb_numpy_state": round(aggregator.memory_bytes() / 2**20, 1),
        "load_members_s": round(load_s, 2),
        "midnight_recount_s": round(midnight_s, 2),
        "snapshot_root_ms": round(snapshot_root_ms, 3),
        "snapshot_branch_ms": round(snapshot_branch_ms, 3),
        "drain_changed_ms": round(drain_ms, 3),
        "drained_orgs": changed,
    }))


if __name__ == "__main__":
    main()
