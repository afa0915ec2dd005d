// The member's page: shows the member code of the current time step. The page carries the
// codes of the next steps (signed by the ledger, ledger/member_codes.py), so the code keeps
// rotating without the network until they run out. No inline script (the CSP forbids it).
(function () {
  "use strict";
  var box = document.getElementById("member-code");
  if (!box) {
    return;
  }
  var codes = Array.prototype.slice.call(box.querySelectorAll("[data-starts]"));
  var spent = document.getElementById("member-code-spent");
  // The phone's clock may be off; the ledger's was right when it drew the page.
  var skew = Number(box.getAttribute("data-server-now")) - Date.now() / 1000;

  function show() {
    var now = Date.now() / 1000 + skew;
    var current = null;
    codes.forEach(function (code) {
      var on = now >= Number(code.getAttribute("data-starts")) &&
        now < Number(code.getAttribute("data-ends"));
      code.hidden = !on;
      if (on) {
        current = code;
      }
    });
    if (spent) {
      spent.hidden = current !== null;
    }
    box.setAttribute("data-showing", current ? current.getAttribute("data-starts") : "");
  }

  show();
  window.setInterval(show, 1000);
})();
