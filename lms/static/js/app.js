// Shared page behaviour: large text, confirm prompts, offline banner, the service worker,
// and an outbox for writes made while the connection is down (sent when it returns).
(function () {
  "use strict";
  var KEY = "lms.largeText";
  function meta(name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : null;
  }
  function applyLarge(on) {
    document.documentElement.classList.toggle("large-text", on);
    document.querySelectorAll('[data-action="toggle-large-text"]').forEach(function (b) {
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }
  try { applyLarge(localStorage.getItem(KEY) === "1"); } catch (e) { /* storage may be disabled */ }

  // --- outbox: queued writes, keyed by user so nothing is ever sent under another user's session ---
  var user = meta("lms-user");
  var OUTBOX = user ? "lms.pending.outbox." + user : null;

  function readQueue(key) {
    try { return JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { return []; }
  }
  function writeQueue(key, items) {
    if (items.length) { localStorage.setItem(key, JSON.stringify(items)); } else { localStorage.removeItem(key); }
  }
  // Keys are matched segment by segment, never by prefix or suffix: user 1 must not count or clear user 12's.
  //   "lms.pending.<what>.<user>[.<more>]"  queued writes (LMS.outbox and any feature's own queue)
  //   "lms.quiz.<user>.<attempt>"           quiz answers kept by quizzes.js
  //   "lms.draft.<user>.<name>"             forms typed but not submitted (LMS.drafts)
  function ownKey(k, prefix) {
    if (!user || !k || k.indexOf(prefix) !== 0) { return false; }
    var parts = k.slice(prefix.length).split(".");
    return parts[prefix === "lms.pending." ? 1 : 0] === user;
  }
  function ownKeys(prefix) {
    var keys = [];
    for (var i = 0; i < localStorage.length; i++) {
      var k = localStorage.key(i);
      if (ownKey(k, prefix)) { keys.push(k); }
    }
    return keys;
  }
  function pendingCount() {
    // Every feature keeps its queue under "lms.pending.<what>.<user>…": count this user's.
    var total = 0;
    ownKeys("lms.pending.").forEach(function (k) { total += readQueue(k).length; });
    return total;
  }
  // Drafts (forms typed but not submitted) live under "lms.draft.<user>.<name>", read only by that user.
  var DRAFTS = user ? "lms.draft." + user + "." : null;
  function draftKeys() { return ownKeys("lms.draft."); }

  // --- quiz answers kept on the tablet (quizzes.js): {seq, answers: {qid: {answer, seq, saved}}, api} ---
  function readQuiz(key) {
    try { var state = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; }
    return state && state.answers && typeof state.answers === "object" ? state : null;
  }
  function unsavedQids(state) {
    return state ? Object.keys(state.answers).filter(function (qid) {
      return state.answers[qid] && state.answers[qid].saved === false;
    }) : [];
  }
  function unsyncedAnswers() {
    var total = 0;
    ownKeys("lms.quiz.").forEach(function (k) { total += unsavedQids(readQuiz(k)).length; });
    return total;
  }
  // The page that has an attempt open sends its own answers (LMS.claim); the others are sent from here
  // before logout, the same PUT with the same seq as quizzes.js (the server keeps the newest seq).
  var claims = {};
  function sendQuiz(key) {
    var state = readQuiz(key);
    var qids = unsavedQids(state);
    if (!qids.length || !state.api) { return Promise.resolve(); }
    var chain = Promise.resolve(true);
    qids.forEach(function (qid) {
      chain = chain.then(function (go) {
        if (!go) { return false; }
        var entry = state.answers[qid];
        return fetch(state.api + "/answers/" + encodeURIComponent(qid), {
          method: "PUT", credentials: "same-origin",
          headers: {"Content-Type": "application/json", "Accept": "application/json",
                    "X-CSRFToken": meta("csrf-token") || ""},
          body: JSON.stringify({answer: entry.answer, seq: entry.seq})
        }).then(function (response) {
          if (response.status >= 502 && response.status <= 504) { connection.lost(); return false; }
          connection.restored();
          if (response.status === 409) { localStorage.removeItem(key); return false; }  // attempt closed
          if (response.ok || response.status === 422) {
            var now = readQuiz(key);
            if (now && now.answers[qid] && now.answers[qid].seq <= entry.seq) {
              now.answers[qid].saved = true;
              localStorage.setItem(key, JSON.stringify(now));
            }
            return true;
          }
          return false;  // 401/403 and the like: keep it
        }, function () { connection.lost(); return false; });
      });
    });
    return chain.then(function () { return undefined; });
  }
  function sendEverything() {
    var work = [flush()];
    ownKeys("lms.quiz.").forEach(function (k) {
      work.push(claims[k] ? claims[k]() : (navigator.onLine ? sendQuiz(k) : Promise.resolve()));
    });
    var all = Promise.all(work.map(function (p) { return Promise.resolve(p).catch(function () { return null; }); }));
    // A server that accepts the connection but never answers must not keep a worker from logging out.
    return Promise.race([all, new Promise(function (resolve) { window.setTimeout(resolve, 8000); })]);
  }

  // --- connection: navigator.onLine, or a failed request to our own server (it may be down while the
  // tablet's Wi-Fi is fine); a probe of /healthz notices when the server is back. ---
  var lost = false;
  var probing = null;
  function showOffline() {
    var banner = document.getElementById("offline-banner");
    if (banner) { banner.hidden = navigator.onLine && !lost; }
  }
  function announce(online) {
    showOffline();
    document.dispatchEvent(new CustomEvent("lms:connection", {detail: {online: online}}));
  }
  function probe() {
    if (!lost || !navigator.onLine) { return; }
    fetch("/healthz", {cache: "no-store", credentials: "omit"}).then(function (response) {
      if (response.ok) { connection.restored(); }
    }, function () { /* still unreachable */ });
  }
  var connection = {
    lost: function () {
      if (lost) { return; }
      lost = true;
      probing = window.setInterval(probe, 10000);
      announce(false);
    },
    restored: function () {
      if (!lost) { return; }
      lost = false;
      window.clearInterval(probing);
      probing = null;
      announce(navigator.onLine);
      flush();
    },
    isOnline: function () { return navigator.onLine && !lost; }
  };

  var flushing = false;
  function flush() {
    if (!OUTBOX || flushing || !navigator.onLine) { return Promise.resolve(); }
    var items = readQueue(OUTBOX);
    if (!items.length) { return Promise.resolve(); }
    flushing = true;
    var item = items[0];
    return fetch(item.url, {
      method: item.method || "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json",
                "X-CSRFToken": meta("csrf-token") || ""},
      body: JSON.stringify(item.body)
    }).then(function (response) {
      if (response.status >= 502 && response.status <= 504) { connection.lost(); } else { connection.restored(); }
      // Log in again (401/403), or the server is down behind a proxy (5xx): keep it for the next try.
      if (response.status === 401 || response.status === 403 || response.status >= 500) {
        flushing = false;
        return;
      }
      return response.json().catch(function () { return null; }).then(function (data) {
        if (response.status === 400 && data && data.error && data.error.code === "csrf_failed") {
          flushing = false;  // a page from an ended session: a page of the new session sends it
          return;
        }
        writeQueue(OUTBOX, readQueue(OUTBOX).filter(function (x) { return x.id !== item.id; }));
        flushing = false;
        document.dispatchEvent(new CustomEvent("lms:sent", {detail: {item: item, status: response.status, data: data}}));
        return flush();
      });
    }, function () { flushing = false; connection.lost(); });
  }
  // --- the queue made visible: "2 项待上传" on every page (base.html's #pending-badge) ---
  function unsyncedAttempts() {
    return ownKeys("lms.quiz.").filter(function (k) { return unsavedQids(readQuiz(k)).length > 0; }).length;
  }
  function showPending() {
    var badge = document.getElementById("pending-badge");
    if (!badge) { return; }
    var count = pendingCount() + unsyncedAttempts();
    var text = count ? count + " 项待上传" : "";
    if (badge.textContent !== text) { badge.textContent = text; }
    badge.hidden = !count;
  }

  // --- forms that work offline (progressive enhancement; without script they post as usual):
  //   <form data-offline-api="/api/v1/…" data-offline-kind="lesson" data-offline-key="…"
  //         data-offline-fields="code captured_at" data-offline-pending="已学完（待上传）"
  //         data-offline-done="已学完（已上传）">
  // With the server reachable the form posts as before; otherwise the write waits in the outbox with a
  // client_id (the same one on every retry) and is sent to the JSON route when the connection returns.
  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return "c-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }
  function reachable() {
    if (!connection.isOnline()) { return Promise.resolve(false); }
    var probeOnce = fetch("/healthz", {cache: "no-store", credentials: "omit"}).then(function (response) {
      return response.ok;
    }, function () { return false; });
    var slow = new Promise(function (resolve) { window.setTimeout(function () { resolve(false); }, 8000); });
    return Promise.race([probeOnce, slow]).then(function (ok) {
      if (ok) { connection.restored(); } else { connection.lost(); }
      return ok;
    });
  }
  function formState(form) {
    var box = form.nextElementSibling;
    if (!box || !box.hasAttribute("data-offline-state")) {
      box = document.createElement("p");
      box.setAttribute("data-offline-state", "");
      box.setAttribute("role", "status");
      box.className = "alert alert-warning fs-5 my-2";
      form.parentNode.insertBefore(box, form.nextSibling);
    }
    return box;
  }
  function showForm(form, on) {
    form.hidden = !on;
    form.classList.toggle("d-none", !on);  // a d-flex form ignores the hidden attribute
  }
  function showFormPending(form) {
    var box = formState(form);
    box.className = "alert alert-warning fs-5 my-2";
    box.textContent = (form.getAttribute("data-offline-pending") || "已保存在本机（待上传）") +
      "：没有连上服务器，联网后自动上传，不会重复记录。";
    showForm(form, false);
  }
  function offlineItem(form) {
    var body = {};
    (form.getAttribute("data-offline-fields") || "").split(/\s+/).filter(Boolean).forEach(function (name) {
      var control = form.elements.namedItem(name);
      if (control && "value" in control) { body[name] = control.value; }
    });
    if ("captured_at" in body && !body.captured_at) { body.captured_at = new Date().toISOString(); }
    var idField = form.elements.namedItem("client_id");
    var id = idField && idField.value ? idField.value : newId();
    body.client_id = id;
    return {id: id, kind: form.getAttribute("data-offline-kind") || "form", key: form.getAttribute("data-offline-key") || "",
            label: form.getAttribute("data-offline-label") || "", url: form.getAttribute("data-offline-api"),
            method: "POST", body: body, queued: Date.now()};
  }
  function queuedFor(form) {
    var kind = form.getAttribute("data-offline-kind");
    var key = form.getAttribute("data-offline-key") || "";
    return (OUTBOX ? readQueue(OUTBOX) : []).filter(function (x) { return x.kind === kind && x.key === key; });
  }
  function setupOfflineForm(form) {
    if (queuedFor(form).length) { showFormPending(form); }
    form.addEventListener("submit", function (ev) {
      if (ev.defaultPrevented || !OUTBOX || !window.fetch || form.getAttribute("data-offline-posting") === "1") {
        return;
      }
      ev.preventDefault();
      if (form.getAttribute("data-offline-busy") === "1") { return; }  // a double tap while checking
      form.setAttribute("data-offline-busy", "1");
      var item = offlineItem(form);
      reachable().then(function (ok) {
        form.removeAttribute("data-offline-busy");
        if (ok) {
          form.setAttribute("data-offline-posting", "1");
          form.submit();  // the ordinary post: the server's page and message follow
          return;
        }
        LMS.outbox.enqueue(item);
        showFormPending(form);
      });
    });
  }
  // The course page's lesson list: a lesson completed offline reads "已学完（待上传）" until it is sent.
  function markQueuedLessons(sentKey) {
    var pending = {};
    (OUTBOX ? readQueue(OUTBOX) : []).forEach(function (x) { if (x.kind === "lesson") { pending[x.key] = true; } });
    document.querySelectorAll("a.lesson-link").forEach(function (link) {
      var match = /^\/courses\/([^/]+)\/lessons\/([^/?#]+)$/.exec(link.getAttribute("href") || "");
      var badge = link.parentNode.querySelector(".badge");
      if (!match || !badge) { return; }
      var key = decodeURIComponent(match[1]) + "/" + decodeURIComponent(match[2]);
      var queued = Boolean(pending[key]);
      if (queued && !badge.hasAttribute("data-was")) {
        badge.setAttribute("data-was", badge.textContent);
        badge.setAttribute("data-was-class", badge.className);
        badge.className = "badge text-bg-warning";
        badge.textContent = "已学完（待上传）";
      } else if (!queued && badge.hasAttribute("data-was")) {
        // Sent and recorded: the server has it now; refused: what the page said when it was drawn.
        badge.className = key === sentKey ? "badge text-bg-success" : badge.getAttribute("data-was-class");
        badge.textContent = key === sentKey ? "✓ 已学完" : badge.getAttribute("data-was");
        badge.removeAttribute("data-was");
        badge.removeAttribute("data-was-class");
      }
    });
  }

  // A queued write was answered: the form that made it says so (on whatever page is open now).
  // (the server's answer to a repeat of the same confirmation: it was recorded by an earlier try)
  var ACCEPTED_AGAIN = {"mentoring-confirm": "already_confirmed", "mentoring-dispute": "already_disputed"};
  document.addEventListener("lms:sent", function (ev) {
    var detail = ev.detail || {};
    var item = detail.item || {};
    showPending();
    var code = detail.data && detail.data.error && detail.data.error.code;
    var accepted = detail.status >= 200 && detail.status < 300 || Boolean(code && ACCEPTED_AGAIN[item.kind] === code);
    markQueuedLessons(accepted && item.kind === "lesson" ? item.key : null);
    var shown = false;
    document.querySelectorAll("form[data-offline-api]").forEach(function (form) {
      if (form.getAttribute("data-offline-kind") !== item.kind || (form.getAttribute("data-offline-key") || "") !== item.key) {
        return;
      }
      shown = true;
      if (queuedFor(form).length) { return; }
      var box = formState(form);
      if (accepted) {
        box.className = "alert alert-success fs-5 my-2";
        box.textContent = form.getAttribute("data-offline-done") || "已上传。";
      } else {
        box.className = "alert alert-danger fs-5 my-2";
        box.textContent = "本机保存的记录没有被接受：" +
          ((detail.data && detail.data.error && detail.data.error.message) || "请联网后重新提交。");
        showForm(form, true);
        form.removeAttribute("data-offline-posting");
      }
    });
    // Sent from another page than the one that made it: say so at the top of this one.
    var main = document.getElementById("main");
    var ownPage = Array.prototype.some.call(document.querySelectorAll("form[data-api]"), function (form) {
      return form.getAttribute("data-api") === item.url;  // drills.js shows its own result
    });
    if (!shown && !ownPage && item.label && main) {
      var note = document.createElement("div");
      note.setAttribute("role", accepted ? "status" : "alert");
      note.className = "alert " + (accepted ? "alert-success" : "alert-danger");
      note.textContent = accepted ? "本机保存的“" + item.label + "”已上传。" :
        "本机保存的“" + item.label + "”没有被接受：" +
        ((detail.data && detail.data.error && detail.data.error.message) || "请打开原页面重新提交。");
      main.insertBefore(note, main.firstChild);
    }
  });

  window.LMS = {
    meta: meta,
    newId: newId,
    showPending: showPending,
    user: user,
    connection: connection,
    // A page holding live state for one of the user's keys sends it itself before logout:
    // LMS.claim("lms.quiz.<user>.<attempt>", function () { return promise; })
    claim: function (key, send) { claims[key] = send; },
    outbox: {
      // item: {id (client_id), url, method, body}; the same id is never queued twice
      enqueue: function (item) {
        if (!OUTBOX) { return; }
        var items = readQueue(OUTBOX).filter(function (x) { return x.id !== item.id; });
        items.push(item);
        writeQueue(OUTBOX, items);
        showPending();
        flush();
      },
      flush: flush,
      pending: pendingCount,
      items: function () { return OUTBOX ? readQueue(OUTBOX) : []; }
    },
    drafts: {
      get: function (name) {
        if (!DRAFTS) { return null; }
        try { return JSON.parse(localStorage.getItem(DRAFTS + name) || "null"); } catch (e) { return null; }
      },
      put: function (name, value) {
        if (!DRAFTS) { return; }
        try { localStorage.setItem(DRAFTS + name, JSON.stringify(value)); } catch (e) { /* storage full */ }
      },
      drop: function (name) { if (DRAFTS) { localStorage.removeItem(DRAFTS + name); } }
    }
  };

  function tellWorker(message) {
    if (!("serviceWorker" in navigator) || !navigator.serviceWorker.controller) { return Promise.resolve(); }
    return new Promise(function (resolve) {
      var channel = new MessageChannel();
      channel.port1.onmessage = function () { resolve(); };
      navigator.serviceWorker.controller.postMessage(message, [channel.port2]);
      setTimeout(resolve, 1500);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var on = document.documentElement.classList.contains("large-text");
    applyLarge(on);
    document.querySelectorAll('[data-action="toggle-large-text"]').forEach(function (b) {
      b.addEventListener("click", function () {
        on = !document.documentElement.classList.contains("large-text");
        applyLarge(on);
        // Signed in, the choice belongs to the account (prefs.js saves it); written to the device too, it
        // would greet the next person at the login screen of a shared tablet.
        if (user) { return; }
        try { localStorage.setItem(KEY, on ? "1" : "0"); } catch (e) { /* ignore */ }
      });
    });
    // The 管理 menu (a <details>, usable without script): closes on a click elsewhere and on Escape.
    var manage = document.querySelector("[data-nav-manage]");
    if (manage) {
      document.addEventListener("click", function (event) {
        if (manage.open && !manage.contains(event.target)) { manage.open = false; }
      });
      manage.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && manage.open) {
          manage.open = false;
          manage.querySelector("summary").focus();
        }
      });
    }
    // The phone menu (navbar toggler): Bootstrap's collapse class and ARIA state, without its 80 KB script.
    document.querySelectorAll('[data-bs-toggle="collapse"][data-bs-target]').forEach(function (button) {
      var target = document.querySelector(button.getAttribute("data-bs-target"));
      if (!target) { return; }
      function setOpen(open) {
        target.classList.toggle("show", open);
        button.classList.toggle("collapsed", !open);
        button.setAttribute("aria-expanded", open ? "true" : "false");
      }
      setOpen(target.classList.contains("show"));
      button.addEventListener("click", function () { setOpen(!target.classList.contains("show")); });
      target.addEventListener("keydown", function (ev) {
        if (ev.key === "Escape" && target.classList.contains("show")) { setOpen(false); button.focus(); }
      });
    });
    document.querySelectorAll("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (ev) {
        if (!window.confirm(f.getAttribute("data-confirm"))) { ev.preventDefault(); }
      });
    });
    // Logout on a shared tablet: try to send what is queued, ask before discarding, clear personal caches.
    document.querySelectorAll("form[data-logout]").forEach(function (f) {
      f.addEventListener("submit", function (ev) {
        if (f.dataset.ready === "1") { return; }
        ev.preventDefault();
        sendEverything().then(function () {
          var left = pendingCount();
          var answers = unsyncedAnswers();
          var drafts = draftKeys().length;
          var unsent = [];
          if (left) { unsent.push(left + " 条记录尚未提交到服务器（可能因为没有网络）"); }
          if (answers) { unsent.push(answers + " 道测验题的答案尚未保存到服务器"); }
          if (drafts) { unsent.push(drafts + " 份填写中的草稿"); }
          if (unsent.length && !window.confirm("还有 " + unsent.join("，") + "。退出会丢弃这些内容，确定退出吗？")) {
            return;
          }
          // Nothing of this user stays on a shared tablet: queues, quiz answers (and the papers), drafts.
          // Scripts still running on this page (a quiz's retry) stop writing first.
          document.dispatchEvent(new CustomEvent("lms:logout"));
          ownKeys("lms.pending.").concat(ownKeys("lms.quiz."), draftKeys()).forEach(function (k) {
            localStorage.removeItem(k);
          });
          tellWorker({type: "logout", pending: true}).then(function () { f.dataset.ready = "1"; f.submit(); });
        });
      });
    });
    document.querySelectorAll("form[data-offline-api]").forEach(setupOfflineForm);
    showOffline();
    showPending();
    markQueuedLessons();
    window.addEventListener("online", function () { showOffline(); probe(); flush(); });
    window.addEventListener("offline", function () { announce(false); });
    window.addEventListener("storage", showPending);  // another tab queued or sent something
    setInterval(flush, 15000);
    setInterval(showPending, 3000);  // quiz answers are kept by quizzes.js without telling this script
    flush();
    var secure = location.protocol === "https:" || location.hostname === "127.0.0.1" || location.hostname === "localhost";
    if ("serviceWorker" in navigator && secure) {
      navigator.serviceWorker.register("/sw.js", {scope: "/"}).then(function () {
        return navigator.serviceWorker.ready;
      }).then(function () {
        if (user) { tellWorker({type: "session", user: user, idleMinutes: Number(meta("lms-idle-minutes") || 15)}); }
        else if (location.pathname === "/login") { tellWorker({type: "logout"}); }
      }).catch(function () { /* the app works without it */ });
    }
  });
})();
