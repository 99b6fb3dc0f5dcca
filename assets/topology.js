/* The topology graph live: pulses where activity happens and health colours, from frames.

   The server sends organisations as preorder positions relative to the scope's top (see
   dashboard/topology_frames.py); each drawn node carries its subtree range [pre, end) and its
   drawn parent in layout.meta.topology, so a position maps to the deepest drawn node holding it.
   Nothing here rebuilds the figure: pulses are drawn on a canvas laid over the plot, and colours
   are painted onto the nodes whose level changed. */
(function () {
  "use strict";

  var GRAPH_ID = "topology-graph";
  var RIPPLE_MS = 1400;
  var RESTART_MS = 450;          // a node already rippling is not restarted before this
  var MAX_RIPPLES = 800;
  var FADE_STEPS = 8;            // ripples are stroked in this many groups of equal ink
  var FLASH = 0.35;              // share of a ripple's life its node core flashes
  var state = {
    pulseFrames: 0, pulsed: 0, healthFrames: 0, restyles: 0, ripples: [], health: null, drawing: false,
    busyMs: 0, longestMs: {}       // time spent here, and the longest call of each part (benchmarks/topology_browser.py)
  };
  window.lianxinTopology = state;   // for tests and the curious

  /* Runs fn and books its duration under name: the page's own share of any long task. */
  function timed(name, fn) {
    return function () {
      var t0 = performance.now();
      try { return fn.apply(this, arguments); } finally {
        var ms = performance.now() - t0;
        state.busyMs += ms;
        if (!(ms <= state.longestMs[name])) state.longestMs[name] = ms;
      }
    };
  }

  function plot() {
    var box = document.getElementById(GRAPH_ID);
    return box ? box.querySelector(".js-plotly-plot") : null;
  }

  function meta(gd) {
    return gd && gd.layout && gd.layout.meta ? gd.layout.meta.topology : null;
  }

  function traceIndex(gd, name) {
    for (var i = 0; i < gd.data.length; i++) if (gd.data[i].name === name) return i;
    return -1;
  }

  /* The deepest drawn node holding relative position p: the last drawn node starting at or before
     p, then up through drawn parents until one's range covers p. -1 outside the drawn part. */
  function holder(m, p) {
    var lo = 0, hi = m.pre.length - 1, at = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (m.pre[mid] <= p) { at = mid; lo = mid + 1; } else hi = mid - 1;
    }
    while (at >= 0 && m.end[at] <= p) at = m.parent[at];
    return at;
  }

  // --- pulses ---------------------------------------------------------------------------------

  function overlay(gd) {
    var box = gd.parentNode;
    var canvas = box.querySelector("canvas.topo-pulses");
    if (!canvas) {
      canvas = document.createElement("canvas");
      canvas.className = "topo-pulses";
      box.appendChild(canvas);
    }
    var w = gd.clientWidth, h = gd.clientHeight, ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
      canvas.width = Math.round(w * ratio);
      canvas.height = Math.round(h * ratio);
      canvas.style.width = w + "px";
      canvas.style.height = h + "px";
    }
    return { canvas: canvas, ratio: ratio };
  }

  /* One frame of ripples. Ripples are grouped by how faded they are (FADE_STEPS groups), and each
     group is one path stroked once: a handful of canvas strokes a frame however many nodes pulse. */
  function draw(now) {
    var gd = plot();
    var fl = gd && gd._fullLayout;
    if (!fl || !fl.xaxis || !state.ripples.length) { state.drawing = false; clear(gd); return; }
    var nodes = gd.data[traceIndex(gd, "nodes")];
    var o = overlay(gd), ctx = o.canvas.getContext("2d");
    var xa = fl.xaxis, ya = fl.yaxis;
    var rings = [], flashes = [], kept = [], step;
    for (step = 0; step < FADE_STEPS; step++) { rings.push([]); flashes.push([]); }
    for (var k = 0; k < state.ripples.length; k++) {
      var r = state.ripples[k];
      var age = Math.max(0, (now - r.t0) / RIPPLE_MS);  // a frame's timestamp can precede a pulse taken during it
      if (age >= 1 || r.i >= nodes.x.length) continue;
      kept.push(r);
      var x = xa._offset + xa.l2p(nodes.x[r.i]), y = ya._offset + ya.l2p(nodes.y[r.i]);
      var ease = 1 - Math.pow(1 - age, 3), fade = Math.pow(1 - age, 1.6);
      rings[Math.min(FADE_STEPS - 1, Math.floor(fade * FADE_STEPS))].push(x, y, r.size / 2 + 3 + (10 + 6 * r.strength) * ease);
      if (age < FLASH) flashes[Math.min(FADE_STEPS - 1, Math.floor((1 - age / FLASH) * FADE_STEPS))].push(x, y, r.size / 2 + 1);
    }
    ctx.setTransform(o.ratio, 0, 0, o.ratio, 0, 0);
    ctx.clearRect(0, 0, o.canvas.width, o.canvas.height);
    ctx.lineWidth = 2;
    for (step = 0; step < FADE_STEPS; step++) {
      var level = (step + 0.5) / FADE_STEPS;
      if (rings[step].length) {
        ctx.beginPath();
        circles(ctx, rings[step]);
        ctx.strokeStyle = "rgba(255, 214, 102, " + (0.9 * level).toFixed(2) + ")";
        ctx.stroke();
      }
      if (flashes[step].length) {
        ctx.beginPath();
        circles(ctx, flashes[step]);
        ctx.fillStyle = "rgba(255, 245, 200, " + (0.55 * level).toFixed(2) + ")";
        ctx.fill();
      }
    }
    state.ripples = kept;
    if (kept.length) requestAnimationFrame(timedDraw); else { state.drawing = false; clear(gd); }
  }

  function circles(ctx, xyr) {
    for (var j = 0; j < xyr.length; j += 3) {
      ctx.moveTo(xyr[j] + xyr[j + 2], xyr[j + 1]);
      ctx.arc(xyr[j], xyr[j + 1], xyr[j + 2], 0, 6.2832);
    }
  }

  var timedDraw = timed("draw", draw);

  function clear(gd) {
    var canvas = gd && gd.parentNode && gd.parentNode.querySelector("canvas.topo-pulses");
    if (canvas) canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
  }

  function onPulse(value) {
    var gd = plot(), m = meta(gd);
    state.pulseFrames++;
    if (!m || !value || !value.o) return;
    var nodes = gd.data[traceIndex(gd, "nodes")];
    var sizes = nodes.marker.size, counts = {};
    for (var k = 0; k < value.o.length; k++) {
      var i = holder(m, value.o[k]);
      if (i >= 0) counts[i] = (counts[i] || 0) + (value.c ? value.c[k] : 1);
    }
    var now = performance.now(), latest = {};
    state.ripples.forEach(function (r) { if (!latest[r.i] || r.t0 > latest[r.i].t0) latest[r.i] = r; });
    Object.keys(counts).forEach(function (key) {
      var i = +key, strength = Math.min(4, Math.log2(1 + counts[key]));
      var last = latest[i];
      if (last && now - last.t0 < RESTART_MS) { last.strength = Math.max(last.strength, strength); return; }
      state.ripples.push({ i: i, t0: now, strength: strength, size: Array.isArray(sizes) ? sizes[i] : 8 });
      state.pulsed++;
    });
    if (state.ripples.length > MAX_RIPPLES) state.ripples.splice(0, state.ripples.length - MAX_RIPPLES);
    if (!state.drawing && state.ripples.length) { state.drawing = true; requestAnimationFrame(timedDraw); }
  }

  // --- health colours ------------------------------------------------------------------------------

  function decode(value) {
    var bytes = atob(value.b), n = value.n, out = new Uint8Array(n);
    for (var i = 0; i < n; i++) out[i] = (bytes.charCodeAt(i >> 1) >> ((i & 1) * 4)) & 15;
    return out;
  }

  /* New colours for the drawn nodes whose level changed, painted straight onto their SVG points
     (Plotly.restyle redraws the whole plot: ~100 ms for 320 nodes, measured on 2 busy cores).
     The figure's data and Plotly's calcdata get the same colours, so any later redraw (zoom, pan)
     paints them too. Falls back to Plotly.restyle if the points are not where expected. */
  function recolour() {
    var gd = plot(), m = meta(gd), health = state.health;
    if (!m || !health || !gd.data) return;
    var k = traceIndex(gd, "nodes"), trace = gd.data[k];
    var full = gd._fullData && gd._fullData[k];
    var group = full ? gd.querySelector(".scatterlayer .trace" + full.uid) : null;
    var points = group ? group.querySelectorAll("path.point") : [];
    var calc = gd.calcdata && gd.calcdata[k];
    var direct = points.length === m.pre.length && calc && calc.length === m.pre.length;
    var colours = direct ? trace.marker.color : new Array(m.pre.length), changed = 0;
    for (var i = 0; i < m.pre.length; i++) {
      var level = m.pre[i] < health.length ? health[m.pre[i]] : m.health[i];
      if (!direct) colours[i] = m.colours[level];
      if (level === m.health[i]) continue;
      m.health[i] = level;
      changed++;
      if (direct) {
        colours[i] = calc[i].mc = points[i].style.fill = m.colours[level];
      }
    }
    if (!changed) return;
    state.restyles++;
    if (!direct && window.Plotly) window.Plotly.restyle(gd, { "marker.color": [colours] }, [k]);
  }

  function onHealth(value) {
    state.healthFrames++;
    if (!value || typeof value.b !== "string") return;
    state.health = decode(value);
    recolour();
  }

  /* A new view (a tap, a search) brings a figure built a moment ago; bring it to the latest colours. */
  function watchFigure() {
    var gd = plot();
    if (gd && !gd._lianxinTopology && gd.on) {
      gd._lianxinTopology = true;
      gd.on("plotly_afterplot", function () { if (state.health) setTimeout(timed("recolour", recolour), 0); });
    }
  }

  function start() {
    if (!window.lianxinFrames) return setTimeout(start, 50);
    window.lianxinFrames.on("topo_pulse", timed("pulse", function (v) { watchFigure(); onPulse(v); }));
    window.lianxinFrames.on("topo_health", timed("health", function (v) { watchFigure(); onHealth(v); }));
  }
  start();
})();
