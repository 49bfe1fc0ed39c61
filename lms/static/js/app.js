// Shared page behaviour: large-text toggle (remembered on this device) and confirm prompts.
(function () {
  "use strict";
  var KEY = "lms.largeText";
  function apply(on) {
    document.documentElement.classList.toggle("large-text", on);
    document.querySelectorAll('[data-action="toggle-large-text"]').forEach(function (b) {
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }
  try { apply(localStorage.getItem(KEY) === "1"); } catch (e) { /* storage may be disabled */ }
  document.addEventListener("DOMContentLoaded", function () {
    var on = document.documentElement.classList.contains("large-text");
    apply(on);
    document.querySelectorAll('[data-action="toggle-large-text"]').forEach(function (b) {
      b.addEventListener("click", function () {
        on = !document.documentElement.classList.contains("large-text");
        apply(on);
        try { localStorage.setItem(KEY, on ? "1" : "0"); } catch (e) { /* ignore */ }
      });
    });
    document.querySelectorAll("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (ev) {
        if (!window.confirm(f.getAttribute("data-confirm"))) { ev.preventDefault(); }
      });
    });
  });
})();
