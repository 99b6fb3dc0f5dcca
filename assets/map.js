/* Lianxin map: the live parts of the region figure made by layouts/map.py.

   The figure arrives once, with everything this script needs in layout.meta.map. Afterwards:
   - frames' map_regions recolour the regions in the KPI chosen on the page, at most once a second:
     each region's fillcolor is set in the figure's data and on its SVG path (what Plotly.restyle
     would do, without its pass over every trace's defaults); no geometry is sent or recalculated;
   - map_flashes, map_transfers and map_notices are drawn on a layer over the plot (flashes fade,
     comets fly along transfer lines from source to destination, notices pulse), positioned with
     the figure's own axes and moved on the page's motion clock (live.js: ten beats a second, only
     while something moves), so nothing animated goes through Plotly;
   - on /map (meta.drill), a click on a region zooms to it and asks the server for its
     organisations (dcc.Store map-drill -> callbacks/map.py -> map-orgs), drawn as markers
     that open /org/CODE; "back" returns to the whole map. Frames never undo the selection.
   Frame format: dashboard/map/frames.py. */
(function () {
  "use strict";

  var FLASH_MS = 1600;          // a flash grows and fades in this time
  var SPREAD_MS = 250;          // a frame's flashes are spread over one frame period
  var FLASH_MAX_AGE_MS = 3000;  // flashes older than this (a reconnect's full frame) are not shown
  var LINE_PERIOD_MS = 2400;    // one flight along a transfer line
  var LINE_FADE_MS = 600;       // a closed transfer's line fades out
  var NOTICE_PULSE_MS = 1400;   // one ring of a notice's pulse
  var DIM_ALPHA = 0.28;         // regions outside a drilled-into one
  var REPAINT_MS = 1000;        // live recolouring of the regions, at most this often
  var FLASHES_PER_FRAME = 10;   // of a frame's flashes (the newest): ~40 a second, ~64 alive at once
  var MAX_FLASHES = 64;         // flashes alive at once (the pool), the oldest reused first
  var GRID = "#1d2946";
  var CLUSTER_PX = 22;          // drill-down markers closer than this join a cluster with their count
  var CLUSTER_R = 13;
  var SWIPE_PX = 80;            // a sideways swipe this long closes a drill-down
  var TAP_SLOP_PX = 10;         // a touch that moves further is a swipe or a scroll, not a tap
  var TOUCH_CLICK_MS = 700;     // so the click Plotly sends at its end (this soon after) is ignored
  var LABEL_STEP = 14;          // a crowded label moves out from its region in steps of this many px,
  var LABEL_REACH = 150;        // at most this far, with a leader line back to its region

  var S = {
    gd: null, meta: null, kpi: null, codes: [], index: {}, values: null,
    notices: [], lines: {}, orgs: null, drill: null,
    applied: { fill: [], lineColour: [], lineWidth: [] }, paths: null, repaintAt: 0, repaintTimer: 0,
    fullRange: null,
    stats: { frames: 0, restyles: 0, flashes: 0, lines: 0, drills: 0, markers: 0 }
  };
  window.lianxinMap = S;       // for tests and the curious

  // --- helpers ------------------------------------------------------------------------------

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function kpiInfo(key) {
    var list = S.meta.kpis;
    for (var i = 0; i < list.length; i++) if (list[i].key === key) return { i: i, info: list[i] };
    return { i: 0, info: list[0] };
  }

  function fmtCount(n) {
    if (n === null || n === undefined) return "—";
    if (S.meta.lang === "zh" && Math.abs(n) >= 100000) {
      return Math.abs(n) >= 100000000 ? (n / 100000000).toFixed(2) + "亿" : (n / 10000).toFixed(1) + "万";
    }
    return Math.round(n).toLocaleString("en-US");
  }

  function fmtKpi(key, v) {
    if (v === null || v === undefined) return "—";
    if (kpiInfo(key).info.rate) return (v * 100).toFixed(1) + "%";
    return key === "activity" ? v.toFixed(2) : fmtCount(v);
  }

  function parseRgb(c) {
    var m = /rgba?\(([^)]+)\)/.exec(c);
    if (m) return m[1].split(",").slice(0, 3).map(Number);
    var h = c.replace("#", "");
    return [parseInt(h.substr(0, 2), 16), parseInt(h.substr(2, 2), 16), parseInt(h.substr(4, 2), 16)];
  }

  // Quintile classes, as layouts/map.class_breaks: the lower bounds of the classes above the first.
  function classBreaks(values) {
    var sorted = values.filter(function (v) { return v !== null && v !== undefined; }).sort(function (a, b) { return a - b; });
    var n = S.meta.classColours.length, breaks = [];
    for (var q = 1; q < n && sorted.length; q++) {
      var b = sorted[Math.floor(sorted.length * q / n)];
      if (b > sorted[0] && (!breaks.length || b > breaks[breaks.length - 1])) breaks.push(b);
    }
    if (!breaks.length && sorted.length && sorted[sorted.length - 1] > sorted[0]) {   // most tie at the lowest
      breaks.push(sorted.filter(function (v) { return v > sorted[0]; })[0]);
    }
    return breaks;
  }

  // The colour of a value's class (layouts/map.class_colour); no value takes the first class's colour.
  function classColour(v, breaks) {
    var colours = S.meta.classColours, last = colours.length - 1;
    if (v === null || v === undefined) return parseRgb(colours[0]);
    if (!breaks.length) return parseRgb(colours[0]);   // all equal: one class, shared with no value
    var k = 0;
    breaks.forEach(function (b) { if (v >= b) k += 1; });
    return parseRgb(colours[Math.round(k * last / breaks.length)]);
  }

  function rgba(rgb, alpha) {
    return alpha >= 1 ? "rgb(" + rgb.join(",") + ")" : "rgba(" + rgb.join(",") + "," + alpha + ")";
  }

  // --- projection: lon/lat -> pixels of the overlay (the plot's own axes) ---------------------

  function project(lon, lat) { return projectXY(lon * S.meta.lonScale, lat); }

  // A point given on the figure's own axes (x already scaled: the inset's points are given so).
  function projectXY(x, y) {
    var fl = S.gd._fullLayout, xa = fl.xaxis, ya = fl.yaxis;
    return [xa._offset + xa.l2p(x), ya._offset + ya.l2p(y)];
  }

  // --- region colours, outlines and the legend --------------------------------------------------

  // Each region's fill path, by trace index, from Plotly's own data binding (null if that ever changes).
  function fillPaths() {
    var paths = [];
    S.gd.querySelectorAll(".scatterlayer .trace").forEach(function (g) {
      var cd = g.__data__, path = g.querySelector("path.js-fill");
      if (cd && cd[0] && cd[0].trace && path && cd[0].trace.index < S.codes.length) paths[cd[0].trace.index] = path;
    });
    return paths.length === S.codes.length ? paths : null;
  }

  function setFills(idx, fills) {
    if (S.paths === null) S.paths = fillPaths();
    if (!S.paths) { window.Plotly.restyle(S.gd, { fillcolor: fills }, idx); return; }
    idx.forEach(function (i, k) {
      S.gd.data[i].fillcolor = fills[k];
      if (S.gd._fullData[i]) S.gd._fullData[i].fillcolor = fills[k];
      S.paths[i].style.fill = fills[k];
      S.paths[i].style.fillOpacity = 1;   // the colour carries its alpha; Plotly may have split it out
    });
  }

  // Frames ask for a recolouring; it happens at most every REPAINT_MS (a repaint of the whole map).
  function recolourSoon() {
    if (S.repaintTimer) return;
    var wait = Math.max(0, S.repaintAt + REPAINT_MS - performance.now());
    S.repaintTimer = setTimeout(function () { S.repaintTimer = 0; recolour(); }, wait);
  }

  function recolour() {
    if (!S.gd) return;
    S.repaintAt = performance.now();
    var col = kpiInfo(S.kpi).i;
    var values = S.values || {};
    var picked = S.codes.map(function (c) { var row = values[c]; return row ? row[col] : null; });
    var breaks = classBreaks(picked);
    var marked = {};
    S.notices.forEach(function (n) { marked[n[0]] = S.meta.notice[n[1]] || S.meta.notice.info; });
    var fillIdx = [], fills = [], lineIdx = [], lc = [], lw = [];
    S.codes.forEach(function (code, i) {
      var v = picked[i];
      var f = rgba(classColour(v, breaks), S.drill && S.drill !== code ? DIM_ALPHA : 1);
      var c = marked[code] || GRID, w = marked[code] ? 2.5 : 0.8;
      if (S.drill === code && !marked[code]) { c = "#f3c14b"; w = 2; }
      if (f !== S.applied.fill[i]) { fillIdx.push(i); fills.push(f); S.applied.fill[i] = f; }
      if (c !== S.applied.lineColour[i] || w !== S.applied.lineWidth[i]) {
        lineIdx.push(i); lc.push(c); lw.push(w);
        S.applied.lineColour[i] = c; S.applied.lineWidth[i] = w;
      }
    });
    if (fillIdx.length) { setFills(fillIdx, fills); S.stats.restyles += 1; }
    if (lineIdx.length) window.Plotly.restyle(S.gd, { "line.color": lc, "line.width": lw }, lineIdx);  // outlines: rare
    S.regionBreaks = breaks;
    legend();
    labelsSoon();
  }

  // The classes' bounds as the legend writes them: with one or two more decimals where the usual
  // ones would write two different bounds alike (0.086 and 0.094 both "0.09").
  function boundTexts(breaks) {
    var texts = [];
    for (var more = 0; more <= 2; more++) {
      texts = breaks.map(function (b) {
        if (kpiInfo(S.kpi).info.rate) return (b * 100).toFixed(1 + more) + "%";
        return S.kpi === "activity" ? b.toFixed(2 + more) : fmtKpi(S.kpi, b);
      });
      if (texts.every(function (x, i) { return i === 0 || x !== texts[i - 1]; })) break;
    }
    return texts;
  }

  // The legend: the classes of the regions, or of the markers while a region's organisations are
  // shown, each with its lower bound; and, in words, which divisions have no data (台湾省资料暂缺).
  function legend() {
    var box = S.legendBox;
    if (!box) return;
    var breaks = (S.drill && S.orgs && S.orgs.length ? S.markerBreaks : S.regionBreaks) || [];
    box.querySelector(".map-legend-title").textContent = kpiInfo(S.kpi).info.label;
    var bar = box.querySelector(".map-legend-classes");
    bar.textContent = "";
    var bounds = [null].concat(breaks), texts = boundTexts(breaks);
    bounds.forEach(function (b, k) {
      var item = el("span", "map-legend-class");
      var swatch = el("i");
      swatch.style.background = rgba(classColour(b === null ? (breaks.length ? breaks[0] - 1 : 0) : b, breaks), 1);
      item.appendChild(swatch);
      item.appendChild(el("span", "map-legend-bound", k === 0 ? (breaks.length ? "<" + texts[0] : "") : "≥" + texts[k - 1]));
      bar.appendChild(item);
    });
    var values = S.values || {}, col = kpiInfo(S.kpi).i;
    var shown = 0;
    S.notesBox.querySelectorAll(".map-note").forEach(function (note) {
      var row = values[note.getAttribute("data-code")], has = row && row[col] !== null && row[col] !== undefined;
      note.style.display = has ? "none" : "";
      shown += has ? 0 : 1;
    });
    S.notesBox.classList.toggle("all-hidden", shown === 0);
  }

  // --- the overlay: live layer, SVG for markers, legend, counter, tooltip ------------------------------

  function buildOverlay() {
    var host = S.gd.parentNode;
    var old = host.querySelector(".map-overlay");
    if (old) old.remove();
    var ov = el("div", "map-overlay" + (S.meta.drill ? " interactive" : ""));
    var ns = "http://www.w3.org/2000/svg";
    var lines = document.createElementNS(ns, "svg");
    lines.setAttribute("class", "map-lines");
    var fx = el("div", "map-fx");
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "map-markers");
    var lg = el("div", "map-legend");
    lg.appendChild(el("div", "map-legend-title"));
    lg.appendChild(el("div", "map-legend-classes"));
    lg.appendChild(el("div", "map-legend-how", S.meta.labels.classes));
    var notes = el("div", "map-notes");
    Object.keys(S.meta.notes).sort().forEach(function (code) {
      var note = el("div", "map-note", S.meta.notes[code]);
      note.setAttribute("data-code", code);
      notes.appendChild(note);
    });
    // Beside the map rather than on its land where the page has a place for them: the wall's panel
    // for the legend, counter, notes and kinds (layouts/wall.map_body), /map's side column for the
    // kinds and the notes (layouts/map.map_page). Otherwise they are corners of the overlay.
    var page = S.gd.closest(".wall, .map-page") || document;
    var place = {
      left: page.querySelector(".map-aside-left"), right: page.querySelector(".map-aside-right"),
      kinds: page.querySelector(".map-kinds-slot"), notes: page.querySelector(".map-notes-slot")
    };
    var beside = !!(place.left && place.right);
    var labelLayer = el("div", "map-labels");
    var kinds = el("div", "map-kinds");
    kinds.appendChild(el("span", "map-kinds-title", S.meta.labels.kinds));
    S.meta.kinds.forEach(function (k) {
      var item = el("span", "map-kind");
      var dot = el("i");
      dot.style.background = k.colour;
      item.appendChild(dot);
      item.appendChild(document.createTextNode(k.label));
      kinds.appendChild(item);
    });
    var counter = el("div", "map-counter");
    [["in_flight", "map-transfers-in-flight"], ["overdue", "map-transfers-overdue"]].forEach(function (row) {
      var item = el("div", "map-counter-item " + row[0]);
      item.appendChild(el("span", "label", S.meta.labels[row[0]]));
      var value = el("span", "value");
      value.id = row[1];
      item.appendChild(value);
      counter.appendChild(item);
    });
    var tip = el("div", "map-tip");
    [labelLayer, lines, fx, svg].forEach(function (n) { ov.appendChild(n); });
    if (beside) {
      place.left.replaceChildren(lg);
      place.right.replaceChildren(counter, notes);
    } else {
      if (place.notes) place.notes.replaceChildren(notes); else lg.appendChild(notes);
      [lg, counter].forEach(function (n) { ov.appendChild(n); });
    }
    if (place.kinds) place.kinds.replaceChildren(kinds); else ov.appendChild(kinds);
    ov.appendChild(tip);
    host.appendChild(ov);
    S.overlay = ov; S.linesSvg = lines; S.fx = fx; S.svg = svg; S.tip = tip; S.labelLayer = labelLayer;
    S.legendBox = lg; S.notesBox = notes;
    S.flashPool = [];
    S.flashNext = 0;
    for (var i = 0; i < MAX_FLASHES; i++) S.flashPool.push(fx.appendChild(el("i", "map-flash")));
    counterValues(S.meta.transfers);
  }

  function counterValues(tr) {
    if (!tr || !S.overlay) return;
    var inFlight = document.getElementById("map-transfers-in-flight");
    var overdue = document.getElementById("map-transfers-overdue");
    if (tr.in_flight !== undefined) inFlight.textContent = tr.in_flight === null ? "<5" : fmtCount(tr.in_flight);
    if (tr.overdue !== undefined) {
      overdue.textContent = tr.overdue === null ? "<5" : fmtCount(tr.overdue);
      overdue.parentNode.classList.toggle("alarm", tr.overdue !== 0);
    }
  }

  /* --- what moves: flashes, flying lines, notice pulses --------------------------------------------
     Each is a small element moved on transform and opacity only, set at each beat of the page's
     motion clock (window.lianxinMotion): no repaint of the map, and ten rendered frames a second
     instead of the sixty a compositor animation asks for. (A canvas redrawn 25 times a second cost
     a ~6 MB layer upload each time; Web Animations at 60 fps kept a software-rendered wall at ~60 %
     of a core.) */

  var motion = window.lianxinMotion;

  function easeOut(k) { return 1 - (1 - k) * (1 - k); }

  function at(node, p) {
    node.style.left = p[0].toFixed(1) + "px";
    node.style.top = p[1].toFixed(1) + "px";
  }

  // Flashes reuse a fixed pool of elements, oldest first: the set of layers never changes, and a new
  // flash is only a new transform animation (where and how big) and a colour.
  function flash(f, delay) {
    var node = S.flashPool[S.flashNext];
    S.flashNext = (S.flashNext + 1) % S.flashPool.length;
    var p = project(f[0], f[1]);
    node.style.color = S.meta.kinds[f[2]] ? S.meta.kinds[f[2]].colour : "#ffffff";
    node._xy = "translate(" + p[0].toFixed(1) + "px," + p[1].toFixed(1) + "px) ";
    node._t0 = performance.now() + delay;
    motion.move(flashBeat);
  }

  // A flash grows from a quarter of its size and fades, eased out; returns whether any still shows.
  function flashBeat(now) {
    var alive = false;
    S.flashPool.forEach(function (node) {
      if (node._t0 === undefined) return;
      var k = (now - node._t0) / FLASH_MS;
      if (k >= 1) { node.style.opacity = "0"; node._t0 = undefined; return; }
      alive = true;
      if (k < 0) { node.style.opacity = "0"; return; }
      var e = easeOut(k);
      node.style.transform = node._xy + "scale(" + (0.25 + 0.75 * e).toFixed(3) + ")";
      node.style.opacity = (1 - e).toFixed(3);
    });
    return alive;
  }

  function curve(p0, p1) {
    var mx = (p0[0] + p1[0]) / 2, my = (p0[1] + p1[1]) / 2;
    var dx = p1[0] - p0[0], dy = p1[1] - p0[1];
    var d = Math.sqrt(dx * dx + dy * dy) || 1;
    var nx = -dy / d, ny = dx / d;
    if (ny > 0) { nx = -nx; ny = -ny; }   // always bow upwards on screen
    var lift = Math.min(0.3 * d, 120);
    return [mx + nx * lift, my + ny * lift];
  }

  function bezier(p0, c, p1, t) {
    var u = 1 - t;
    return [u * u * p0[0] + 2 * u * t * c[0] + t * t * p1[0], u * u * p0[1] + 2 * u * t * c[1] + t * t * p1[1]];
  }

  // One transfer line: a faint curve with its two ends (SVG, static) and a comet flying along it.
  function drawLine(ln) {
    var ns = "http://www.w3.org/2000/svg";
    var p0 = project(ln.v[0], ln.v[1]), p1 = project(ln.v[2], ln.v[3]), c = curve(p0, p1);
    var colour = ln.v[4] ? S.meta.transferColours.overdue : S.meta.transferColours.open;
    var g = document.createElementNS(ns, "g");
    g.setAttribute("class", "map-line" + (ln.v[4] ? " overdue" : ""));
    g.style.color = colour;
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M" + p0.join(" ") + "Q" + c.join(" ") + " " + p1.join(" "));
    g.appendChild(path);
    [[p0, 2.2, "from"], [p1, 3, "to"]].forEach(function (end) {
      var dot = document.createElementNS(ns, "circle");
      dot.setAttribute("cx", end[0][0].toFixed(1));
      dot.setAttribute("cy", end[0][1].toFixed(1));
      dot.setAttribute("r", end[1]);
      dot.setAttribute("class", end[2]);
      g.appendChild(dot);
    });
    S.linesSvg.appendChild(g);
    var comet = el("i", "map-comet");
    comet.style.color = colour;
    S.fx.appendChild(comet);
    ln.nodes = [g, comet];
    ln.flight = [p0, c, p1];
    cometBeat(performance.now());
    motion.move(cometBeat);
  }

  // Every open line's comet, where its flight (LINE_PERIOD_MS, from its own phase) has it now.
  function cometBeat(now) {
    var flying = false;
    Object.keys(S.lines).forEach(function (key) {
      var ln = S.lines[key];
      if (!ln.nodes) return;
      flying = true;
      var t = (now / LINE_PERIOD_MS + ln.phase) % 1, q = bezier(ln.flight[0], ln.flight[1], ln.flight[2], t);
      ln.nodes[1].style.transform = "translate(" + q[0].toFixed(1) + "px," + q[1].toFixed(1) + "px)";
      ln.nodes[1].style.opacity = t > 0.96 ? "0" : "1";
    });
    return flying;
  }

  function removeLine(ln) {
    var nodes = ln.nodes || [], start = performance.now();
    ln.nodes = null;
    if (!nodes.length) return;
    motion.move(function fadeBeat(now) {
      var k = (now - start) / LINE_FADE_MS;
      nodes.forEach(function (node) { if (k >= 1) node.remove(); else node.style.opacity = (1 - k).toFixed(3); });
      return k < 1;
    });
  }

  function drawNotices() {
    S.fx.querySelectorAll(".map-notice").forEach(function (node) { node.remove(); });
    S.notices.forEach(function (n) {
      var c = S.meta.centroids[n[0]];
      if (!c) return;
      var node = el("i", "map-notice level-" + n[1]);
      node.style.color = S.meta.notice[n[1]] || S.meta.notice.info;
      node.appendChild(el("i", "map-notice-ring"));
      at(node, project(c[0], c[1]));
      S.fx.appendChild(node);
    });
    if (S.notices.length) motion.move(noticeBeat);
  }

  // The rings of every notice on the map, one pulse each NOTICE_PULSE_MS.
  function noticeBeat(now) {
    var rings = S.fx ? S.fx.querySelectorAll(".map-notice-ring") : [];
    var e = easeOut((now % NOTICE_PULSE_MS) / NOTICE_PULSE_MS);
    Array.prototype.forEach.call(rings, function (ring) {
      ring.style.transform = "scale(" + (0.3 + 0.7 * e).toFixed(3) + ")";
      ring.style.opacity = (1 - e).toFixed(3);
    });
    return rings.length > 0;
  }

  // After a zoom or a resize the projection changed: put everything that stays where it belongs.
  function relayoutFx() {
    Object.keys(S.lines).forEach(function (key) {
      var ln = S.lines[key];
      (ln.nodes || []).forEach(function (node) { node.remove(); });
      drawLine(ln);
    });
    drawNotices();
    drawMarkers();
    placeLabels();
  }

  /* --- labels: region names with their values, island names ---------------------------------------
     Every region on /map, the leading ones on the wall (meta.labelTop). Each label starts on its
     region's point and, where it would cover another label, an island, the inset or a panel, moves
     out in rings until it fits, with a leader line back; none is drawn over another. */

  // Label elements are added hidden and measured together in one layout: the widths are the ones
  // drawn (a canvas measure missed the tabular figures, and a label overlapped its neighbour at 4K).
  function measured(nodes) {
    nodes.forEach(function (n) { n.style.visibility = "hidden"; n.style.left = "0px"; n.style.top = "0px"; S.labelLayer.appendChild(n); });
    return nodes.map(function (n) { return { w: n.offsetWidth + 1, h: n.offsetHeight + 1 }; });
  }

  function show(n, r) {
    n.style.left = r.x.toFixed(1) + "px"; n.style.top = r.y.toFixed(1) + "px";
    n.style.visibility = "";
  }

  function within(r, box) { return r.x >= box.x && r.y >= box.y && r.x + r.w <= box.x + box.w && r.y + r.h <= box.y + box.h; }

  function hits(r, rects) {
    for (var i = 0; i < rects.length; i++) {
      var o = rects[i];
      if (r.x < o.x + o.w && o.x < r.x + r.w && r.y < o.y + o.h && o.y < r.y + r.h) return true;
    }
    return false;
  }

  function panelRects() {
    var rects = [];
    S.overlay.querySelectorAll(".map-legend, .map-kinds, .map-counter").forEach(function (n) {
      rects.push({ x: n.offsetLeft - 4, y: n.offsetTop - 4, w: n.offsetWidth + 8, h: n.offsetHeight + 8 });
    });
    return rects;
  }

  // The boxes of the inset's dashes (the "dashes" trace: runs of points between nulls), in overlay px.
  function dashRects() {
    var tr = S.gd.data.filter(function (t) { return t.name === "dashes"; })[0], rects = [], run = [];
    if (!tr) return rects;
    tr.x.concat([null]).forEach(function (x, k) {
      if (x !== null && tr.y[k] !== null && tr.y[k] !== undefined) { run.push(projectXY(x, tr.y[k])); return; }
      if (run.length) {
        var xs = run.map(function (q) { return q[0]; }), ys = run.map(function (q) { return q[1]; });
        var x0 = Math.min.apply(null, xs), y0 = Math.min.apply(null, ys);
        rects.push({ x: x0 - 1, y: y0 - 1, w: Math.max.apply(null, xs) - x0 + 2, h: Math.max.apply(null, ys) - y0 + 2 });
      }
      run = [];
    });
    return rects;
  }

  function insetRect() {
    var b = S.meta.insetBox, p0 = projectXY(b[0], b[1]), p1 = projectXY(b[2], b[3]);
    return { x: p0[0], y: p1[1], w: p1[0] - p0[0], h: p0[1] - p1[1] };
  }

  var labelTimer = 0;
  function labelsSoon() { if (!labelTimer) labelTimer = setTimeout(function () { labelTimer = 0; placeLabels(); }, 0); }

  function placeLabels() {
    var layer = S.labelLayer;
    if (!layer || !S.gd._fullLayout.xaxis) return;
    layer.textContent = "";
    var W = S.overlay.clientWidth, H = S.overlay.clientHeight, view = { x: 0, y: 0, w: W, h: H };
    var inset = insetRect(), panels = panelRects(), placed = [];
    var blocked = panels.concat([{ x: inset.x - 4, y: inset.y - 4, w: inset.w + 8, h: inset.h + 8 }]);
    var ns = "http://www.w3.org/2000/svg", leaders = document.createElementNS(ns, "svg");
    leaders.setAttribute("class", "map-leaders");
    layer.appendChild(leaders);
    var marks = S.meta.islands.map(function (isl) { var p = projectXY(isl.x, isl.y); return { x: p[0] - 5, y: p[1] - 5, w: 10, h: 10 }; });
    blocked = blocked.concat(marks);
    // Island marks and names first: fixed, never covered. A name sits beside its mark on the first free
    // side, the inset's inside the inset's frame; where none is free (the wall's small inset) the mark
    // stays and the name is left out.
    var islands = S.meta.islands.filter(function (isl) { return isl.inset || !S.drill; });
    var islandNodes = islands.map(function (isl) { return el("div", "map-island-name", isl.text); });
    var dashes = dashRects();
    measured(islandNodes).forEach(function (size, i) {
      var isl = islands[i], p = projectXY(isl.x, isl.y), w = size.w, h = size.h, r = null;
      var sides = [[6, -h + 2], [6, -2], [-w - 6, -h + 2], [-w - 6, -2], [-w / 2, -h - 5], [-w / 2, 5]];
      var fits = function (clearOfDashes) {
        return sides.some(function (d) {
          r = { x: p[0] + d[0], y: p[1] + d[1], w: w, h: h };
          return within(r, view) && (!isl.inset || within(r, inset)) && !hits(r, placed) && !hits(r, marks) && !hits(r, panels)
            && (isl.inset || !hits(r, [inset])) && (!clearOfDashes || !hits(r, dashes));
        });
      };
      if (!fits(true) && !fits(false)) { islandNodes[i].remove(); return; }   // clear of the dashed line where it can be
      show(islandNodes[i], r);
      placed.push(r);
    });
    if (S.drill) return;
    var col = kpiInfo(S.kpi).i, values = S.values || {};
    var value = function (c) { var row = values[c]; return row && row[col] !== null && row[col] !== undefined ? row[col] : null; };
    var codes = S.codes.filter(function (c) { return S.meta.centroids[c]; });
    codes.sort(function (a, b) { var va = value(a), vb = value(b); return (vb === null ? -Infinity : vb) - (va === null ? -Infinity : va); });
    if (S.meta.labelTop) codes = codes.filter(function (c) { return value(c) > 0; }).slice(0, S.meta.labelTop);   // leading: above 0
    var nodes = codes.map(function (code) {
      var v = value(code), n = el("div", "map-label");
      n.setAttribute("data-code", code);
      n.appendChild(el("b", null, S.meta.short[code] || code));
      if (v !== null) n.appendChild(el("span", null, fmtKpi(S.kpi, v)));
      return n;
    });
    measured(nodes).forEach(function (size, i) {
      var c = S.meta.centroids[codes[i]], p = project(c[0], c[1]), w = size.w, h = size.h;
      var spot = null;
      for (var radius = 0; radius <= LABEL_REACH && !spot; radius += LABEL_STEP) {
        var steps = radius ? 16 : 1;
        for (var k = 0; k < steps && !spot; k++) {
          var a = (k / steps) * 2 * Math.PI;
          var r = { x: p[0] + radius * Math.cos(a) - w / 2, y: p[1] + radius * Math.sin(a) - h / 2, w: w, h: h };
          if (within(r, view) && !hits(r, placed) && !hits(r, blocked)) spot = r;
        }
      }
      if (!spot) { nodes[i].remove(); return; }
      placed.push(spot);
      show(nodes[i], spot);
      var cx = spot.x + w / 2, cy = spot.y + h / 2;
      if (Math.abs(cx - p[0]) > w / 2 || Math.abs(cy - p[1]) > h / 2) {
        var line = document.createElementNS(ns, "line");
        line.setAttribute("x1", p[0].toFixed(1)); line.setAttribute("y1", p[1].toFixed(1));
        line.setAttribute("x2", Math.min(Math.max(p[0], spot.x), spot.x + w).toFixed(1));
        line.setAttribute("y2", Math.min(Math.max(p[1], spot.y), spot.y + h).toFixed(1));
        leaders.appendChild(line);
      }
    });
  }

  // --- frames ------------------------------------------------------------------------------

  function onRegions(values) {
    S.values = values;
    S.stats.frames += 1;
    recolourSoon();
  }

  function onFlashes(value, frame) {
    if (!value || !value.e || (frame && frame.ts - value.t > FLASH_MAX_AGE_MS)) return;
    var shown = value.e.slice(-FLASHES_PER_FRAME);
    shown.forEach(function (e, i) { flash(e, (i / shown.length) * SPREAD_MS); });
    S.stats.flashes += shown.length;
  }

  function onTransfers(list) {
    var keep = {};
    (list || []).forEach(function (v) {
      var key = v.slice(0, 4).join(",");
      keep[key] = true;
      var ln = S.lines[key];
      if (ln && ln.v[4] === v[4]) return;
      if (ln) removeLine(ln);
      ln = S.lines[key] = { v: v, phase: Math.random(), nodes: null };
      drawLine(ln);
    });
    Object.keys(S.lines).forEach(function (key) {
      if (!keep[key]) { removeLine(S.lines[key]); delete S.lines[key]; }
    });
    S.stats.lines = Object.keys(S.lines).length;
  }

  function onNotices(list) {
    S.notices = list || [];
    recolour();
    drawNotices();
  }

  if (window.lianxinFrames) {
    window.lianxinFrames.on("map_regions", function (v) { S.values = v; if (S.gd) onRegions(v); });
    window.lianxinFrames.on("map_flashes", function (v, f) { if (S.gd) onFlashes(v, f); });
    window.lianxinFrames.on("map_transfers", function (v) { S.pendingLines = v; if (S.gd) onTransfers(v); });
    window.lianxinFrames.on("map_notices", function (v) { S.notices = v || []; if (S.gd) onNotices(v); });
    window.lianxinFrames.on("transfers", function (v) { S.pendingCounter = v; counterValues(v); });
  }

  // --- hover, drill-down, markers ------------------------------------------------------------

  function tipAt(evt, html) {
    var box = S.overlay.getBoundingClientRect();
    var scale = box.width / (S.overlay.clientWidth || 1);
    S.tip.innerHTML = html;
    S.tip.style.display = "block";
    var x = (evt.clientX - box.left) / scale + 14, y = (evt.clientY - box.top) / scale + 14;
    var w = S.tip.offsetWidth, h = S.tip.offsetHeight;
    if (x + w > S.overlay.clientWidth) x -= w + 28;
    if (y + h > S.overlay.clientHeight) y -= h + 28;
    S.tip.style.left = Math.max(0, x) + "px";
    S.tip.style.top = Math.max(0, y) + "px";
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; });
  }

  function figuresHtml(name, row) {
    var html = "<b>" + escapeHtml(name) + "</b>";
    S.meta.kpis.forEach(function (k, i) {
      var v = row ? row[i] : null;
      html += '<div class="' + (k.key === S.kpi ? "sel" : "") + '"><span>' + escapeHtml(k.label) + "</span><span>" + fmtKpi(k.key, v) + "</span></div>";
    });
    return html;
  }

  function onHover(ev) {
    var pt = ev.points && ev.points[0];
    if (!pt || !S.meta.drill || !ev.event || S.overMarker) return;
    var code = S.codes[pt.curveNumber];
    tipAt(ev.event, figuresHtml(S.meta.names[code] || code, (S.values || {})[code]));
  }

  function hideTip() { if (S.tip) S.tip.style.display = "none"; }

  function regionBox(i) {
    var tr = S.gd.data[i], x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    var inset = S.meta.insetBox;   // a region's part in the inset is not where it is
    for (var k = 0; k < tr.x.length; k++) {
      var x = tr.x[k], y = tr.y[k];
      if (x === null || y === null || (x >= inset[0] && x <= inset[2] && y >= inset[1] && y <= inset[3])) continue;
      if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
    }
    var px = Math.max((x1 - x0) * 0.12, 0.3), py = Math.max((y1 - y0) * 0.12, 0.3);
    return { x: [x0 - px, x1 + px], y: [y0 - py, y1 + py] };
  }

  function setDrill(value) {
    if (S.meta.drill && window.dash_clientside && window.dash_clientside.set_props) {   // the store is on /map only
      window.dash_clientside.set_props("map-drill", { data: value });
    }
  }

  // A committee of the open region: its branches become the markers and the list.
  function openOrg(code) {
    if (!S.drill) return;
    S.drillOrg = code;
    S.orgs = null;
    drawMarkers();
    setDrill({ region: S.drill, kpi: S.kpi, org: code });
  }

  function drillInto(code) {
    if (!S.meta.drill || S.index[code] === undefined) return;
    S.drill = code;
    S.drillOrg = null;
    S.orgs = null;
    S.stats.drills += 1;
    drawMarkers();
    hideTip();
    var box = regionBox(S.index[code]);
    window.Plotly.relayout(S.gd, { "xaxis.range": box.x, "yaxis.range": box.y, "yaxis.autorange": false });
    recolour();
    setDrill({ region: code, kpi: S.kpi });
  }

  // Back one step: from a committee's branches to its region, from a region to the whole map.
  function back() {
    if (!S.drill) return;
    if (S.drillOrg) {
      S.drillOrg = null;
      S.orgs = null;
      drawMarkers();
      setDrill({ region: S.drill, kpi: S.kpi });
      return;
    }
    S.drill = null;
    S.orgs = null;
    drawMarkers();
    window.Plotly.relayout(S.gd, { "xaxis.range": S.fullRange.slice(), "yaxis.range": S.fullYRange.slice() });
    recolour();
    setDrill(null);
  }

  function onClick(ev) {
    var pt = ev.points && ev.points[0];
    if (!pt || !S.meta.drill || performance.now() - S.touchMovedAt < TOUCH_CLICK_MS) return;   // a swipe, not a tap
    var code = S.codes[pt.curveNumber];
    if (code && code !== S.drill) drillInto(code);
  }

  function drawMarkers() {
    var svg = S.svg;
    if (!svg) return;
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var orgs = S.drill && S.orgs ? S.orgs : [];
    S.stats.markers = orgs.length;
    var col = kpiInfo(S.kpi).i;
    var breaks = S.markerBreaks = classBreaks(orgs.map(function (o) { return o.v[col]; }));
    legend();
    if (!orgs.length) return;
    var most = 1;
    orgs.forEach(function (o) { if ((o.v[1] || 0) > most) most = o.v[1]; });
    var ns = "http://www.w3.org/2000/svg";
    var clusters = cluster(orgs);
    S.stats.clusters = clusters.filter(function (c) { return c.orgs.length > 1; }).length;
    clusters.slice().reverse().forEach(function (k) {   // largest last, drawn on top
      var o = k.orgs[0], g = document.createElementNS(ns, "g"), c = document.createElementNS(ns, "circle");
      var members = k.orgs.reduce(function (sum, x) { return sum + (x.v[1] || 0); }, 0);
      c.setAttribute("cx", k.p[0].toFixed(1));
      c.setAttribute("cy", k.p[1].toFixed(1));
      c.setAttribute("r", (k.orgs.length > 1 ? CLUSTER_R : 4 + 10 * Math.sqrt((o.v[1] || 0) / most)).toFixed(1));
      g.appendChild(c);
      if (k.orgs.length === 1) {
        c.setAttribute("fill", rgba(classColour(o.v[col], breaks), 1));
        g.setAttribute("class", "map-org");
        g.setAttribute("data-code", o.code);
        g.addEventListener("mousemove", function (e) { S.overMarker = true; tipAt(e, figuresHtml(o.name, o.v)); });
        g.addEventListener("click", function () { window.location.href = o.href; });
      } else {   // several organisations that would hide each other: one mark with their count
        g.setAttribute("class", "map-org map-cluster");
        g.setAttribute("data-count", k.orgs.length);
        var label = document.createElementNS(ns, "text");
        label.setAttribute("x", k.p[0].toFixed(1));
        label.setAttribute("y", (k.p[1] + 5).toFixed(1));
        label.textContent = k.orgs.length;
        g.appendChild(label);
        var names = k.orgs.slice(0, 8).map(function (x) { return "<div><span>" + escapeHtml(x.name) + "</span></div>"; }).join("");
        var more = k.orgs.length > 8 ? "<div><span>+" + (k.orgs.length - 8) + "</span></div>" : "";
        g.addEventListener("mousemove", function (e) { S.overMarker = true; tipAt(e, "<b>" + k.orgs.length + " · " + fmtCount(members) + "</b>" + names + more); });
        g.addEventListener("click", function () { zoomTo(k); });
      }
      g.addEventListener("mouseleave", function () { S.overMarker = false; hideTip(); });
      svg.appendChild(g);
    });
  }

  // Markers closer than CLUSTER_PX on screen join one cluster (largest organisations first).
  function cluster(orgs) {
    var clusters = [];
    orgs.forEach(function (o) {
      var p = project(o.lon, o.lat), near = null;
      for (var i = 0; i < clusters.length && !near; i++) {
        var q = clusters[i].p;
        if (Math.abs(q[0] - p[0]) < CLUSTER_PX && Math.abs(q[1] - p[1]) < CLUSTER_PX) near = clusters[i];
      }
      if (near) near.orgs.push(o); else clusters.push({ p: p, orgs: [o] });
    });
    return clusters;
  }

  // A click on a cluster zooms in around it, so that it splits where its organisations are apart.
  function zoomTo(k) {
    var fl = S.gd._fullLayout, xa = fl.xaxis, ya = fl.yaxis;
    var x = xa.p2l(k.p[0] - xa._offset), y = ya.p2l(k.p[1] - ya._offset);
    var w = (xa.range[1] - xa.range[0]) / 4, h = (ya.range[1] - ya.range[0]) / 4;
    window.Plotly.relayout(S.gd, { "xaxis.range": [x - w, x + w], "yaxis.range": [y - h, y + h] });
  }

  function showOrgs(data) {
    if (!S.gd) return 0;
    S.orgs = data && data.region === S.drill && (data.within || null) === (S.drillOrg || null) ? data.orgs : null;
    drawMarkers();
    return S.orgs ? S.orgs.length : 0;
  }

  function setKpi(key) {
    if (!S.meta || !kpiInfo(key).info || kpiInfo(key).info.key !== key) return;
    S.kpi = key;
    document.querySelectorAll("[data-map-kpi]").forEach(function (b) {
      b.classList.toggle("selected", b.getAttribute("data-map-kpi") === key);
    });
    recolour();
    drawMarkers();
    if (S.drill) setDrill(S.drillOrg ? { region: S.drill, kpi: key, org: S.drillOrg } : { region: S.drill, kpi: key });
    var url = new URL(window.location.href);
    url.searchParams.set("kpi", key);
    window.history.replaceState(window.history.state, "", url.toString());
  }

  document.addEventListener("click", function (e) {
    var t = e.target;
    if (!(t instanceof Element)) return;
    var choice = t.closest("[data-map-kpi]");
    if (choice) setKpi(choice.getAttribute("data-map-kpi"));
    if (t.closest("#map-back")) back();
    var open = t.closest("[data-map-org]");
    if (open) openOrg(open.getAttribute("data-map-org"));
  });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") back(); });
  // A sideways swipe on a tablet goes back too. Plotly ends every touch on the map (its axes are fixed,
  // so nothing is dragged) with a click where the finger was lifted: after a finger that moved, that
  // click is not a tap and opens no region.
  var swipe = null, touchFrom = null;
  S.touchMovedAt = -Infinity;
  document.addEventListener("touchstart", function (e) {
    touchFrom = e.touches.length === 1 ? [e.touches[0].clientX, e.touches[0].clientY] : null;
    swipe = S.drill ? touchFrom : null;
  }, { passive: true });
  document.addEventListener("touchmove", function (e) {
    if (!touchFrom || !e.touches.length) return;
    var dx = e.touches[0].clientX - touchFrom[0], dy = e.touches[0].clientY - touchFrom[1];
    if (dx * dx + dy * dy > TAP_SLOP_PX * TAP_SLOP_PX) S.touchMovedAt = performance.now();
  }, { passive: true });
  document.addEventListener("touchend", function (e) {
    if (!swipe || !e.changedTouches.length) return;
    var dx = e.changedTouches[0].clientX - swipe[0], dy = e.changedTouches[0].clientY - swipe[1];
    swipe = null;
    if (Math.abs(dx) > SWIPE_PX && Math.abs(dx) > 2 * Math.abs(dy)) back();
  }, { passive: true });

  // --- finding the figure ------------------------------------------------------------------------

  function init(gd) {
    var meta = gd.layout.meta.map;
    S.gd = gd;
    S.meta = meta;
    S.kpi = meta.kpi;
    S.codes = gd.data.filter(function (tr) { return tr.customdata; }).map(function (tr) { return tr.customdata[0]; });
    S.index = {};
    S.codes.forEach(function (c, i) { S.index[c] = i; });
    S.applied = { fill: gd.data.slice(0, S.codes.length).map(function (tr) { return tr.fillcolor; }), lineColour: [], lineWidth: [] };
    S.paths = null;
    S.fullRange = gd.layout.xaxis.range.slice();
    S.fullYRange = gd.layout.yaxis.range.slice();
    S.drill = null; S.orgs = null; S.lines = {};
    if (!S.values) S.values = meta.values;
    buildOverlay();
    gd.on("plotly_hover", onHover);
    gd.on("plotly_unhover", function () { if (!S.overMarker) hideTip(); });
    gd.on("plotly_click", onClick);
    gd.on("plotly_afterplot", function () { S.paths = null; relayoutFx(); });
    // The wall's rotation resizes the panel by a class on the canvas; Plotly redraws a frame later.
    // Until then the labels are placed again at once inside the panel's new box, so none is left
    // outside it or over another for that beat.
    if (S.focusWatch) S.focusWatch.disconnect();
    var canvas = gd.closest(".wall");
    S.focusWatch = canvas ? new MutationObserver(placeLabels) : null;
    if (canvas) S.focusWatch.observe(canvas, { attributes: true, attributeFilter: ["class"] });
    recolour();
    if (S.pendingLines) onTransfers(S.pendingLines);
    if (S.pendingCounter) counterValues(S.pendingCounter);
    drawNotices();
    S.ready = true;
  }

  function findFigure() {
    if (S.gd && !document.body.contains(S.gd)) {
      S.gd = null; S.ready = false; S.values = null; S.notices = []; S.pendingLines = null; S.pendingCounter = null;
    }
    var gd = document.querySelector("#map-graph .js-plotly-plot");
    if (gd && gd !== S.gd && gd._fullLayout && gd.layout && gd.layout.meta && gd.layout.meta.map && window.Plotly) init(gd);
    watch(!S.gd);
  }
  // The figure appears whenever Dash renders a page: while there is none, look on every DOM change
  // (one query per batch); once found, only check every second that it is still there.
  var looking = 0;
  var watcher = new MutationObserver(function () {
    if (!looking) looking = window.requestAnimationFrame(function () { looking = 0; findFigure(); });
  });
  function watch(on) {
    if (on) watcher.observe(document.documentElement, { childList: true, subtree: true });
    else watcher.disconnect();
  }
  watch(true);
  setInterval(findFigure, 1000);

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.lianxinMap = { showOrgs: showOrgs };
})();
