// Lesson editor: a toolbar over the Markdown text (headings, bold, lists, tables, callouts) and 图片 — an image
// uploaded as the course's media and its Markdown inserted at the cursor. Each change fires "input", so the live
// preview (courses.js) follows. Without JavaScript the textarea is plain Markdown, as before.
(function () {
  "use strict";

  var MAX_BYTES = 5 * 1024 * 1024;
  var TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"];

  function changed(area) {
    area.dispatchEvent(new Event("input", {bubbles: true}));
    area.focus();
  }

  function lineStart(text, index) { return text.lastIndexOf("\n", index - 1) + 1; }

  // Put `prefix` before every line the selection touches (or the cursor's line).
  function prefixLines(area, prefixFor) {
    var text = area.value, start = lineStart(text, area.selectionStart);
    var end = area.selectionEnd, stop = text.indexOf("\n", end);
    if (stop < 0) { stop = text.length; }
    var lines = text.slice(start, stop).split("\n");
    var out = lines.map(function (line, i) { return prefixFor(i) + line.replace(/^(#{1,6} |[-*] |\d+\. |> )/, ""); });
    var block = out.join("\n");
    area.value = text.slice(0, start) + block + text.slice(stop);
    area.setSelectionRange(start + block.length, start + block.length);
    changed(area);
  }

  // Insert a block on lines of its own, after the line the cursor is on, a blank line before and after.
  function insertBlock(area, block, selectFrom, selectLength) {
    var text = area.value, at = text.indexOf("\n", area.selectionEnd);
    if (at < 0) { at = text.length; }
    var before = text.slice(0, at), after = text.slice(at);
    var lead = before === "" || /\n\n$/.test(before) ? "" : (/\n$/.test(before) ? "\n" : "\n\n");
    var tail = after === "" || /^\n\n/.test(after) ? "" : (/^\n/.test(after) ? "\n" : "\n\n");
    area.value = before + lead + block + tail + after;
    var from = before.length + lead.length + (selectFrom || 0);
    area.setSelectionRange(from, from + (selectLength || 0));
    changed(area);
  }

  function wrap(area, mark, placeholder) {
    var text = area.value, s = area.selectionStart, e = area.selectionEnd;
    var inner = text.slice(s, e) || placeholder;
    area.value = text.slice(0, s) + mark + inner + mark + text.slice(e);
    area.setSelectionRange(s + mark.length, s + mark.length + inner.length);
    changed(area);
  }

  var ACTIONS = {
    heading: function (area) { prefixLines(area, function () { return "## "; }); },
    subheading: function (area) { prefixLines(area, function () { return "### "; }); },
    bold: function (area) { wrap(area, "**", "要强调的文字"); },
    list: function (area) { prefixLines(area, function () { return "- "; }); },
    numbered: function (area) { prefixLines(area, function (i) { return (i + 1) + ". "; }); },
    table: function (area) {
      var block = "| 项目 | 说明 |\n| --- | --- |\n| 内容 | 内容 |";
      insertBlock(area, block, block.length, 0);
    },
    tip: function (area) { insertBlock(area, "> **提示：** 这里写提示内容", 10, 6); },
    warning: function (area) { insertBlock(area, "> **注意：** 这里写注意事项", 10, 6); }
  };

  function say(status, text, bad) {
    status.textContent = text;
    status.classList.toggle("text-danger", !!bad);
  }

  function upload(toolbar, area, file, status) {
    if (TYPES.indexOf(file.type) < 0) {
      say(status, "只能插入 PNG、JPEG、GIF 或 WebP 图片（“" + file.name + "”不是）", true);
      return;
    }
    if (file.size > MAX_BYTES) {
      say(status, "图片太大：不能超过 5 MB（“" + file.name + "”有 " + (file.size / 1048576).toFixed(1) + " MB）", true);
      return;
    }
    var body = new FormData();
    body.append("file", file);
    body.append("alt", file.name.replace(/\.[^.]+$/, ""));
    var meta = document.querySelector('meta[name="csrf-token"]');
    say(status, "正在上传“" + file.name + "”……");
    fetch(toolbar.getAttribute("data-upload-url"), {
      method: "POST", credentials: "same-origin", body: body,
      headers: {"X-CSRFToken": meta ? meta.getAttribute("content") : "", "Accept": "application/json"}
    }).then(function (response) {
      if (response.status === 413) { return {ok: false, data: {error: {message: "图片太大：不能超过 5 MB"}}}; }
      return response.json().then(function (data) { return {ok: response.ok, data: data}; }, function () {
        return {ok: false, data: {}};
      });
    }).then(function (result) {
      if (!result.ok) {
        say(status, (result.data.error && result.data.error.message) || "上传失败，请稍后再试", true);
        return;
      }
      insertBlock(area, result.data.markdown, 0, 0);
      say(status, "已插入图片 " + result.data.filename);
    }).catch(function () { say(status, "上传失败：网络不可用", true); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var toolbar = document.querySelector("[data-md-toolbar]");
    if (!toolbar) { return; }
    var area = document.getElementById(toolbar.getAttribute("aria-controls"));
    var file = toolbar.querySelector("[data-md-file]");
    var status = document.querySelector("[data-md-status]");
    if (!area) { return; }
    toolbar.hidden = false;
    toolbar.addEventListener("click", function (event) {
      var button = event.target.closest("[data-md]");
      if (!button) { return; }
      var action = button.getAttribute("data-md");
      if (action === "image") {
        file.value = "";
        file.click();
      } else if (ACTIONS[action]) {
        ACTIONS[action](area);
      }
    });
    file.addEventListener("change", function () {
      if (file.files && file.files[0]) { upload(toolbar, area, file.files[0], status); }
    });
  });
})();
