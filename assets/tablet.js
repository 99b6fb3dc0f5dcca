/* Lianxin tablet pages (/org/CODE): the parts live.js does not draw, updated from frames.

   - the cards of the sub-organisations, from the `units` section (dashboard/wall/units.py): each
     card's figures are found by data-unit (its code) and data-field;
   - the activity trends of the last hour per minute (`events_trend`) and of the last 30 days per
     day (`events_daily`), as bars without the current, partly counted minute or day
     (Plotly.restyle of y only).
   KPI tiles and alerts are live.js's. */
(function () {
  "use strict";

  var T = { cardUpdates: 0, trendUpdates: 0 };
  window.lianxinTablet = T;   // for tests and the curious

  function fmt() { return window.lianxinFormat; }

  function onUnits(units) {
    var grid = document.getElementById("tablet-children");
    if (!grid || !units) return;
    var fields = (grid.getAttribute("data-fields") || "").split(",");
    var at = function (row, name) { var i = fields.indexOf(name); return i < 0 ? undefined : row[i]; };
    Array.prototype.forEach.call(grid.querySelectorAll("[data-unit]"), function (box) {
      var row = units[box.getAttribute("data-unit")];
      if (!row) return;
      var members = at(row, "members"), active = at(row, "active_today");
      var values = {
        members: fmt().count(members),
        active_share: fmt().percent(typeof members === "number" && members > 0 && typeof active === "number" ? active / members : null),
        three_meetings: fmt().percent(at(row, "three_meetings")),
        dues_rate: fmt().percent(at(row, "dues_rate"))
      };
      Object.keys(values).forEach(function (name) {
        var el = box.querySelector('[data-field="' + name + '"]');
        if (el && el.textContent !== values[name]) { el.textContent = values[name]; T.cardUpdates += 1; }
      });
    });
  }

  function restyleTrend(id, counts) {
    var box = document.getElementById(id);
    var gd = box && box.querySelector(".js-plotly-plot");
    if (!gd || !window.Plotly || !counts) return;
    window.Plotly.restyle(gd, { y: [counts.slice(0, -1)] }, [0]);   // the current bucket is still filling
    T.trendUpdates += 1;
  }

  function onTrend(trend) { restyleTrend("tablet-trend", trend); }
  function onDaily(daily) { restyleTrend("tablet-trend-days", daily); }

  function register() {
    if (!window.lianxinFrames) { setTimeout(register, 50); return; }
    window.lianxinFrames.on("units", onUnits);
    window.lianxinFrames.on("events_trend", onTrend);
    window.lianxinFrames.on("events_daily", onDaily);
  }
  register();
})();
