/* Scales the 1920×1080 wall canvas to fill the window exactly (1920×1080, 2560×1440, 3840×2160 …),
   centred and letterboxed at other ratios, and keeps the title-bar clock ticking in the page's
   language. Pure presentation: no data is fetched here. */
(function () {
  "use strict";
  var W = 1920, H = 1080;
  var applied = "";

  function fit() {
    var canvas = document.getElementById("wall-canvas");
    if (!canvas) return false;
    var s = Math.min(window.innerWidth / W, window.innerHeight / H);
    var x = (window.innerWidth - W * s) / 2, y = (window.innerHeight - H * s) / 2;
    var transform = "translate(" + x + "px," + y + "px) scale(" + s + ")";
    if (canvas.style.transform !== transform || applied !== transform) {
      canvas.style.transform = transform;
      applied = transform;
    }
    document.documentElement.classList.add("wall-mode");
    return true;
  }

  function pad(n) { return n < 10 ? "0" + n : "" + n; }

  function tick() {
    var el = document.getElementById("clock");
    if (el) {
      var d = new Date();
      var en = !!document.querySelector(".lang-en");
      var date = en
        ? d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate())
        : d.getFullYear() + "年" + (d.getMonth() + 1) + "月" + d.getDate() + "日";
      el.textContent = date + " " + pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
    }
    fit();
  }

  // Until the canvas is in the page (Dash renders it after load), fit as soon as it appears.
  var watcher = new MutationObserver(function () { if (fit()) { watcher.disconnect(); tick(); } });
  watcher.observe(document.documentElement, { childList: true, subtree: true });
  window.addEventListener("resize", fit);
  setInterval(tick, 1000);
})();
