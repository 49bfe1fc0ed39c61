// Report drills: submit through the API with a client_id (a retried tap never records twice),
// show the checks at their fields at once, keep the history; a draft kept on the tablet while typing and
// reports queued while offline (sent when the connection returns); live Markdown preview in the editor.
(function () {
  "use strict";

  var RULE_LABELS = {
    required_fields: "必填要素", time_specific: "时间具体", place_specific: "地点具体", parties_named: "当事人明确",
    key_facts: "关键事实", no_fabrication: "没有虚构", department: "责任部门", urgency: "紧急程度",
    description_quality: "经过描述", event_type: "事件类型", demand_specific: "诉求具体",
    measures_specific: "措施具体", notified: "报警和报告"
  };

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return "c-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    if (className) { node.className = className; }
    return node;
  }

  function shownTime(iso) {
    // The server sends Asia/Shanghai time with its offset: show it as the pages do, whatever the tablet's zone.
    return typeof iso === "string" ? iso.slice(0, 16).replace("T", " ") : "";
  }

  function markFields(form, checks) {
    form.querySelectorAll("[data-messages-for]").forEach(function (box) {
      box.textContent = "";
      var control = form.querySelector('[name="' + box.getAttribute("data-messages-for") + '"]');
      if (control) { control.classList.remove("is-invalid"); control.removeAttribute("aria-invalid"); }
    });
    checks.forEach(function (check) {
      if (check.passed || !check.field) { return; }
      var box = form.querySelector('[data-messages-for="' + check.field + '"]');
      var control = form.querySelector('[name="' + check.field + '"]');
      if (box) { box.appendChild(el("div", "✗ 需修改：" + check.message)); }
      if (control) { control.classList.add("is-invalid"); control.setAttribute("aria-invalid", "true"); }
    });
  }

  function showSummary(container, result) {
    container.textContent = "";
    var ok = result.verdict === "accepted";
    var alert = el("div", null, "alert " + (ok ? "alert-success" : "alert-warning"));
    alert.setAttribute("role", ok ? "status" : "alert");
    var head = el("p", (ok ? "✓ 通过" : "✗ 退回") + "：第 " + result.attempt + " 次提交，得分 ", "fs-5 fw-bold mb-1");
    head.setAttribute("data-verdict", result.verdict);
    var score = el("span", String(result.score));
    score.setAttribute("data-score", "");
    head.appendChild(score);
    head.appendChild(document.createTextNode(" 分"));
    alert.appendChild(head);
    var failed = result.checks.filter(function (c) { return !c.passed; });
    if (failed.length) {
      alert.appendChild(el("p", "以下 " + failed.length + " 处需要修改：", "mb-1"));
      var list = el("ul", null, "mb-0");
      list.setAttribute("data-failed", "");
      failed.forEach(function (c) {
        var item = el("li");
        item.setAttribute("data-rule", c.rule);
        item.appendChild(el("strong", RULE_LABELS[c.rule] || c.rule));
        item.appendChild(document.createTextNode("："));
        if (c.field) {
          var link = el("a", c.message);
          link.href = "#f-" + c.field;
          item.appendChild(link);
        } else {
          item.appendChild(document.createTextNode(c.message));
        }
        list.appendChild(item);
      });
      alert.appendChild(list);
    } else if (ok) {
      alert.appendChild(el("p", "这份上报单要素齐全、表述清楚，不会被退回。", "mb-0"));
    }
    container.appendChild(alert);
    container.focus();
  }

  function addHistory(list, result, code) {
    if (!list) { return; }
    var empty = list.querySelector("[data-history-empty]");
    if (empty) { empty.remove(); }
    var item = el("li", null, "list-group-item d-flex justify-content-between align-items-center flex-wrap gap-2");
    var link = el("a", "第 " + result.attempt + " 次 · " + shownTime(result.created_at));
    link.href = "/drills/" + encodeURIComponent(code) + "?report=" + result.id + "#feedback";
    var badge = el("span", (result.verdict === "accepted" ? "通过" : "退回") + " · " + result.score + " 分",
      "badge status-badge verdict-" + result.verdict);
    item.appendChild(link);
    item.appendChild(badge);
    list.insertBefore(item, list.firstChild);
  }

  function clock(ms) {
    var d = new Date(ms);
    return (d.getHours() < 10 ? "0" : "") + d.getHours() + ":" + (d.getMinutes() < 10 ? "0" : "") + d.getMinutes();
  }

  // The form keeps a draft on the tablet while the worker types (per user: LMS.drafts), and a report
  // submitted without a connection waits in the user's outbox (LMS.outbox) with its client_id; every
  // retry sends that same client_id, so the server records it once and answers with that one result.
  function setupReportForm(form) {
    var status = form.querySelector("[data-status]");
    var button = form.querySelector("[data-submit]");
    var idField = form.querySelector("[data-client-id]");
    var summary = document.querySelector("[data-feedback]");
    var history = document.querySelector("[data-history]");
    var api = form.getAttribute("data-api");
    var code = api.split("/").slice(-2)[0];
    var lms = window.LMS && window.LMS.user ? window.LMS : null;
    var draftName = "drill." + code;
    var controls = Array.prototype.slice.call(form.querySelectorAll("input[name], select[name], textarea[name]"))
      .filter(function (c) { return c.name !== "csrf_token" && c.name !== "client_id"; });

    function values() {
      var body = {};
      controls.forEach(function (c) { body[c.name] = c.value; });
      return body;
    }

    function sameValues(a, b) {
      return controls.every(function (c) { return (a[c.name] || "") === (b[c.name] || ""); });
    }

    function queued() {
      return lms ? lms.outbox.items().filter(function (x) { return x.kind === "drill-report" && x.drill === code; }) : [];
    }

    function saveDraft() {
      if (lms) { lms.drafts.put(draftName, {values: values(), saved: Date.now()}); }
    }

    function showResult(data, fromQueue) {
      markFields(form, data.checks);
      showSummary(summary, data);
      addHistory(history, data, code);
      var prefix = fromQueue ? "本机保存的上报已提交。" : "";
      status.textContent = prefix + (data.verdict === "accepted" ? "已通过。" : "请按提示修改后再次提交。");
    }

    function queue(item) {
      lms.outbox.enqueue(item);  // replaces a queued item with the same client_id: never two of one report
      if (queued().some(function (x) { return x.id === item.id; })) {
        form.setAttribute("data-queued", "");
        status.textContent = "没有连上服务器：这份上报已保存在本机（待上传），联网后自动提交并显示结果（不会重复记录）。";
      }
    }

    if (lms) {
      var draft = lms.drafts.get(draftName);
      if (draft && draft.values && !/[?&]report=/.test(location.search) && !sameValues(draft.values, values())) {
        controls.forEach(function (c) {
          if (typeof draft.values[c.name] === "string") { c.value = draft.values[c.name]; }
        });
        status.textContent = "已恢复您在本机保存的草稿（" + clock(draft.saved) + "）。";
      }
      var waiting = queued();
      if (waiting.length) {
        // Submitting again replaces the waiting report instead of adding a second one.
        idField.value = waiting[waiting.length - 1].id;
        form.setAttribute("data-queued", "");
        status.textContent = "有 " + waiting.length + " 份上报保存在本机（待上传），联网后自动提交。";
      } else {
        idField.value = newId();  // a copy the service worker kept offline may carry an id already recorded
      }
      form.addEventListener("input", saveDraft);
      form.addEventListener("change", saveDraft);
      document.addEventListener("lms:sent", function (ev) {
        var detail = ev.detail || {};
        var item = detail.item || {};
        if (item.kind !== "drill-report" || item.drill !== code) { return; }
        if (!queued().length) { form.removeAttribute("data-queued"); }
        if ((detail.status === 200 || detail.status === 201) && detail.data) {
          showResult(detail.data, true);
          if (idField.value === item.id) { idField.value = newId(); }
          var current = lms.drafts.get(draftName);
          if (!current || sameValues(current.values, item.body)) { lms.drafts.drop(draftName); }
        } else {
          var message = detail.data && detail.data.error && detail.data.error.message;
          status.textContent = "本机保存的上报没有被接受：" + (message || "请检查后再次提交。");
          if (idField.value === item.id) { idField.value = newId(); }
        }
      });
      // The outbox retries every 15 s for the whole app; a waiting report is worth trying more often.
      window.setInterval(function () { if (queued().length) { lms.outbox.flush(); } }, 5000);
    }

    form.addEventListener("submit", function (ev) {
      if (!window.fetch) { return; } // the plain POST works without fetch
      ev.preventDefault();
      var body = values();
      body.client_id = idField.value;
      var heading = document.querySelector("h1");
      var item = {id: body.client_id, kind: "drill-report", drill: code, url: api, method: "POST", body: body,
                  label: "演练上报：" + (heading ? heading.textContent.trim() : "")};
      if (lms) { saveDraft(); }
      if (lms && navigator.onLine === false) { queue(item); return; }
      button.disabled = true;
      status.textContent = "正在提交……";
      fetch(api, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken()},
        body: JSON.stringify(body)
      }).then(function (response) {
        if (response.status >= 500) { throw new Error("server unavailable"); }
        return response.json().then(function (data) { return {ok: response.ok, data: data}; });
      }).then(function (reply) {
        if (!reply.ok) {
          status.textContent = (reply.data.error && reply.data.error.message) || "提交没有成功，请再试一次。";
          return;
        }
        showResult(reply.data, false);
        var shown = document.querySelector("[data-model-compare]");
        if (shown) { shown.hidden = true; } // it compared an earlier report
        if (reply.data.model_unlocked && summary) {
          // Accepted, or returned twice: the model report beside this one is on the page for this report.
          var compare = el("a", "对照示范报告，看看哪里写得不一样 →", "btn btn-outline-primary btn-touch mb-3");
          compare.href = "/drills/" + encodeURIComponent(code) + "?report=" + reply.data.id + "#model-compare";
          compare.setAttribute("data-compare-link", "");
          summary.appendChild(compare);
        }
        idField.value = newId(); // recorded: the next submit is a new attempt
        if (lms) {
          var current = lms.drafts.get(draftName);
          if (!current || sameValues(current.values, body)) { lms.drafts.drop(draftName); }
        }
      }).catch(function () {
        if (lms) {
          queue(item);
        } else {
          // Same client_id on retry: the server returns the first result instead of a second record.
          status.textContent = "网络不稳定，没有收到结果。请再点一次“提交上报”，不会重复记录。";
        }
      }).then(function () {
        button.disabled = false;
      });
    });
  }

  function setupPreview(source) {
    var target = document.querySelector("[data-markdown-preview]");
    var url = source.getAttribute("data-preview-url");
    var timer = null;
    var seq = 0;
    source.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var mine = ++seq;
        fetch(url, {
          method: "POST", credentials: "same-origin",
          headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken()},
          body: JSON.stringify({markdown: source.value})
        }).then(function (r) { return r.json(); }).then(function (data) {
          // The server sanitises the rendered HTML (same allow-list as lessons).
          if (mine === seq && typeof data.html === "string") { target.innerHTML = data.html; }
        }).catch(function () { /* the preview is a convenience; saving still works */ });
      }, 300);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-drill-form]").forEach(setupReportForm);
    document.querySelectorAll("[data-markdown-source]").forEach(setupPreview);
  });
})();
