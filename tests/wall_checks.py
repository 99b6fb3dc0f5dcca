"""What the browser tests check on a screen page: every visible text fits its box, nothing overlaps, nothing is too small.

``LAYOUT_JS`` runs in the page and returns the problems it finds, each a
short string naming the element and its text:

- **overflow**: a box that holds text is wider than it shows (``scrollWidth >
  clientWidth``: clipped or ellipsised text), or taller by more than a font's
  content area beyond its line height; an inline run of text reaching out of
  the block that holds it. A box that ends its text in an ellipsis and holds
  the whole text in its ``title`` is *truncated* by design, not overflowing;
- **spills**: a line of text as a person sees it (the client rects of a
  ``Range`` over the text) reaching out of the box that holds it;
- **clipped**: text partly outside an ancestor that clips (``overflow`` not
  visible: a panel, a chart's SVG); **cut off**: entirely outside one — except
  in lists that show whole rows only (a wrapping flex column: the feed, the
  alerts), where rows that do not fit are moved out of sight whole;
- **overlap**: two texts whose boxes intersect (neither inside the other);
- **small**: a font smaller than ``minFraction`` of the height the page is shown in
  (the window, or the scaled wall canvas when it is letterboxed), after the canvas's scale.

Text covered by another part of the page (a focused panel over the others) is
not visible and not checked; what is visible is decided with ``elementFromPoint``.
"""

from __future__ import annotations

from typing import Any

LAYOUT_JS = r"""
({minFraction}) => {
  const canvas = document.getElementById('wall-canvas');
  const canvasRect = canvas ? canvas.getBoundingClientRect() : null;
  const scale = canvas ? canvasRect.height / canvas.offsetHeight : 1;
  const shownHeight = canvas ? canvasRect.height : window.innerHeight;
  const minPx = shownHeight * minFraction;
  const TOL = 1.5;
  const boxOf = (el) => el.closest('.panel, .kpi, .title-bar, .spotlight, .wall-problems, .card, .navbar, section, header') || document.body;
  const name = (el) => (el.id ? '#' + el.id : el.tagName.toLowerCase() + (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\s+/).join('.') : ''))
        + ' "' + el.textContent.trim().slice(0, 40) + '"';
  const inside = (r, a) => r.left >= a.left - TOL && r.right <= a.right + TOL && r.top >= a.top - TOL && r.bottom <= a.bottom + TOL;
  const meets = (r, a) => Math.min(r.right, a.right) - Math.max(r.left, a.left) > 0 && Math.min(r.bottom, a.bottom) - Math.max(r.top, a.top) > 0;
  const problems = [];
  const shown = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const parent = walker.currentNode.parentElement;
    const el = parent && parent instanceof SVGElement ? (parent.closest('text') || parent) : parent;  // an SVG label is one <text> of <tspan> lines
    if (!el || seen.has(el) || !walker.currentNode.textContent.trim()) continue;
    seen.add(el);
    if (el.closest('script, style, noscript, title')) continue;
    const cs = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || cs.visibility === 'hidden' || +cs.opacity === 0) continue;
    let hidden = false, clipped = false;
    for (let a = el.parentElement; a && a !== document.documentElement; a = a.parentElement) {
      const acs = getComputedStyle(a);
      if (+acs.opacity === 0) { hidden = true; break; }
      if (acs.overflowX === 'visible' && acs.overflowY === 'visible') continue;
      const ar = a.getBoundingClientRect();
      if (!meets(r, ar)) {
        // Lists that show whole rows only (a wrapping flex column) put the rows that do not fit out of
        // sight: not shown, not cut. Anything else pushed out of its box is text lost to the layout.
        if (acs.flexWrap !== 'wrap') problems.push('cut off: ' + name(el));
        hidden = true;
        break;
      }
      if (!inside(r, ar)) clipped = true;
    }
    if (hidden || !meets(r, {left: 0, top: 0, right: innerWidth, bottom: innerHeight})) continue;
    const cx = Math.min(innerWidth - 1, Math.max(0, (Math.max(r.left, 0) + Math.min(r.right, innerWidth)) / 2));
    const cy = Math.min(innerHeight - 1, Math.max(0, (Math.max(r.top, 0) + Math.min(r.bottom, innerHeight)) / 2));
    const hit = document.elementFromPoint(cx, cy);
    if (!hit || boxOf(hit) !== boxOf(el)) continue;
    if (clipped) problems.push('clipped: ' + name(el));
    const isSvg = el instanceof SVGElement;
    if (!isSvg && cs.display === 'inline') {
      // an inline run of text must stay inside the block that holds it
      let block = el.parentElement;
      while (block && ['inline', 'contents'].includes(getComputedStyle(block).display)) block = block.parentElement;
      const br = block ? block.getBoundingClientRect() : null;
      if (br && (r.left < br.left - TOL || r.right > br.right + TOL)) problems.push('overflow: ' + name(el) + ' out of its block');
    }
    if (!isSvg && cs.display !== 'inline' && cs.display !== 'contents') {
      // Vertically a font's content area (CJK fonts: ~1.45 em) may exceed a tight line-height without
      // any ink being cut; what is cut shows as "clipped" against the clipping ancestor.
      const slackY = Math.max(2, 0.3 * parseFloat(cs.fontSize));
      const truncated = cs.textOverflow === 'ellipsis' && el.title && el.title === el.textContent;
      if ((el.scrollWidth > el.clientWidth + 1 && !truncated) || el.scrollHeight > el.clientHeight + slackY) {
        problems.push('overflow: ' + name(el) + ' ' + el.scrollWidth + 'x' + el.scrollHeight + ' in ' + el.clientWidth + 'x' + el.clientHeight);
      }
    }
    if (!isSvg && cs.textOverflow !== 'ellipsis') {
      // what a person sees: every line of the element's own text inside the box that holds it
      let holder = el;
      while (holder && ['inline', 'contents'].includes(getComputedStyle(holder).display)) holder = holder.parentElement;
      const hr = holder.getBoundingClientRect();
      const slack = Math.max(2, 0.3 * parseFloat(cs.fontSize)) * (canvas && canvas.contains(el) ? scale : 1);  // screen px
      for (const node of el.childNodes) {
        if (node.nodeType !== Node.TEXT_NODE || !node.textContent.trim()) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        for (const line of range.getClientRects()) {
          if (line.width > 0 && (line.left < hr.left - TOL || line.right > hr.right + TOL || line.top < hr.top - slack || line.bottom > hr.bottom + slack)) {
            problems.push('spills: ' + name(el));
            break;
          }
        }
      }
    }
    const px = parseFloat(cs.fontSize) * (canvas && canvas.contains(el) ? scale : 1);
    if (px < minPx - 0.01) problems.push('small: ' + name(el) + ' ' + px.toFixed(2) + 'px < ' + minPx.toFixed(2) + 'px');
    shown.push({el, r});
  }
  for (let i = 0; i < shown.length; i++) {
    for (let j = i + 1; j < shown.length; j++) {
      const a = shown[i], b = shown[j];
      if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
      const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
      const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
      if (w > 2 && h > 2) problems.push('overlap: ' + name(a.el) + ' / ' + name(b.el));
    }
  }
  return {problems, checked: shown.length, minPx, scale,
          scroll: [document.documentElement.scrollWidth, document.documentElement.scrollHeight, innerWidth, innerHeight]};
}
"""


def layout_report(page: Any, min_fraction: float = 1 / 90) -> dict[str, Any]:
    """Run LAYOUT_JS in ``page``: {problems, checked, minPx, scale, scroll}."""
    return page.evaluate(LAYOUT_JS, {"minFraction": min_fraction})


FLOOR_JS = r"""
(floors) => {
  const canvas = document.getElementById('wall-canvas');
  const scale = canvas ? canvas.getBoundingClientRect().height / canvas.offsetHeight : 1;
  const problems = [];
  let checked = 0;
  for (const [selector, minPx] of Object.entries(floors)) {
    for (const box of document.querySelectorAll(selector)) {
      const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
      while (walker.nextNode()) {
        const el = walker.currentNode.parentElement;
        if (!walker.currentNode.textContent.trim() || !el.getClientRects().length) continue;
        checked += 1;
        const px = parseFloat(getComputedStyle(el).fontSize) * scale;
        if (px < minPx * scale - 0.01) problems.push(selector + ' "' + el.textContent.trim().slice(0, 30) + '" ' + (px / scale).toFixed(1) + 'px < ' + minPx + 'px');
      }
    }
  }
  return {problems, checked};
}
"""


def floor_report(page: Any, floors: dict[str, float]) -> dict[str, Any]:
    """Every shown text inside each selector at least its floor, in px of the 1920×1080 canvas: {problems, checked}."""
    return page.evaluate(FLOOR_JS, floors)


# The wall's text floor: 18 px of the 1920×1080 canvas, 1/60 of the screen's height (docs/wall.md).
WALL_FLOOR = 1 / 60
