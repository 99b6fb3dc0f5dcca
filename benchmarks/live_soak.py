"""Soak: the wall in headless Chromium under live load; does the page's memory stay flat?

A server with a 50,000-member demo, the simulator at 2,000 events/s (another
process), one Chromium page on the wall (or another path). Every
``--sample`` seconds the page's JS heap and DOM node count are read over the
DevTools protocol (``Performance.getMetrics``, after a garbage collection);
the result compares the end with the value after the first minute.
``Nodes`` counts every DOM node not yet swept, garbage included, so it swings
with the page's churn; ``dom_in_page`` (elements and text nodes in the
document) and the detached nodes still referenced (from a heap snapshot, taken
after a full collection, after the first minute and at the end) say what the
page holds.

    python benchmarks/live_soak.py --minutes 30
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ingest_harness import Server  # noqa: E402
from benchmarks.live_fanout import start_simulator  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

IN_PAGE = """() => {
  let n = 0;
  const walk = document.createTreeWalker(document, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) n++;
  return n;
}"""


def detached_nodes(cdp: Any) -> int:
    """DOM nodes out of the document but still referenced, from a heap snapshot (taken after a full collection)."""
    chunks: list[str] = []
    cdp.on("HeapProfiler.addHeapSnapshotChunk", lambda e: chunks.append(e["chunk"]))
    cdp.send("HeapProfiler.takeHeapSnapshot", {"reportProgress": False})
    snap = json.loads("".join(chunks))
    fields = snap["snapshot"]["meta"]["node_fields"]
    name, detachedness, width = fields.index("name"), fields.index("detachedness"), len(fields)
    nodes, strings = snap["nodes"], snap["strings"]
    return sum(
        1 for i in range(0, len(nodes), width)
        if nodes[i + detachedness] == 2 and strings[nodes[i + name]].startswith(("HTML", "SVG", "Text", "Comment"))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--sample", type=float, default=30.0, help="seconds between samples")
    parser.add_argument("--rate", type=float, default=2000.0)
    parser.add_argument("--path", default="/", help="page to soak, e.g. / or /?rotate=15")
    parser.add_argument("--members", type=int, default=50_000)
    args = parser.parse_args()
    samples: list[dict[str, float]] = []
    detached_first: int | None = None
    with tempfile.TemporaryDirectory() as tmp, Server(Path(tmp), args.members) as server:
        sim = start_simulator(server, args.rate, args.minutes * 60 + 120)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                cdp = page.context.new_cdp_session(page)
                cdp.send("Performance.enable")
                page.goto(server.url + args.path, wait_until="load")
                page.wait_for_selector("#conn-state.live", timeout=60_000)
                start = time.monotonic()
                while (elapsed := time.monotonic() - start) < args.minutes * 60:
                    time.sleep(min(args.sample, args.minutes * 60 - elapsed))
                    cdp.send("HeapProfiler.collectGarbage")
                    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
                    samples.append({
                        "minute": round((time.monotonic() - start) / 60, 2),
                        "js_heap_mb": round(metrics["JSHeapUsedSize"] / 2**20, 2),
                        "dom_nodes": metrics["Nodes"],
                        "dom_in_page": page.evaluate(IN_PAGE),
                        "frames": page.evaluate("window.lianxinLive.frames"),
                        "rotations": page.evaluate("window.lianxinPlaylist ? window.lianxinPlaylist.changes : 0"),
                        "conn": page.locator("#conn-state").get_attribute("class"),
                    })
                    if detached_first is None and samples[-1]["minute"] >= 1:
                        detached_first = detached_nodes(cdp)
                detached_end = detached_nodes(cdp)
                browser.close()
        finally:
            sim.terminate()
            sim.wait(20)
    first = next((s for s in samples if s["minute"] >= 1), samples[0])
    last = samples[-1]
    print(json.dumps({
        "benchmark": "live_soak",
        "path": args.path,
        "minutes": args.minutes,
        "background_events_per_s": args.rate,
        "after_first_minute": first,
        "end": last,
        "js_heap_ratio": round(last["js_heap_mb"] / first["js_heap_mb"], 3),
        "dom_nodes_ratio": round(last["dom_nodes"] / first["dom_nodes"], 3),
        "dom_in_page_ratio": round(last["dom_in_page"] / first["dom_in_page"], 3),
        "detached_nodes": {"after_first_minute": detached_first, "end": detached_end},
        "samples": samples,
    }))


if __name__ == "__main__":
    main()
