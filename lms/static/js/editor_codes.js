// Generated codes shown while typing: a blank code field (data-code-kind) shows, as its placeholder, the code its
// title will give (asked of /author/code-suggestion). The field stays blank, so the code is still made on save;
// typing one's own code overrides it. Without JavaScript the field's hint says the same in words.
(function () {
  "use strict";

  function setup(field) {
    var title = document.getElementById(field.getAttribute("data-code-from"));
    if (!title) { return; }
    var timer = null, sent = 0, original = field.placeholder;
    function ask() {
      var text = title.value.trim();
      if (!text) { field.placeholder = original; return; }
      var ticket = ++sent;
      var query = "?kind=" + encodeURIComponent(field.getAttribute("data-code-kind")) +
                  "&title=" + encodeURIComponent(text);
      if (field.getAttribute("data-code-course")) {
        query += "&course=" + encodeURIComponent(field.getAttribute("data-code-course"));
      }
      fetch(field.getAttribute("data-code-url") + query, {credentials: "same-origin",
                                                          headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (ticket === sent && data && data.code) {
            field.placeholder = "留空将生成 " + data.code;
            field.setAttribute("data-suggested", data.code);
          }
        })
        .catch(function () { /* offline: the hint below the field still explains */ });
    }
    title.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, 300);
    });
    if (title.value.trim()) { ask(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-code-kind]").forEach(setup);
  });
})();
