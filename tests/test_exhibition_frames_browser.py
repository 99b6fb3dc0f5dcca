"""The full-screen slides of the exhibition rotation: an unbroken gold frame, with nothing of the tiles below
peeking past it (the "dark notches" of issue 16 were the gaps between the KPI tiles' gold tops, showing
just outside the frame's line), at 1080p and 4K — read off the pixels, as a visitor sees them."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from tests.conftest import LiveServer, wait_until

SLIDES = (("focus-map", "#panel-map"), ("focus-topology", "#panel-topology"), ("focus-org", ".spotlight"), ("focus-kpi", ".kpi-row"))


def _gold(pixel: tuple[int, ...]) -> bool:
    r, g, b = pixel[:3]
    return r > 200 and 150 < g < 230 and b < 120


def _edges(left: int, top: int, right: int, bottom: int, out: int, margin: int) -> dict[str, list[tuple[int, int]]]:
    """Points ``out`` px outside each edge of the box, leaving ``margin`` px at the corners (rounded)."""
    return {
        "top": [(x, top - out) for x in range(left + margin, right - margin)],
        "bottom": [(x, bottom - 1 + out) for x in range(left + margin, right - margin)],
        "left": [(left - out, y) for y in range(top + margin, bottom - margin)],
        "right": [(right - 1 + out, y) for y in range(top + margin, bottom - margin)],
    }


@pytest.mark.parametrize("width,height", [(1920, 1080), (3840, 2160)])
def test_the_slides_have_an_unbroken_frame_with_nothing_peeking_past_it(live_server: LiveServer, browser: Any, width: int, height: int) -> None:
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        page.goto(f"{live_server.url}/?mode=exhibition&rotate=3600&token={live_server.admin_token}", wait_until="load")
        page.wait_for_selector("#conn-state.live", timeout=60_000)
        scale = width / 1920
        for focus, selector in SLIDES:
            page.evaluate("(f) => { const c = document.getElementById('wall-canvas'); c.className = c.className.replace(/focus-\\w+/, f); }", focus)
            wait_until(page, f"getComputedStyle(document.querySelector('.wall.{focus} {selector}')).position === 'absolute'")
            box = page.evaluate(f"() => {{ const r = document.querySelector('.wall.{focus} {selector}').getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }}")
            left, top, right, bottom = (round(v) for v in box)
            shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
            margin = round(12 * scale)
            line = _edges(left, top, right, bottom, 1, margin)
            broken = {edge: sum(1 for p in points if not _gold(shot.getpixel(p))) for edge, points in line.items()}
            assert broken == dict.fromkeys(line, 0), f"{focus} at {width}px: the gold line breaks {broken}"
            for out in range(round(scale) + 1, round(4 * scale) + 1):  # past the line (1 px a canvas px), in the ring
                ring = _edges(left, top, right, bottom, out, margin)
                peeking = {edge: sum(1 for p in points if _gold(shot.getpixel(p))) for edge, points in ring.items()}
                assert peeking == dict.fromkeys(ring, 0), f"{focus} at {width}px: gold from below {out}px outside the frame {peeking}"
    finally:
        page.close()
