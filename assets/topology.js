/* The topology graph live: pulses where activity happens and health colours, from frames.

   The server sends organisations as preorder positions relative to the scope's top (see
   dashboard/topology/frames.py); each drawn node carries its subtree range [pre, end) and its
   drawn parent in layout.meta.topology, so a position maps to the deepest drawn node holding it.
   Nothing here rebuilds the figure. Pulses are drawn once per frame onto one of a few canvases
   stacked over the plot, and older ones fade in steps (opacity) at the same beat: the page renders
   a few times a second, never sixty, so a busy tablet or a wall on software rendering keeps its
   tasks short. Colours are painted onto the nodes whose level changed. */
(function () {
  "use strict";

  var GRAPH_ID = "topology-graph";
  var FADE_STEP = 0.3;           // opacity a pulse loses at each beat
  var BEAT_MS = 250;             // the beat when frames stop coming (frames come at 4 Hz)
  var LAYERS = 4;                // canvases in rotation: one per beat of a fade
  var STRENGTHS = 4;             // pulses are stroked in this many groups (by events, log scale)
  var state = {
    pulseFrames: 0, pulsed: 0, healthFrames: 0, restyles: 0, lastPulse: [], health: null, layer: 0, fading: null,
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

  /* The canvases over the plot, created on first use. */
  function layers(gd) {
    var box = gd.parentNode;
    for (var n = box.querySelectorAll("canvas.topo-pulses").length; n < LAYERS; n++) {
      var created = document.createElement("canvas");
      created.className = "topo-pulses";
      box.appendChild(created);
    }
    return box.querySelectorAll("canvas.topo-pulses");
  }

  /* One beat of the fade: every visible canvas loses FADE_STEP of opacity; the beat goes on by
     timer only while something is visible and no frame has come to drive it. */
  function fade() {
    var gd = plot(), visible = false;
    clearTimeout(state.fading);
    if (!gd) return;
    Array.prototype.forEach.call(layers(gd), function (canvas) {
      var opacity = Math.max(0, (parseFloat(canvas.style.opacity) || 0) - FADE_STEP);
      canvas.style.opacity = opacity > 0.05 ? opacity.toFixed(2) : "0";
      visible = visible || opacity > 0.05;
    });
    state.fading = visible ? setTimeout(timed("fade", fade), BEAT_MS) : null;
  }

  /* The next canvas of the rotation, sized to the plot, cleared and shown. */
  function nextLayer(gd) {
    var canvas = layers(gd)[state.layer++ % LAYERS];
    var w = gd.clientWidth, h = gd.clientHeight, ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
      canvas.width = Math.round(w * ratio);
      canvas.height = Math.round(h * ratio);
      canvas.style.width = w + "px";
      canvas.style.height = h + "px";
    }
    var ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    return { canvas: canvas, ctx: ctx };
  }

  function circles(ctx, xyr) {
    for (var j = 0; j < xyr.length; j += 3) {
      ctx.moveTo(xyr[j] + xyr[j + 2], xyr[j + 1]);
      ctx.arc(xyr[j], xyr[j + 1], xyr[j + 2], 0, 6.2832);
    }
  }

  /* One frame's pulses: a ring around every drawn node holding new activity (with a halo for a
     burst), larger for more events, stroked in STRENGTHS groups, on a fresh canvas; the older ones
     fade a step. */
  function onPulse(value) {
    var gd = plot(), m = meta(gd), fl = gd && gd._fullLayout;
    state.pulseFrames++;
    if (!m || !fl || !fl.xaxis || !value || !value.o) return;
    var nodes = gd.data[traceIndex(gd, "nodes")];
    var sizes = nodes.marker.size, counts = {};
    for (var k = 0; k < value.o.length; k++) {
      var i = holder(m, value.o[k]);
      if (i >= 0) counts[i] = (counts[i] || 0) + (value.c ? value.c[k] : 1);
    }
    var held = Object.keys(counts);
    if (!held.length) return;
    var xa = fl.xaxis, ya = fl.yaxis, groups = [], g;
    for (g = 0; g < STRENGTHS; g++) groups.push([]);
    held.forEach(function (key) {
      var i = +key, strength = Math.min(STRENGTHS - 1, Math.floor(Math.log2(1 + counts[key])));
      var size = Array.isArray(sizes) ? sizes[i] : 8;
      groups[strength].push(xa._offset + xa.l2p(nodes.x[i]), ya._offset + ya.l2p(nodes.y[i]), size / 2 + 2 + 2 * strength);
    });
    fade();
    var layer = nextLayer(gd), ctx = layer.ctx;
    for (g = 0; g < STRENGTHS; g++) {
      if (!groups[g].length) continue;
      ctx.beginPath();
      circles(ctx, groups[g]);
      if (g >= 1) {  // busier nodes glow; a single event only rings, so the node's own colour stays readable
        ctx.fillStyle = "rgba(255, 214, 102, " + (0.05 * g).toFixed(2) + ")";
        ctx.fill();
      }
      ctx.lineWidth = 1.4 + 0.4 * g;
      ctx.strokeStyle = "rgba(255, 222, 120, " + (0.7 + 0.08 * g).toFixed(2) + ")";
      ctx.stroke();
    }
    layer.canvas.style.opacity = "1";
    state.lastPulse = held.map(Number);
    state.pulsed += held.length;
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

  // --- touch: a tap opens, and no tooltip covers what it opened -----------------------------------

  /* Plotly shows a tap's tooltip and keeps it (a touch leaves the emulated mouse where it tapped, and
     Chromium re-hovers there when the new figure comes); on a tablet it would cover the children the tap
     just opened, and the detail card beside the graph already names what was tapped. So while the last
     input was a touch the page's body carries .touch-input (not the graph's own element, whose class Dash
     rewrites while a callback is pending), which hides the tooltips (Plotly still computes the hover: its
     click needs it), and a touch closes any tooltip up. A real mouse move brings them back. */
  function onPointer(event) {
    var gd = plot(), box = document.getElementById(GRAPH_ID);
    if (!gd || !box || !box.contains(event.target)) return;
    if (event.pointerType === "touch") {
      if (event.type !== "pointerdown") return;
      document.body.classList.add("touch-input");
      state.touches = (state.touches || 0) + 1;
      if (window.Plotly && window.Plotly.Fx) window.Plotly.Fx.unhover(gd);
    } else if (event.pointerType === "mouse" && (event.type === "pointerdown" || event.movementX || event.movementY)) {
      document.body.classList.remove("touch-input");
    }
  }

  function start() {
    document.addEventListener("pointerdown", onPointer, true);
    document.addEventListener("pointermove", onPointer, true);
    if (!window.lianxinFrames) return setTimeout(start, 50);
    window.lianxinFrames.on("topo_pulse", timed("pulse", function (v) { watchFigure(); onPulse(v); }));
    window.lianxinFrames.on("topo_health", timed("health", function (v) { watchFigure(); onHealth(v); }));
  }
  start();
})();
