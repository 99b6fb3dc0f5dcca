/* Lianxin wall rotation: moves the focus through the items of the canvas's data-playlist
   (layouts/playlist.py): "wall" (the whole composition), "map", "topology", "kpi" (the KPI board),
   "org" (the spotlight on one top-level unit, drawn by wall.js). Each item has its own seconds.

   Focus is a class on the canvas (focus-map …, see wall.css): nothing is re-rendered, the live
   panels keep updating underneath. Pause and resume with the button or the space bar; ← and →
   step. ?kiosk=1 (and exhibition mode, unless kiosk=0) hides every control and the cursor. */
(function () {
  "use strict";

  var TICK_MS = 200;
  var P = { items: [], index: 0, paused: false, changes: 0, elapsed: 0, canvas: null, kind: null };
  window.lianxinPlaylist = P;   // for tests and the curious

  function labels() { return (P.config && P.config.labels) || {}; }

  function resizePlots(panelId) {
    var panel = document.getElementById(panelId);
    var gd = panel && panel.querySelector(".js-plotly-plot");
    if (gd && window.Plotly) window.Plotly.Plots.resize(gd);
  }

  function focus(index) {
    var canvas = P.canvas, item = P.items[index];
    if (!canvas || !item) return;
    P.index = index;
    P.elapsed = 0;
    P.changes += 1;
    var previous = P.kind;
    P.kind = item.kind;
    canvas.className = canvas.className.replace(/\bfocus-\S+/g, "").trim() + " focus-" + item.kind;
    canvas.setAttribute("data-focus", item.kind + (item.code ? ":" + item.code : ""));
    if (item.kind === "org" && window.lianxinWall) window.lianxinWall.showUnit(item.code);
    var label = document.getElementById("rotation-label");
    if (label) {
      label.textContent = labels()["item." + item.kind] || item.kind;
    }
    // A panel that changed size redraws at its new size (the map's overlay follows Plotly's afterplot).
    requestAnimationFrame(function () {
      if (item.kind === "map" || previous === "map") resizePlots("panel-map");
      if (item.kind === "topology" || previous === "topology") resizePlots("panel-topology");
    });
  }

  function step(delta) {
    if (P.items.length < 2) return;
    focus((P.index + delta + P.items.length) % P.items.length);
  }

  function setPaused(paused) {
    P.paused = paused;
    var box = document.getElementById("rotation-controls");
    if (box) box.classList.toggle("paused", paused);
    var btn = document.getElementById("rotation-toggle");
    if (btn) {
      btn.textContent = paused ? "▶" : "❚❚";
      btn.title = labels()[paused ? "play" : "pause"] || "";
    }
  }

  function tick() {
    if (!P.canvas || !document.body.contains(P.canvas)) { start(); return; }
    var item = P.items[P.index];
    if (!item || P.items.length < 2) return;
    if (!P.paused) P.elapsed += TICK_MS;
    var bar = document.getElementById("rotation-progress");
    if (bar) bar.style.width = (Math.min(1, P.elapsed / (item.seconds * 1000)) * 1888).toFixed(0) + "px";
    if (P.elapsed >= item.seconds * 1000) step(1);
  }

  function start() {
    var canvas = document.getElementById("wall-canvas");
    if (!canvas || canvas === P.canvas || !canvas.getAttribute("data-playlist")) return;
    try { P.config = JSON.parse(canvas.getAttribute("data-playlist")); } catch (err) { return; }
    P.canvas = canvas;
    P.items = P.config.items || [];
    document.documentElement.classList.toggle("kiosk", !!P.config.kiosk);
    setPaused(false);
    focus(0);
  }

  document.addEventListener("click", function (ev) {
    var target = ev.target && ev.target.closest ? ev.target.closest(".rotation-btn") : null;
    if (!target) return;
    if (target.id === "rotation-toggle") setPaused(!P.paused);
    else step(target.id === "rotation-next" ? 1 : -1);
  });

  document.addEventListener("keydown", function (ev) {
    if (!P.canvas || P.items.length < 2 || ev.target.closest && ev.target.closest("input, textarea")) return;
    if (ev.code === "Space" || ev.key === " ") { ev.preventDefault(); setPaused(!P.paused); }
    else if (ev.key === "ArrowRight") step(1);
    else if (ev.key === "ArrowLeft") step(-1);
  });

  setInterval(tick, TICK_MS);
})();
