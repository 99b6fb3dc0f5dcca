/* Lianxin live frames on the page: fans each frame out to the KPI tiles, the feed, the alerts;
   keeps conn-state honest from the frames and heartbeats that arrive (live / reconnecting / stale,
   with data-lag-ms counting); and a watchdog that reloads the page when frames stopped but the
   server answers /api/ready.

   The frame format is made by dashboard/live/publisher.py: {seq, ts, full, heartbeat?, kpi: {...}, feed: [...]}.
   Elements touched here are never re-rendered by Dash after the first layout, so direct DOM
   updates do not fight React. */
(function () {
  "use strict";

  var STALE_MS = 9000;           // "stale" 9 s after the last frame or heartbeat (shown within 10 s)
  var FEED_MAX = 12;
  var LEADERBOARD_ROWS = 6;   // what the wall's panel holds at 22px (docs/wall.md, "Text floor")

  var state = { lastFrameAt: Date.now(), lastSeq: 0, frames: 0, reloading: false, everLive: false, serverBackAt: 0, lagAtFrame: 0 };
  window.lianxinLive = state;    // for tests and the curious: frames taken, last seq

  /* Views register a handler per frame key (a publisher FrameSection's key, or a snapshot key):
     lianxinFrames.on("map", function (value, frame) {...}). Handlers run after the built-in panels;
     one that throws is logged and skipped, never fatal to the page. */
  var handlers = {};
  window.lianxinFrames = {
    on: function (key, fn) { (handlers[key] = handlers[key] || []).push(fn); }
  };

  function runHandlers(frame) {
    var kpi = frame.kpi || {};
    Object.keys(handlers).forEach(function (key) {
      if (kpi[key] === undefined) return;
      handlers[key].forEach(function (fn) {
        try { fn(kpi[key], frame); } catch (err) { console.error("[lianxin] handler for " + key + " failed; skipped", err); }
      });
    });
  }

  /* The page's language, looked up once a frame rather than once a number formatted
     (count-ups format every animation step). */
  var langNow = null;
  function lang() {
    if (langNow === null) langNow = document.querySelector(".wall.lang-en, .page.lang-en") ? "en" : "zh";
    return langNow;
  }

  function label(key) {
    var labels = window.lianxinLabels || {};
    return labels[key] || key;
  }

  function fmtCount(n) {
    if (n === null || n === undefined) return "<5";
    if (typeof n !== "number") return String(n);
    if (lang() === "zh" && Math.abs(n) >= 100000) {
      if (Math.abs(n) >= 100000000) return (n / 100000000).toFixed(2) + "亿";
      return (n / 10000).toFixed(1) + "万";
    }
    return Math.round(n).toLocaleString("en-US");
  }

  function fmtPercent(x) {
    return (x === null || x === undefined) ? "—" : (x * 100).toFixed(1) + "%";
  }
  window.lianxinFormat = { count: fmtCount, percent: fmtPercent };   // for the views' own scripts

  // --- KPI tiles -----------------------------------------------------------------------------

  var RATE = { three_meetings: [0.95, 0.8], themed_day: [0.95, 0.8], dues_rate: [0.9, 0.7] };

  function tileValues(kpi) {
    var m = kpi.meetings || {};
    var tr = kpi.transfers || {};
    return {
      members: kpi.members, full_members: kpi.full_members, probationary: kpi.probationary,
      organisations: kpi.organisations, branches: kpi.branches,
      active_today: kpi.active_today, active_15m: kpi.active_15m,
      events_today: kpi.events_today, events_total: kpi.events_total, events_per_min: kpi.events_per_min,
      study_points_today: kpi.study_points_today,
      three_meetings: m.three_meetings_completion, themed_day: m.themed_day_completion,
      dues_rate: kpi.dues_rate, transfers_in_flight: tr.in_flight, transfers_overdue: tr.overdue,
      lost_contact: kpi.lost_contact
    };
  }

  function rateColour(name, x) {
    var t = RATE[name];
    if (x === null || x === undefined) return "";
    return x >= t[0] ? "#47c97a" : (x >= t[1] ? "#f3c14b" : "#ff4d5e");
  }

  // --- motion ---------------------------------------------------------------------------------

  /* Everything that moves between frames (count-ups, the feed's fresh rows, the map's flashes,
     comets and notice rings) moves on this one clock, MOTION_MS apart, and only while something
     is moving. A wall renders ten times a second rather than sixty: on software rendering (no
     GPU, as in the duty-room PCs and the test machine) each rendered frame composites the whole
     screen, and 60 fps animations kept a page at ~60 % of a core, starving the frames themselves.
     lianxinMotion.move(fn): fn(now) is called on every beat until it returns false. */
  var MOTION_MS = 100;
  var movers = [], motionTimer = 0;

  function motionBeat() {
    motionTimer = 0;
    var now = performance.now(), running = movers;
    movers = [];
    running.forEach(function (fn) {
      var more = false;
      try { more = fn(now) === true; } catch (err) { console.error("[lianxin] animation failed; stopped", err); }
      if (more && movers.indexOf(fn) < 0) movers.push(fn);
    });
    if (movers.length) motionTimer = setTimeout(motionBeat, MOTION_MS);
  }

  function move(fn) {
    if (movers.indexOf(fn) < 0) movers.push(fn);
    if (!motionTimer) motionTimer = setTimeout(motionBeat, MOTION_MS);
  }
  window.lianxinMotion = { move: move, ms: MOTION_MS };

  /* Tiles count up to their new value over COUNT_MS; the text is written only when it reads
     differently. */
  var COUNT_MS = 600;
  var counting = new Map();      // element -> {from, to, start, format}
  function setText(el, text) { if (el.textContent !== text) el.textContent = text; }

  function countBeat(now) {
    counting.forEach(function (c, el) {
      var k = Math.min(1, (now - c.start) / COUNT_MS);
      setText(el, c.format(k >= 1 ? c.to : c.from + (c.to - c.from) * (1 - Math.pow(1 - k, 3))));
      if (k >= 1) counting.delete(el);
    });
    return counting.size > 0;
  }

  function countUp(el, from, to, format) {
    counting.set(el, { from: from, to: to, start: performance.now(), format: format });
    move(countBeat);
  }

  /* Each tile's trend is a series the server keeps (the tile's data-series: "events_daily",
     "events_trend" or "daily.<name>", layouts/kpi.py TILE_TRENDS) — whole from the first frame, with
     the stored past behind it. Drawn as bars from zero, so small counts stay whole steps; the last
     bar is the current day or minute, still counting: drawn pale and marked (class "partial"), never
     read as a drop. A hidden count (public level, null) leaves its bar out. The bars are made once;
     afterwards only their heights change, and only when the series did. */
  function seriesOf(kpi, key) {
    var parts = key.split("."), v = kpi;
    for (var i = 0; i < parts.length && v !== undefined && v !== null; i++) v = v[parts[i]];
    return Array.isArray(v) ? v : undefined;
  }

  function drawTrend(box, counts) {
    var text = JSON.stringify(counts);
    if (box._drawn === text) return;
    box._drawn = text;
    var n = counts.length, h = 20, svg = box.querySelector("svg");
    if (!svg || svg.childNodes.length !== n) {
      var bars = "";
      for (var i = 0; i < n; i++) {
        bars += '<rect class="trend-bar' + (i === n - 1 ? ' partial' : '') + '" x="' + (i + 0.12).toFixed(2) +
          '" width="0.76" y="' + h + '" height="0"/>';
      }
      box.innerHTML = '<svg viewBox="0 0 ' + n + ' ' + h + '" preserveAspectRatio="none" width="100%" height="100%">' + bars + '</svg>';
      svg = box.querySelector("svg");
    }
    var hi = 0;
    counts.forEach(function (c) { if (typeof c === "number" && c > hi) hi = c; });
    var rects = svg.childNodes;
    for (var j = 0; j < n; j++) {
      var c = counts[j], bar = (typeof c === "number" && hi > 0) ? Math.max(c > 0 ? 1 : 0, c / hi * h) : 0;
      rects[j].setAttribute("y", (h - bar).toFixed(2));
      rects[j].setAttribute("height", bar.toFixed(2));
      rects[j].setAttribute("data-count", c === null || c === undefined ? "" : String(c));
    }
    box.setAttribute("data-points", String(n));
  }

  function updateTrends(kpi) {
    var boxes = document.querySelectorAll(".kpi-trend[data-series]");
    Array.prototype.forEach.call(boxes, function (box) {
      var counts = seriesOf(kpi, box.getAttribute("data-series"));
      if (counts) drawTrend(box, counts);
    });
  }

  function updateTiles(kpi) {
    var values = tileValues(kpi);
    Object.keys(values).forEach(function (name) {
      var v = values[name];
      var el = document.getElementById("kpi-" + name);
      if (!el || v === undefined) return;
      var isRate = RATE.hasOwnProperty(name);
      var format = isRate ? fmtPercent : fmtCount;
      var old = parseFloat(el.getAttribute("data-value"));
      el.setAttribute("data-value", v === null ? "" : v);
      if (isRate) el.style.color = rateColour(name, v);
      if (typeof v === "number" && !isNaN(old) && old !== v && !isRate) countUp(el, old, v, format);
      else setText(el, format(v));
    });
  }

  // --- feed and alerts ---------------------------------------------------------------------

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function hhmmss(ms) {
    var d = new Date(ms), p = function (n) { return n < 10 ? "0" + n : "" + n; };
    return p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
  }

  /* A frame's new rows are highlighted until the next frame's come, or for FRESH_MS when the feed is
     quiet (a class set and taken off, no animation): at a busy hour the highlight still marks the
     newest rows rather than the whole list. */
  var FRESH_MS = 600;
  function freshBeat(now) {
    var fresh = document.querySelectorAll("#live-feed .feed-item.fresh");
    Array.prototype.forEach.call(fresh, function (li) { if (now - li._born >= FRESH_MS) li.classList.remove("fresh"); });
    return document.querySelector("#live-feed .feed-item.fresh") !== null;
  }

  function updateFeed(items) {
    var list = document.getElementById("live-feed");
    if (!list || !items || !items.length) return;
    var placeholder = list.querySelector(".empty");
    if (placeholder) placeholder.remove();
    var born = performance.now();
    Array.prototype.forEach.call(list.querySelectorAll(".feed-item.fresh"), function (li) { li.classList.remove("fresh"); });
    items.forEach(function (it) {
      var li = el("li", "feed-item fresh type-" + it.type);
      li._born = born;
      // two lines: time and organisation; who, what and the title
      var first = el("div", "feed-line"), second = el("div", "feed-line");
      first.appendChild(el("span", "time", hhmmss(it.ts)));
      var org = el("span", "org", it.org);
      org.title = it.org;   // the whole text, where an ellipsis cuts it
      first.appendChild(org);
      if (it.who) second.appendChild(el("span", "who", it.who));
      second.appendChild(el("span", "what", label("event." + it.type)));
      if (it.title) { var title = el("span", "title", it.title); title.title = it.title; second.appendChild(title); }
      li.appendChild(first);
      li.appendChild(second);
      list.insertBefore(li, list.firstChild);
    });
    while (list.children.length > FEED_MAX) list.removeChild(list.lastChild);
    move(freshBeat);
  }

  /* Alerts: the standing rule breaks first, always in their place; the notices below them in a
     bounded share of the panel — at most NOTICE_LINES, one line each, urgent first, the issuer
     written once for a run of its notices — turning a page every NOTICE_PAGE_MS when there are more.
     A title too long for its line ends in an ellipsis and keeps its whole text in `title`. */
  var NOTICE_LINES = 3, NOTICE_PAGE_MS = 8000, LEVEL_ORDER = { urgent: 0, warning: 1, info: 2 };
  var noticePages = { list: [], page: 0, timer: null };

  function noticeRows(list) {
    var ul = el("ul", "alert-list alert-notices");
    var pages = Math.ceil(list.length / NOTICE_LINES);
    var page = noticePages.page % Math.max(1, pages);
    var own = document.querySelector(".title-bar .org-name");   // the screen's own organisation needs no attribution
    var prev = own ? own.textContent : null;
    list.slice(page * NOTICE_LINES, (page + 1) * NOTICE_LINES).forEach(function (n) {
      var li = el("li", "notice level-" + n.level);
      li.appendChild(el("span", "badge", label("notice." + n.level)));
      if (n.org !== prev) {
        var who = el("span", "issuer", n.org);
        who.title = n.org;
        li.appendChild(who);
      }
      prev = n.org;
      var title = el("span", "label", n.title);
      title.title = n.title;
      li.appendChild(title);
      ul.appendChild(li);
    });
    if (pages > 1) {
      var pager = el("li", "notice-pager", (page + 1) + " / " + pages);
      ul.appendChild(pager);
    }
    return ul;
  }

  function turnNoticePage() {
    var box = document.getElementById("alerts");
    var old = box && box.querySelector(".alert-notices");
    if (!old) return;
    noticePages.page += 1;
    old.replaceWith(noticeRows(noticePages.list));
  }

  function updateAlerts(kpi) {
    var box = document.getElementById("alerts");
    if (!box || (kpi.notices === undefined && kpi.rule_breaks === undefined && kpi.transfers === undefined)) return;
    var notices = kpi.notices !== undefined ? kpi.notices : (state.notices || []);
    var breaks = kpi.rule_breaks !== undefined ? kpi.rule_breaks : (state.breaks || {});
    var transfers = kpi.transfers !== undefined ? kpi.transfers : (state.transfers || {});
    state.notices = notices; state.breaks = breaks; state.transfers = transfers;
    var now = Date.now();
    var shown = notices.filter(function (n) { return !(n.expires && n.expires < now); }).map(function (n, i) { return [n, i]; });
    shown.sort(function (a, b) {   // urgent first; within a level by issuer (written once), newest first
      var la = LEVEL_ORDER[a[0].level] === undefined ? 3 : LEVEL_ORDER[a[0].level];
      var lb = LEVEL_ORDER[b[0].level] === undefined ? 3 : LEVEL_ORDER[b[0].level];
      return la - lb || (a[0].org < b[0].org ? -1 : a[0].org > b[0].org ? 1 : 0) || a[1] - b[1];
    });
    shown = shown.map(function (pair) { return pair[0]; });
    var rules = [["few_members", breaks.few_members], ["no_secretary", breaks.no_secretary],
                 ["no_meeting", breaks.no_meeting], ["transfers_overdue", transfers.overdue]].filter(function (row) { return row[1]; });
    // Rebuilt only when what it shows changed: most frames change a transfer count, not an alert.
    var key = JSON.stringify([shown.map(function (n) { return [n.id, n.level, n.title, n.org]; }), rules]);
    if (box._shown === key) return;   // kept on the element: a re-rendered box starts without it
    box._shown = key;
    box.innerHTML = "";
    if (rules.length) {
      var ul = el("ul", "alert-list alert-rules");
      rules.forEach(function (row) {
        var li = el("li", "alert-rule");
        li.appendChild(el("span", "label", label("alerts." + row[0])));
        li.appendChild(el("span", "value", fmtCount(row[1])));
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    noticePages.list = shown;
    if (shown.length) box.appendChild(noticeRows(shown));
    if (shown.length > NOTICE_LINES && !noticePages.timer) noticePages.timer = setInterval(turnNoticePage, NOTICE_PAGE_MS);
    if (shown.length <= NOTICE_LINES && noticePages.timer) { clearInterval(noticePages.timer); noticePages.timer = null; noticePages.page = 0; }
    if (!rules.length && !shown.length) box.appendChild(el("div", "empty", label("alerts.none")));
  }

  function updateLeaderboard(rows) {
    var box = document.getElementById("leaderboard");
    if (!box || !rows) return;
    var key = JSON.stringify(rows.slice(0, LEADERBOARD_ROWS));
    if (box._shown === key) return;
    var ol = el("ol", "ranked");
    ol.id = "leaderboard";
    rows.slice(0, LEADERBOARD_ROWS).forEach(function (r, i) {
      var li = el("li");
      li.appendChild(el("span", "rank", String(i + 1)));
      li.appendChild(el("span", "label", r.name));
      li.appendChild(el("span", "value", fmtCount(r.points) + " " + label("unit.points")));
      ol.appendChild(li);
    });
    if (!rows.length) { ol = el("div", "empty", label("leaderboard.empty")); ol.id = "leaderboard"; }
    ol._shown = key;
    box.replaceWith(ol);
  }

  // --- connection state -----------------------------------------------------------------------

  /* The badge is judged from what arrives: the server sends a frame or a heartbeat at least every
     HEARTBEAT_MS (dashboard/live/publisher.py), so RECONNECT_MS without one means the link is gone
     however the server went (killed, host unreachable, proxy up but upstream down, still starting):
     "reconnecting"; STALE_MS without one: "stale" (and still reconnecting). data-lag-ms is the lag of
     the last frame plus the time since it came, so it keeps counting while nothing arrives. */
  var RECONNECT_MS = 2000;       // heartbeats come every 1 s: two missed (shown within 3 s)
  var LINK_CHECK_MS = 250;

  /* The badge's words: the labels from the first frame, else the ones the layout wrote into the
     badge (data-label-<kind>), so they are right from the first paint, in the page's language. */
  function connLabel(c, kind) {
    var labels = window.lianxinLabels || {};
    return labels["conn." + kind] || c.getAttribute("data-label-" + kind) || "";
  }

  function setConn(kind, lagMs) {
    var c = document.getElementById("conn-state");
    if (!c) return;
    var cls = "conn-state " + kind + (kind === "stale" && state.everLive ? " reconnecting" : "");
    if (c.className !== cls) c.className = cls;
    var words = connLabel(c, kind);
    if (words && c.textContent !== words) c.textContent = words;
    if (lagMs !== undefined) c.setAttribute("data-lag-ms", String(Math.max(0, Math.round(lagMs))));
  }

  function linkCheck() {
    if (!document.getElementById("conn-state") || state.reloading) return;
    var quiet = Date.now() - state.lastFrameAt;
    if (!state.everLive) { setConn("connecting"); return; }
    var lag = state.lagAtFrame + quiet;
    if (quiet >= STALE_MS) setConn("stale", lag);
    else if (quiet >= RECONNECT_MS) setConn("reconnecting", lag);
    else setConn("live", lag);
  }
  setInterval(linkCheck, LINK_CHECK_MS);

  /* Dash's client retries a lost socket with back-off (1, 2, 4 … 30 s) and gives up after 10 tries.
     So: once frames are stale, ask /api/ready (never waiting more than READY_TIMEOUT_MS); when the
     server is ready, give Dash's own reconnect GRACE_MS to bring frames back, then reload the page.
     A short drop recovers without a reload; a long outage is back within GRACE_MS (+ one poll) of the
     server's return. The answer only decides the reload, never the badge. */
  var GRACE_MS = 10000;
  var READY_TIMEOUT_MS = 2000;
  var readyPending = false;

  function askReady() {
    var ctl = window.AbortController ? new AbortController() : null;
    var timer = ctl ? setTimeout(function () { ctl.abort(); }, READY_TIMEOUT_MS) : 0;
    return fetch("/api/ready", { cache: "no-store", signal: ctl ? ctl.signal : undefined })
      .then(function (r) { return r.ok; }, function () { return false; })
      .then(function (ok) { clearTimeout(timer); return ok; });
  }

  function watchdog() {
    if (!document.getElementById("conn-state") || state.reloading || readyPending) return;
    if (Date.now() - state.lastFrameAt < STALE_MS) { state.serverBackAt = 0; return; }
    readyPending = true;
    askReady().then(function (ready) {
      readyPending = false;
      if (!ready) { state.serverBackAt = 0; return; }
      if (!state.serverBackAt) state.serverBackAt = Date.now();
      if (Date.now() - state.serverBackAt >= GRACE_MS && state.lastFrameAt < state.serverBackAt) {
        state.reloading = true;
        window.location.reload();
      }
    });
  }
  setInterval(watchdog, 1000);

  // --- taking frames from Dash's store ------------------------------------------------------------

  /* Frames are set into the `live` dcc.Store by the server (set_props over Dash's websocket).
     They are read here by subscribing to Dash's redux store rather than through a clientside
     callback: a store prop that is a callback Input is recorded in Dash's undo history on every
     change, for ever (a leak of ~2 MB a minute at 4 Hz); and a subscriber runs synchronously
     while Dash handles the message, so the server's next acknowledgement request is answered
     only after this frame is on the screen — real backpressure from slow pages. */
  function propOf(st, id, prop) {
    var path = st.paths && st.paths.strs && st.paths.strs[id];
    if (!path) return undefined;
    var node = st.layout;
    for (var i = 0; i < path.length && node; i++) node = node[path[i]];
    return node && node.props ? node.props[prop] : undefined;
  }

  function onFrame(frame) {
    langNow = null;
    state.lastFrameAt = Date.now();
    state.lagAtFrame = Math.max(0, state.lastFrameAt - frame.ts);
    state.everLive = true;
    state.frames += 1;
    setConn("live", state.lagAtFrame);
    if (frame.heartbeat) return frame.seq;
    try {
      var kpi = frame.kpi || {};
      updateTiles(kpi);
      updateTrends(kpi);
      updateFeed(frame.feed);
      updateAlerts(kpi);
      if (kpi.top_study !== undefined) updateLeaderboard(kpi.top_study);
      runHandlers(frame);
      state.lastSeq = frame.seq;
    } catch (err) {
      console.error("[lianxin] frame " + frame.seq + " could not be shown; skipped", err);
    }
    return frame.seq;
  }
  state.onFrame = onFrame;

  function watchStore() {
    var stores = window.dash_stores;
    if (!stores || !stores.length) { setTimeout(watchStore, 50); return; }
    var store = stores[0], last = null;
    store.subscribe(function () {
      var st = store.getState();
      var frame = propOf(st, "live", "data");
      if (!frame || frame === last) return;
      last = frame;
      if (!window.lianxinLabels) {
        var meta = propOf(st, "live-meta", "data");
        if (meta && meta.labels) window.lianxinLabels = meta.labels;
      }
      onFrame(frame);
    });
  }
  watchStore();
})();
