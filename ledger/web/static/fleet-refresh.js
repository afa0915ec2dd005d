// The fleet page refreshes its tables in place every data-refresh-s seconds (the page works
// without this script: reload it). Only #fleet-live is replaced, so the config form keeps what
// is being typed. No framework, no network but this page.
(function () {
  "use strict";
  var live = document.getElementById("fleet-live");
  if (!live || !window.fetch || !window.DOMParser) { return; }
  var every = Math.max(2, parseInt(live.getAttribute("data-refresh-s"), 10) || 10) * 1000;
  function refresh() {
    fetch(window.location.pathname, { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("fleet-live");
        if (fresh) { live.innerHTML = fresh.innerHTML; }
      })
      .catch(function () { /* offline for a moment: try again at the next tick */ })
      .then(function () { window.setTimeout(refresh, every); });
  }
  window.setTimeout(refresh, every);
})();
