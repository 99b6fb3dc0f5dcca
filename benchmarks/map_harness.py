"""What the map benchmarks share: the 1M-member database, headless Chromium, an empty Dash page.

``python benchmarks/map_harness.py serve-empty PORT`` serves the baseline page:
Dash on FastAPI under uvicorn, as app.py serves Lianxin, with a layout of one
``div`` and no assets.
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
BIG_DB = Path(tempfile.gettempdir()) / "lianxin-map-bench" / "big.db"


def seeded_database(path: Path, members: int) -> Path:
    """A database seeded once with ``members`` (``python -m dashboard seed``), reused by later runs."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "dashboard", "seed", "--members", str(members), "--database-url", f"sqlite:///{path}"],
            cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
        )
    return path


@contextmanager
def empty_dash_page(script: Path = Path(__file__)) -> Iterator[str]:
    """The baseline: an empty Dash page in its own process (``script serve-empty PORT``); yields its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, str(script.resolve()), "serve-empty", str(port)], cwd=ROOT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def serve_empty(port: int) -> None:
    import uvicorn
    from dash import Dash, html
    from fastapi import FastAPI

    assets = tempfile.mkdtemp(prefix="empty-assets-")
    app = Dash(__name__, server=FastAPI(), assets_folder=assets, update_title=None)
    app.layout = html.Div("empty", id="empty-ready")
    uvicorn.run(app.server, host="127.0.0.1", port=port, log_level="warning")


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def wait_until(page: Any, expression: str, timeout_s: float = 60) -> None:
    """Poll a page expression until true (the app's CSP forbids the eval that wait_for_function needs)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(f"() => {expression}"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true within {timeout_s} s: {expression}")
        page.wait_for_timeout(20)


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": round(statistics.median(ordered), 1),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
        "max": round(ordered[-1], 1),
    }


if __name__ == "__main__" and sys.argv[1:2] == ["serve-empty"]:
    serve_empty(int(sys.argv[2]))
