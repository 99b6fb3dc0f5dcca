"""End-to-end latency: a notice sent over /ws/ingest until its title shows in #alerts in Chromium.

A server with a 50,000-member demo, the simulator at 2,000 events/s in the
background (another process), and five headless Chromium pages on the wall.
Each page records, with a MutationObserver, the wall-clock time at which each
notice title enters its #alerts; the sender records the time just before it
sends. Same machine, same clock.

    python benchmarks/live_latency.py --notices 40
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

from playwright.sync_api import sync_playwright
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ingest_harness import Server  # noqa: E402
from benchmarks.live_fanout import percentile, start_simulator  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, wait_until  # noqa: E402

OBSERVE = """() => {
  window.__seen = {};
  const box = document.getElementById('alerts');
  new MutationObserver(() => {
    const now = performance.timeOrigin + performance.now();
    for (const el of box.querySelectorAll('.notice .label')) {
      if (!(el.textContent in window.__seen)) window.__seen[el.textContent] = now;
    }
  }).observe(box, {childList: true, subtree: true, characterData: true});
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notices", type=int, default=40)
    parser.add_argument("--pages", type=int, default=5)
    parser.add_argument("--rate", type=float, default=2000.0, help="background events per second")
    parser.add_argument("--members", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Server(Path(tmp), args.members) as server:
        sim = start_simulator(server, args.rate, args.notices * 2 + 120)
        latencies: list[float] = []
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                pages = [browser.new_page(viewport={"width": 1920, "height": 1080}) for _ in range(args.pages)]
                for page in pages:
                    page.goto(server.url + "/", wait_until="load")
                    page.wait_for_selector("#conn-state.live", timeout=60_000)
                    page.evaluate(OBSERVE)
                top = pages[0].evaluate("() => fetch('/api/snapshot').then(r => r.json()).then(s => s.org)")
                time.sleep(5)
                with connect(server.ws_url, max_size=None) as ws:
                    for _ in range(args.notices):
                        title = f"延迟测量-{uuid.uuid4().hex[:10]}"
                        event = {"id": uuid.uuid4().hex, "type": "notice", "org": top, "data": {"title": title, "level": "info", "ttl_s": 30}}
                        sent_ms = time.time() * 1000
                        ws.send(json.dumps(event))
                        ws.recv()
                        for page in pages:
                            wait_until(page, f"window.__seen[{json.dumps(title)}] !== undefined", timeout_s=10)
                            latencies.append(page.evaluate(f"() => window.__seen[{json.dumps(title)}]") - sent_ms)
                        time.sleep(0.5)
                browser.close()
        finally:
            sim.terminate()
            sim.wait(20)
    print(json.dumps({
        "benchmark": "live_latency_notice_to_alerts",
        "pages": args.pages,
        "background_events_per_s": args.rate,
        "samples": len(latencies),
        "p50_ms": round(percentile(latencies, 0.5), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1),
    }))


if __name__ == "__main__":
    main()
