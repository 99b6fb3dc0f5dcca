"""Compare mypy's findings (stdin) with a recorded baseline: fail on any finding not in it.

Findings are compared without line numbers (``file: [code] message``), counted, so moving
code does not trip it while a second copy of a known finding does.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

LINE = re.compile(r"^(?P<file>[^:]+):\d+(?::\d+)?: error: (?P<message>.*?)\s+\[(?P<code>[a-z-]+)\]$")


def findings(lines: list[str]) -> Counter[str]:
    found: Counter[str] = Counter()
    for line in lines:
        m = LINE.match(line.strip())
        if m:
            found[f"{m['file']}: [{m['code']}] {m['message']}"] += 1
    return found


def main(argv: list[str]) -> int:
    baseline_path = Path(argv[1])
    output = sys.stdin.read().splitlines()
    now = findings(output)
    if "--update-baseline" in argv:
        baseline_path.write_text("".join(f"{k}\n" for k in sorted(now.elements())), encoding="utf-8")
        print(f"mypy baseline: {sum(now.values())} findings recorded in {baseline_path}")
        return 0
    baseline = findings([]) if not baseline_path.exists() else Counter(baseline_path.read_text(encoding="utf-8").splitlines())
    new = now - baseline
    unparsed = [line for line in output if line.strip() and not LINE.match(line.strip()) and ": note:" not in line]
    for line in unparsed:
        print(line)
    if new:
        print(f"mypy: {sum(new.values())} new finding(s) not in {baseline_path}:")
        for key, count in sorted(new.items()):
            print(f"  {key}" + (f" (×{count})" if count > 1 else ""))
        return 1
    if unparsed:
        return 1
    print(f"mypy: no new findings ({sum(now.values())} recorded in the baseline remain, {sum((baseline - now).values())} fixed)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
