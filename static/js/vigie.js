/* Vigie — progressive enhancement only: every page works without this file. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // Move keyboard and screen-reader focus to the first error summary, so it is announced.
    var summary = document.querySelector("[data-focus]");
    if (summary) {
      summary.focus();
    }
  });
})();
