"""docs/events.md and the checker agree line by line (issue 17, hole 6).

The rule table of docs/events.md is read from the file and every row's event
is checked, by both paths (event by event, and a frame checked in one call):
each must be refused with the documented error. Every example of the page
must be accepted, and the types table's member column must be the code's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from dashboard.domain.events import MEMBER_REQUIRED, EventType
from dashboard.ingest.ingestor import EventChecker, MemberIndex
from dashboard.store.tree import OrgNode, OrgTree

pytestmark = pytest.mark.unit

DOC = (Path(__file__).resolve().parents[1] / "docs" / "events.md").read_text()
NOW_MS = 1_800_000_000_000  # 2027-01-15


def table(header: str, unquote: bool = True) -> list[list[str]]:
    """The rows of the markdown table that starts with ``header`` (cells stripped of enclosing backticks)."""
    lines = DOC[DOC.index(header):].splitlines()[2:]
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        rows.append([c[1:-1] if unquote and c.startswith("`") and c.endswith("`") else c for c in cells])
    return rows


def checker() -> tuple[EventChecker, int]:
    """The organisation tree and roll the rule table describes, and the scope GD-0012."""
    def node(i: int, code: str, kind: str, parent: int | None, level: int) -> OrgNode:
        return OrgNode(i, code, code, kind, parent, level, None, None, None, None)

    nodes = [node(1, "ROOT", "committee", None, 0), node(2, "GD-0012", "committee", 1, 1), node(3, "BR-0001", "branch", 2, 2),
             node(4, "BR-0417", "branch", 2, 2), node(5, "GD-01", "committee", 1, 1), node(6, "BR-0999", "branch", 5, 2),
             node(7, "PROV-44", "committee", 1, 1), node(8, "BR-0500", "branch", 2, 2)]
    members = MemberIndex([("M0000042", 42), ("M0001001", 1001), ("M0000999", 999)], {42: 3, 1001: 3, 999: 6})
    return EventChecker(OrgTree.from_nodes(nodes), members), 2


RULES = table("| rule | event | error |")


def test_the_rule_table_is_there_and_covers_the_promises_of_the_envelope() -> None:
    assert len(RULES) >= 30
    said = " ".join(rule for rule, _, _ in RULES)
    for promise in ("ts", "id not blank", "no booleans", "no numbers in strings", "transfer organisations", "scope"):
        assert promise in said, promise


@pytest.mark.parametrize(("rule", "event", "error"), RULES, ids=[f"{i:02d}-{r[0]}" for i, r in enumerate(RULES)])
def test_each_documented_rule_is_the_checker_s(rule: str, event: str, error: str) -> None:
    check, scope = checker()
    raw: Any = json.loads(event)
    _, slow = check.check([raw], NOW_MS, scope)
    _, fast = check.check_frame(orjson.dumps([raw]), NOW_MS, scope)
    assert len(slow) == 1 and slow[0]["error"].startswith(error), (rule, slow)
    assert fast == slow


def test_every_example_of_the_page_is_accepted() -> None:
    block = DOC[DOC.index("### An example of each"):DOC.index("## Frames")]
    examples = [json.loads(line) for line in block.splitlines() if line.startswith("{")]
    assert {e["type"] for e in examples} == {t.value for t in EventType}
    check, _ = checker()
    rows, rejected = check.check(examples, NOW_MS)
    assert rejected == [] and len(rows) == len(examples)


def test_trimmed_ids_are_one_id() -> None:
    check, scope = checker()
    rows, rejected = check.check([{"id": " a ", "type": "like", "org": "BR-0001"}, {"id": "a", "type": "like", "org": "BR-0001"}],
                                 NOW_MS, scope)
    assert rejected == [] and [r.event_id for r in rows] == ["a", "a"] and rows[0].key_hash == rows[1].key_hash


def test_the_types_table_s_member_column_is_the_code_s() -> None:
    required: set[str] = set()
    named: set[str] = set()
    for types, member, _ in table("| type | member | data |", unquote=False):
        names = set(re.findall(r"`(\w+)`", types)) or {types}
        named |= names
        if member == "yes":
            required |= names
    assert named == {t.value for t in EventType}
    assert required == {t.value for t in MEMBER_REQUIRED}
