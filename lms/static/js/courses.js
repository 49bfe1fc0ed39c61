// Courses: the authoring live preview (read-aloud lives in readaloud.js).
(function () {
  "use strict";

  function setupPreview() {
    var editor = document.querySelector("textarea[data-preview-url]");
    if (!editor) { return; }
    var target = document.getElementById(editor.getAttribute("data-preview-target"));
    var meta = document.querySelector('meta[name="csrf-token"]');
    var timer = null;
    var sent = 0;
    function refresh() {
      var ticket = ++sent;
      fetch(editor.getAttribute("data-preview-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": meta ? meta.content : ""},
        body: JSON.stringify({markdown: editor.value, course: editor.getAttribute("data-course")})
      }).then(function (response) {
        return response.json().then(function (data) { return {ok: response.ok, data: data}; });
      }).then(function (result) {
        if (ticket !== sent) { return; }  // an older reply arriving late must not overwrite a newer one
        if (result.ok) {
          // The server sanitised this HTML with the same allow-list as published lessons.
          target.innerHTML = result.data.html;
        } else {
          target.textContent = (result.data.error && result.data.error.message) || "预览失败";
        }
      }).catch(function () { target.textContent = "预览失败：网络不可用"; });
    }
    editor.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 400);
    });
    refresh();
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupPreview();
  });
})();
