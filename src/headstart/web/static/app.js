// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // The browser reports its time zone: preselect it on the sign-in form.
  function preselectZone(root) {
    var select = root.querySelector('select[data-browser-zone="on"]');
    if (!select) return;
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === zone) { select.value = zone; return; }
    }
  }
  document.addEventListener("DOMContentLoaded", function () { preselectZone(document); });
  // After htmx replaces the page (hx-boost), move focus to the new content for screen readers.
  document.addEventListener("htmx:afterSettle", function (event) {
    preselectZone(document);
    if (event.detail && event.detail.boosted) {
      var main = document.getElementById("main");
      if (main) main.focus({ preventScroll: true });
    }
  });
})();
