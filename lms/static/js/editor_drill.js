// Report-drill editor: synonyms as chips, add/remove rows for facts, numbers and traps, and 检查范文 (the drill's
// rules run on the model report by the server, nothing saved). Without JavaScript the same form posts plain rows:
// each synonyms field is a text box with 、 between the phrasings, and two blank rows wait at the end of each list.
(function () {
  "use strict";

  var SEPARATORS = /[、,，;；\n]/;

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    if (className) { node.className = className; }
    return node;
  }

  function splitWords(text) {
    return text.split(SEPARATORS).map(function (w) { return w.trim(); }).filter(Boolean);
  }

  // --- chips ---------------------------------------------------------------------------------------------------

  function setupChips(input) {
    if (input.getAttribute("data-chips-ready")) { return; }
    input.setAttribute("data-chips-ready", "1");
    var words = splitWords(input.value);
    var box = el("div", null, "chips form-control form-control-lg");
    var list = el("ul", null, "chips-list");
    var typing = el("input", null, "chips-input");
    typing.type = "text";
    typing.autocomplete = "off";
    typing.placeholder = words.length ? "再添加一种说法" : (input.placeholder || "输入一种说法后按回车");
    // The visible text box takes the original id, so its <label> (and aria-describedby) still name it.
    typing.id = input.id;
    input.id = input.id + "-value";
    if (input.getAttribute("aria-describedby")) {
      typing.setAttribute("aria-describedby", input.getAttribute("aria-describedby"));
    }
    input.type = "hidden";
    box.appendChild(list);
    box.appendChild(typing);
    input.parentNode.insertBefore(box, input.nextSibling);

    function sync() { input.value = words.join("、"); }

    function render() {
      list.textContent = "";
      words.forEach(function (word, index) {
        var chip = el("li", null, "chip");
        chip.appendChild(el("span", word));
        var remove = el("button", "✕", "chip-remove");
        remove.type = "button";
        remove.setAttribute("aria-label", "删除说法“" + word + "”");
        remove.addEventListener("click", function () {
          words.splice(index, 1);
          sync();
          render();
          typing.focus();
        });
        chip.appendChild(remove);
        list.appendChild(chip);
      });
      typing.placeholder = words.length ? "再添加一种说法" : (input.placeholder || "输入一种说法后按回车");
    }

    function take() {
      var fresh = splitWords(typing.value);
      typing.value = "";
      fresh.forEach(function (word) { if (words.indexOf(word) < 0) { words.push(word); } });
      if (fresh.length) { sync(); render(); }
    }

    typing.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();  // Enter adds a chip; it must not submit the whole editor
        take();
      } else if (event.key === "Backspace" && !typing.value && words.length) {
        words.pop();
        sync();
        render();
      }
    });
    typing.addEventListener("input", function () {
      if (SEPARATORS.test(typing.value)) { take(); }
    });
    typing.addEventListener("blur", take);
    input.chipsFlush = take;
    box.addEventListener("click", function (event) { if (event.target === box) { typing.focus(); } });
    render();
  }

  function flushChips(form) {
    form.querySelectorAll("input[data-chips]").forEach(function (input) {
      if (input.chipsFlush) { input.chipsFlush(); }
    });
  }

  // --- rows ----------------------------------------------------------------------------------------------------

  var serial = 1000;

  function renumber(container) {
    container.querySelectorAll("[data-row]").forEach(function (row, index) {
      var first = row.querySelector("label");
      if (first) { first.textContent = first.textContent.replace(/第 \d+ /, "第 " + (index + 1) + " "); }
      var remove = row.querySelector("[data-remove-row]");
      if (remove) { remove.setAttribute("aria-label", remove.getAttribute("aria-label").replace(/第 \d+ /, "第 " + (index + 1) + " ")); }
    });
  }

  function clearRow(row) {
    row.querySelectorAll("input, select").forEach(function (field) {
      if (field.tagName === "SELECT") { field.selectedIndex = 0; } else { field.value = ""; }
    });
  }

  function freshRow(template) {
    var row = template.cloneNode(true);
    serial += 1;
    // A clone carries the chips widget of its model: drop it and rebuild from the plain input.
    row.querySelectorAll(".chips").forEach(function (box) { box.parentNode.removeChild(box); });
    row.querySelectorAll("input[data-chips]").forEach(function (input) {
      input.type = "text";
      input.removeAttribute("data-chips-ready");
      input.id = input.id.replace(/-value$/, "");
    });
    row.querySelectorAll("[id]").forEach(function (node) {
      var label = row.querySelector('label[for="' + node.id + '"]');
      var id = node.id.replace(/-\d+$/, "") + "-" + serial;
      if (label) { label.setAttribute("for", id); }
      node.id = id;
    });
    clearRow(row);
    return row;
  }

  function setupRows(editor) {
    var container = editor.querySelector("[data-rows]");
    var add = editor.querySelector("[data-add-row]");
    editor.querySelectorAll("[data-row-tools]").forEach(function (tools) { tools.hidden = false; });
    add.hidden = false;
    add.addEventListener("click", function () {
      var rows = container.querySelectorAll("[data-row]");
      var row = freshRow(rows[rows.length - 1]);
      container.appendChild(row);
      row.querySelectorAll("input[data-chips]").forEach(setupChips);
      renumber(container);
      var first = row.querySelector("input:not([type=hidden])");
      if (first) { first.focus(); }
    });
    container.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove-row]");
      if (!button) { return; }
      var row = button.closest("[data-row]");
      if (container.querySelectorAll("[data-row]").length > 1) {
        row.parentNode.removeChild(row);
      } else {
        // The last row stays as a blank one to type into.
        var fresh = freshRow(row);
        row.parentNode.replaceChild(fresh, row);
        fresh.querySelectorAll("input[data-chips]").forEach(setupChips);
      }
      renumber(container);
      add.focus();
    });
  }

  // --- 检查范文 --------------------------------------------------------------------------------------------------

  function showCheck(target, data) {
    target.textContent = "";
    var ok = data.accepted && !(data.errors && data.errors.length);
    var alert = el("div", null, "alert " + (ok ? "alert-success" : "alert-warning"));
    alert.setAttribute("role", "status");
    alert.setAttribute("data-check-verdict", ok ? "accepted" : "returned");
    alert.appendChild(el("p", ok ? "✓ 示范报告通过全部检查，可以发布" : "✗ 示范报告还不能通过，请按下面修改",
                         "fw-bold mb-1"));
    var list = el("ul", null, "mb-0");
    (data.errors || []).forEach(function (message) { list.appendChild(el("li", message)); });
    (data.checks || []).forEach(function (check) {
      list.appendChild(el("li", (check.passed ? "✓ " : "✗ ") + check.label + "：" + check.message));
    });
    alert.appendChild(list);
    target.appendChild(alert);
  }

  function setupCheck(form) {
    var section = form.querySelector("[data-check-model]");
    if (!section || !window.fetch || !window.FormData) { return; }
    section.hidden = false;
    var button = section.querySelector("[data-check-button]");
    var target = section.querySelector("[data-check-result]");
    button.addEventListener("click", function () {
      flushChips(form);
      button.disabled = true;
      target.textContent = "正在检查……";
      var meta = document.querySelector('meta[name="csrf-token"]');
      fetch(section.getAttribute("data-url"), {
        method: "POST", credentials: "same-origin", body: new FormData(form),
        headers: {"X-CSRFToken": meta ? meta.getAttribute("content") : "", "Accept": "application/json"}
      }).then(function (response) {
        return response.json().then(function (data) { return {ok: response.ok, data: data}; });
      }).then(function (result) {
        if (result.ok) {
          showCheck(target, result.data);
        } else {
          target.textContent = (result.data.error && result.data.error.message) || "检查失败，请稍后再试";
        }
      }).catch(function () {
        target.textContent = "检查失败：网络不可用";
      }).then(function () { button.disabled = false; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.drill-editor");
    if (!form) { return; }
    form.querySelectorAll("input[data-chips]").forEach(setupChips);
    form.querySelectorAll("[data-row-editor]").forEach(setupRows);
    setupCheck(form);
    form.addEventListener("submit", function () { flushChips(form); });
  });
})();
