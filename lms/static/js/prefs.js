// Reading settings that follow the person, not the tablet: 大字 and the read-aloud speed are stored on the
// account (PUT /api/v1/me/preferences) and put on <html> by the server. Before login (or until the person has
// chosen), app.js's per-device setting applies. Loaded after app.js, whose 大字 handler runs first.
(function () {
  "use strict";
  var root = document.documentElement;

  function meta(name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : null;
  }

  // app.js has just applied the device's setting; the account's choice wins.
  var chosen = root.getAttribute("data-large-text");
  if (chosen !== null) { root.classList.toggle("large-text", chosen === "1"); }

  function save(changes) {
    if (!meta("lms-user")) { return Promise.resolve(null); }
    return fetch("/api/v1/me/preferences", {
      method: "PUT",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": meta("csrf-token") || ""},
      body: JSON.stringify(changes)
    }).then(function (response) { return response.ok ? response.json() : null; })
      .catch(function () { return null; });  // offline: the page keeps the setting, the next toggle saves it
  }

  window.LMSPrefs = {
    save: save,
    speechRate: function () {
      var rate = parseFloat(root.getAttribute("data-speech-rate"));
      return rate > 0 ? rate : 1;
    },
    setSpeechRate: function (rate) {
      root.setAttribute("data-speech-rate", String(rate));
      return save({speech_rate: rate});
    }
  };

  document.addEventListener("DOMContentLoaded", function () {
    if (!meta("lms-user")) { return; }
    document.querySelectorAll('[data-action="toggle-large-text"]').forEach(function (button) {
      button.addEventListener("click", function () {
        var on = root.classList.contains("large-text");
        root.setAttribute("data-large-text", on ? "1" : "0");
        button.setAttribute("data-saving", "1");
        save({large_text: on}).then(function () { button.removeAttribute("data-saving"); });
      });
    });
  });
})();
