/* Vigie — progressive enhancement only: every page works without this file. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // Move keyboard and screen-reader focus to the first error summary, so it is announced.
    var summary = document.querySelector("[data-focus]");
    if (summary) {
      summary.focus();
    }
    // A failed action is answered at its own address: show the dossier's, so a reload never posts it again.
    var canonical = document.querySelector("link[rel=canonical][data-replace-url]");
    if (canonical && window.history && window.history.replaceState) {
      window.history.replaceState(null, "", canonical.getAttribute("href"));
    }
  });
})();
