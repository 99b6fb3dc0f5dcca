/* Lianxin wall: the panels live.js does not draw, updated from frames in place.

   - structure (gender, ethnicity, full/probationary rings, age columns, education and occupation
     bars): Plotly.restyle of the values and shares only, matched by the category keys each trace
     carries in customdata (layouts/charts.py) — the figures are never sent again;
   - progress (三会一课, themed day, dues): bar widths and texts from meetings/dues/branches/members;
   - recruitment pipeline: the count of each stage;
   - the spotlight of one top-level unit (the rotation's org:CODE focus) from the `units` section,
     with the ranking of all units by the share of members active today.
   Frame format: docs/live.md; units: dashboard/wall/units.py. */
(function () {
  "use strict";

  var CHARTS = {
    "chart-gender": "gender", "chart-ethnicity": "ethnicity", "chart-status": "status",
    "chart-age": "age_band", "chart-education": "education", "chart-occupation": "occupation"
  };
  var PROGRESS_KEYS = ["meetings", "dues_rate", "dues_paid", "members", "branches"];
  var RANKED = 20;   // rows of the spotlight's ranking (the unit in focus is always among them)

  var W = { known: {}, units: null, unit: null, restyles: 0, config: null };
  window.lianxinWall = W;   // for playlist.js, tests and the curious

  function fmt() { return window.lianxinFormat; }

  function config() {
    if (W.config) return W.config;
    var canvas = document.getElementById("wall-canvas");
    if (!canvas || !canvas.getAttribute("data-playlist")) return null;
    try { W.config = JSON.parse(canvas.getAttribute("data-playlist")); } catch (err) { W.config = null; }
    return W.config;
  }

  function graphDiv(id) {
    var g = document.getElementById(id);
    return g ? g.querySelector(".js-plotly-plot") : null;
  }

  function sameValues(a, b) {
    if (!a || !b || a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  // --- structure charts ---------------------------------------------------------------------------

  function onStructure(structure) {
    if (!window.Plotly || !structure) return;
    Object.keys(CHARTS).forEach(function (id) {
      var gd = graphDiv(id), counts = structure[CHARTS[id]];
      if (!gd || !gd.data || !gd.data[0] || !counts) return;
      var tr = gd.data[0], keys = tr.customdata || [];
      var values = keys.map(function (k) {   // a merged bar ("a+b") holds the sum of its categories
        return String(k).split("+").reduce(function (sum, part) { var v = counts[part]; return sum + (typeof v === "number" ? v : 0); }, 0);
      });
      var total = values.reduce(function (s, v) { return s + v; }, 0) || 1;
      var pct = function (v) { return fmt().percent(v / total); };
      if (tr.type === "pie") {
        if (sameValues(values, tr.values)) return;
        window.Plotly.restyle(gd, { values: [values] }, [0]);
        if (tr.labels && tr.labels.length) {
          window.Plotly.relayout(gd, { "annotations[0].text": tr.labels[0] + "<br>" + pct(values[0]) });
        }
      } else {
        var axis = tr.orientation === "h" ? "x" : "y";
        if (sameValues(values, tr[axis])) return;
        var update = { text: [values.map(pct)] };
        update[axis] = [values];
        window.Plotly.restyle(gd, update, [0]);
      }
      W.restyles += 1;
    });
  }

  // --- progress and pipeline ----------------------------------------------------------------------

  function setText(id, text) {
    var el = document.getElementById(id);
    if (el && el.textContent !== text) el.textContent = text;
  }

  function renderProgress() {
    var k = W.known, m = k.meetings || {};
    var rows = {
      three_meetings: [m.three_meetings_completion, m.three_meetings_branches, k.branches],
      themed_day: [m.themed_day_completion, m.themed_day_branches, k.branches],
      dues: [k.dues_rate, k.dues_paid, k.members]
    };
    Object.keys(rows).forEach(function (name) {
      var rate = rows[name][0], done = rows[name][1], of = rows[name][2];
      if (rate === undefined) return;
      setText("progress-" + name, fmt().percent(rate));
      var bar = document.getElementById("progress-" + name + "-bar");
      if (bar) bar.style.width = (Math.min(1, rate || 0) * 100).toFixed(1) + "%";
      var sub = document.getElementById("progress-" + name + "-sub");
      if (sub && sub.getAttribute("data-template") && done !== undefined && of !== undefined) {
        setText(sub.id, sub.getAttribute("data-template").replace("{done}", fmt().count(done)).replace("{of}", fmt().count(of)));
      }
    });
  }

  function onPipeline(pipeline) {
    Object.keys(pipeline || {}).forEach(function (stage) { setText("pipeline-" + stage, fmt().count(pipeline[stage])); });
  }

  // --- the spotlight --------------------------------------------------------------------------------

  function unitValue(row, field) {
    var fields = (config() || {}).fields || [];
    var i = fields.indexOf(field);
    return i < 0 || !row ? undefined : row[i];
  }

  function activeShare(row) {
    var members = unitValue(row, "members"), active = unitValue(row, "active_today");
    return typeof members === "number" && members > 0 && typeof active === "number" ? active / members : null;
  }

  var RATES = { three_meetings: 1, themed_day: 1, dues_rate: 1 };

  function renderSpotlight() {
    var cfg = config(), code = W.unit;
    if (!cfg || !code) return;
    var names = cfg.units || {}, labels = cfg.labels || {};
    setText("spotlight-name", names[code] || code);
    var row = W.units ? W.units[code] : null;
    (cfg.fields || []).forEach(function (field) {
      var v = unitValue(row, field);
      if (v === undefined) return;
      setText("spot-" + field, RATES[field] ? fmt().percent(v) : fmt().count(v));
    });
    if (!W.units) return;
    var ranked = Object.keys(W.units).map(function (c) { return { code: c, share: activeShare(W.units[c]) }; })
      .sort(function (a, b) { return (b.share === null ? -1 : b.share) - (a.share === null ? -1 : a.share) || (a.code < b.code ? -1 : 1); });
    var at = ranked.findIndex(function (r) { return r.code === code; });
    setText("spotlight-rank", at < 0 ? "" : (labels.rank || "").replace("{rank}", at + 1).replace("{of}", ranked.length));
    var top = (ranked[0] && ranked[0].share) || 1;
    // The top of the ranking; a unit in focus further down takes the last row, after a gap marker.
    var shown = at >= RANKED ? ranked.slice(0, RANKED - 2).concat([null, ranked[at]]) : ranked.slice(0, RANKED);
    var list = document.getElementById("spotlight-ranking");
    if (!list) return;
    var rows = shown.map(function (r) {
      if (r === null) {
        var gap = document.createElement("li");
        gap.className = "gap";
        gap.textContent = "⋮";
        gap.title = (labels.rank_gap || "").replace("{n}", at - (RANKED - 2));
        return gap;
      }
      var li = document.createElement("li");
      if (r.code === code) li.className = "current";
      var n = document.createElement("span"); n.className = "n"; n.textContent = ranked.indexOf(r) + 1;
      var name = document.createElement("span"); name.className = "name"; name.textContent = names[r.code] || r.code;
      var bar = document.createElement("span"); bar.className = "bar"; bar.style.width = ((r.share || 0) / top * 100).toFixed(1) + "%";
      var pct = document.createElement("span"); pct.className = "pct"; pct.textContent = fmt().percent(r.share);
      [n, name, document.createElement("span"), pct].forEach(function (c) { li.appendChild(c); });
      li.children[2].appendChild(bar);
      bar.style.display = "block";
      return li;
    });
    list.replaceChildren.apply(list, rows);
  }

  W.showUnit = function (code) { W.unit = code; renderSpotlight(); };

  // --- wiring -------------------------------------------------------------------------------------

  function register() {
    if (!window.lianxinFrames) { setTimeout(register, 50); return; }
    window.lianxinFrames.on("structure", function (v) { if (document.getElementById("wall-canvas")) onStructure(v); });
    PROGRESS_KEYS.forEach(function (key) {
      window.lianxinFrames.on(key, function (v) { W.known[key] = v; renderProgress(); });
    });
    window.lianxinFrames.on("pipeline", onPipeline);
    window.lianxinFrames.on("units", function (v) { W.units = v; if (W.unit) renderSpotlight(); });
  }
  register();
})();
