/* Batchline: small conveniences only. Every page works without this file. */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    // "Cancel" in an inline reason prompt closes the prompt instead of reloading the page.
    var cancel = event.target.closest("[data-close-panel]");
    var panel = cancel && cancel.closest(".action-panel");
    if (panel) {
      event.preventDefault();
      panel.innerHTML = "";
    }
  });

  document.addEventListener("focusin", function (event) {
    // A one-time secret (API token) is selected whole, ready to copy.
    if (event.target.matches && event.target.matches("input.secret")) {
      event.target.select();
    }
  });

  document.addEventListener("htmx:afterSwap", function () {
    // An inline form that just appeared gets the focus (the first field in error, if any), so that a
    // scanner or keyboard can type at once.
    var panel = document.querySelector(".action-panel");
    if (!panel) {
      return;
    }
    var field = panel.querySelector(".has-error input, .has-error select, .has-error textarea") ||
      panel.querySelector("input:not([type=hidden]), select, textarea");
    if (field) {
      field.focus();
    }
  });
})();
