// Courses: read-aloud (browser speech synthesis, zh-CN) and the authoring live preview.
(function () {
  "use strict";

  function setupReadAloud() {
    var button = document.querySelector('[data-action="read-aloud"]');
    var body = document.getElementById("lesson-body");
    if (!button || !body) { return; }
    // No speech synthesis in this browser: the button stays hidden.
    if (!window.speechSynthesis || typeof window.SpeechSynthesisUtterance !== "function") { return; }
    button.hidden = false;
    var speaking = false;
    function stop() {
      window.speechSynthesis.cancel();
      speaking = false;
      button.setAttribute("aria-pressed", "false");
      button.textContent = "朗读";
    }
    button.addEventListener("click", function () {
      if (speaking) { stop(); return; }
      var utterance = new window.SpeechSynthesisUtterance(body.innerText);
      utterance.lang = "zh-CN";
      utterance.rate = 0.95;
      utterance.onend = stop;
      utterance.onerror = stop;
      window.speechSynthesis.cancel();
      window.speechSynthesis.speak(utterance);
      speaking = true;
      button.setAttribute("aria-pressed", "true");
      button.textContent = "停止朗读";
    });
    window.addEventListener("pagehide", stop);
  }

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
    setupReadAloud();
    setupPreview();
  });
})();
