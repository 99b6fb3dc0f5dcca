"""The README's and docs/wall.md's pictures, taken from the code as it is: the demo as ``python app.py``
makes it (50,000 members, the default past, the simulator on), its wall at 1920×1080 and 3840×2160 and a
tablet page at 1366×1024, each once frames have filled every panel.

    python benchmarks/screenshots.py [--out docs/screenshots] [--members 50000]

Prints what it wrote as JSON (one line), like the benchmarks beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer, wait_until

SHOTS = (("wall-1920x1080.png", "/", 1920, 1080), ("wall-3840x2160.png", "/", 3840, 2160), ("tablet-1366x1024.png", "/org/LX-510000", 1366, 1024))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    ap.add_argument("--members", type=int, default=50_000)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp) / "shots.db", extra_args=[], demo_members=args.members, history_days=None).start(timeout=600)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for name, path, width, height in SHOTS:
                    page = browser.new_page(viewport={"width": width, "height": height})
                    page.goto(server.url + path, wait_until="load")
                    page.wait_for_selector("#conn-state.live", timeout=120_000)
                    wait_until(page, "window.lianxinLive && window.lianxinLive.frames >= 8", timeout_s=120)
                    time.sleep(2)  # let the last frame's motion settle: a picture, not a check
                    page.screenshot(path=str(args.out / name))
                    written.append({"file": str(args.out / name), "path": path, "viewport": [width, height]})
                    page.close()
                browser.close()
        finally:
            server.stop()
    print(json.dumps({"written": written}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
