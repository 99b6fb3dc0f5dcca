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

  /* Each command carries the bar's whole wish (playing, speed) so a later one never undoes an
     earlier one the server has not read yet; a jump is a one-off and is not carried on. */
  function send(change) {
    var next = Object.assign({}, command, change, { n: command.n + 1 });
    if (window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props("replay-control", { data: next });
    }
    command = Object.assign({}, next);
    delete command.jump;
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function build() {
    bar = el("div", "replay-bar");
    bar.id = "replay-bar";
    bar.setAttribute("role", "status");
    bar.badge = bar.appendChild(el("span", "replay-badge", label("replay.badge")));
    bar.time = bar.appendChild(el("span", "replay-time", params.get("replay")));
    bar.toggle = bar.appendChild(el("button", "replay-toggle", label("replay.pause")));
    bar.toggle.id = "replay-toggle";
    bar.toggle.addEventListener("click", function () { send({ playing: !(last && last.playing) }); });
    bar.speedLabel = bar.appendChild(el("span", "replay-label", label("replay.speed")));
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
    bar.live = bar.appendChild(el("a", "replay-live", label("replay.live")));
    bar.live.id = "replay-live";
    bar.live.href = liveUrl();
    document.body.appendChild(bar);
    document.body.classList.add("replaying");
  }

  function relabel() {  // the catalogue arrives with the first frame; the bar may be older
    bar.badge.textContent = label("replay.badge");
    bar.speedLabel.textContent = label("replay.speed");
    bar.live.textContent = label("replay.live");
    bar.range.title = label("replay.jump");
    bar.toggle.textContent = label(last && !last.playing ? "replay.play" : "replay.pause");
  }

  function show(state) {
    if (!bar) build();
    relabel();
    if (state.error) {
      bar.toggle.hidden = bar.speed.hidden = bar.range.hidden = true;
      bar.status.textContent = label("replay.error." + state.error);
      bar.classList.add("replay-error");
      return;
    }
    last = state;
    bar.time.textContent = state.clock;  // in the server's time zone, like every period on the screens
    bar.toggle.textContent = label(state.playing ? "replay.pause" : "replay.play");
    bar.speed.value = String(state.speed);
    bar.range.min = state.from;
    bar.range.max = state.to;
    if (document.activeElement !== bar.range) bar.range.value = state.at;
    bar.status.textContent = state.ended ? label("replay.ended") : "";
    bar.classList.toggle("replay-ended", !!state.ended);
  }

  function start() {
    if (!window.lianxinFrames || !document.body) { setTimeout(start, 50); return; }
    if (!bar) build();  // at once: the page must never look live, even before the first replayed frame
    window.lianxinFrames.on("replay", show);
  }
  start();
})();
