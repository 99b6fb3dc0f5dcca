/* Scales the 1920×1080 wall canvas to fill the window exactly, letterboxed at other ratios,
   and keeps the title-bar clock ticking. Pure presentation: no data is fetched here. */
(function () {
  "use strict";
  var W = 1920, H = 1080;

  function fit() {
    var canvas = document.getElementById("wall-canvas");
    if (!canvas) return;
    var s = Math.min(window.innerWidth / W, window.innerHeight / H);
    var x = (window.innerWidth - W * s) / 2, y = (window.innerHeight - H * s) / 2;
    canvas.style.transform = "translate(" + x + "px," + y + "px) scale(" + s + ")";
    document.documentElement.classList.add("wall-mode");
  }

  function pad(n) { return n < 10 ? "0" + n : "" + n; }

  function tick() {
    var el = document.getElementById("clock");
    if (el) {
      var d = new Date();
      var lang = document.querySelector(".wall.lang-en") ? "en" : "zh";
      var date = lang === "en"
        ? d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate())
        : d.getFullYear() + "年" + (d.getMonth() + 1) + "月" + d.getDate() + "日";
      el.textContent = date + " " + pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
    }
    fit();
  }

  window.addEventListener("resize", fit);
  new MutationObserver(fit).observe(document.documentElement, { childList: true, subtree: true });
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);
})();
