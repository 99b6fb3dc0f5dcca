/* The replay bar: on a page opened with ?replay=FROM..TO&speed=X, a bar across the top says
   REPLAY, shows the replayed time and offers play/pause, speed, jump and "go live", so nobody
   takes the past for live. Frames carry the replay's state in kpi.replay (callbacks/replay.py);
   the bar's commands go to the server through the replay-control store, which the server reads
   after every frame. Nothing here runs on a live page. */
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.search);
  if (!params.get("replay")) return;

  var SPEEDS = [1, 10, 60, 120, 300, 600];
  var bar = null, command = { n: 0 }, last = null;

  function label(key) {
    var labels = window.lianxinLabels || {};
    return labels[key] || key;
  }

  function liveUrl() {
    var p = new URLSearchParams(window.location.search);
    p.delete("replay");
    p.delete("speed");
    var q = p.toString();
    return window.location.pathname + (q ? "?" + q : "");
  }

  function send(change) {
    command = Object.assign({}, command, change, { n: command.n + 1 });
    if (window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props("replay-control", { data: command });
    }
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function localText(ms) {
    var d = new Date(ms);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  function build() {
    bar = el("div", "replay-bar");
    bar.id = "replay-bar";
    bar.setAttribute("role", "status");
    bar.appendChild(el("span", "replay-badge", label("replay.badge")));
    bar.time = bar.appendChild(el("span", "replay-time", params.get("replay")));
    bar.toggle = bar.appendChild(el("button", "replay-toggle", label("replay.pause")));
    bar.toggle.id = "replay-toggle";
    bar.toggle.addEventListener("click", function () { send({ playing: !(last && last.playing) }); });
    bar.appendChild(el("span", "replay-label", label("replay.speed")));
    bar.speed = bar.appendChild(el("select", "replay-speed"));
    bar.speed.id = "replay-speed";
    SPEEDS.forEach(function (s) { var o = el("option", "", s + "×"); o.value = s; bar.speed.appendChild(o); });
    bar.speed.addEventListener("change", function () { send({ speed: Number(bar.speed.value) }); });
    bar.range = bar.appendChild(el("input", "replay-range"));
    bar.range.id = "replay-jump";
    bar.range.type = "range";
    bar.range.title = label("replay.jump");
    bar.range.addEventListener("change", function () { send({ jump: Number(bar.range.value) }); });
    bar.status = bar.appendChild(el("span", "replay-status", ""));
    bar.status.id = "replay-status";
    var live = bar.appendChild(el("a", "replay-live", label("replay.live")));
    live.id = "replay-live";
    live.href = liveUrl();
    document.body.appendChild(bar);
    document.body.classList.add("replaying");
  }

  function show(state) {
    if (!bar) build();
    if (state.error) {
      bar.status.textContent = label("replay.error." + state.error);
      bar.classList.add("replay-error");
      return;
    }
    last = state;
    bar.time.textContent = localText(state.at);
    bar.toggle.textContent = label(state.playing ? "replay.pause" : "replay.play");
    bar.speed.value = String(state.speed);
    bar.range.min = state.from;
    bar.range.max = state.to;
    if (document.activeElement !== bar.range) bar.range.value = state.at;
    bar.status.textContent = state.ended ? label("replay.ended") : "";
    bar.classList.toggle("replay-ended", !!state.ended);
  }

  function start() {
    if (!window.lianxinFrames) { setTimeout(start, 50); return; }
    window.lianxinFrames.on("replay", show);
  }
  start();
})();
