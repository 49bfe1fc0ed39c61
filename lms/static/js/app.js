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
  // "lms.pending.<what>.<user>" or "lms.pending.<what>.<user>.<more>": this user's key exactly
  // (user 1 must not count or clear user 12's queue).
  function ownKey(k, prefix) {
    if (!user || !k || k.indexOf(prefix) !== 0) { return false; }
    var tail = "." + user;
    return k.slice(-tail.length) === tail || k.indexOf(tail + ".", prefix.length - 1) >= 0;
  }
  function pendingCount() {
    // Every feature keeps its queue under "lms.pending.<what>.<user>…": count this user's.
    var total = 0;
    for (var i = 0; i < localStorage.length; i++) {
      var k = localStorage.key(i);
      if (ownKey(k, "lms.pending.")) { total += readQueue(k).length; }
    }
    return total;
  }
  // Drafts (forms typed but not submitted) live under "lms.draft.<user>.<name>", read only by that user.
  var DRAFTS = user ? "lms.draft." + user + "." : null;
  function draftKeys() {
    var keys = [];
    for (var i = 0; i < localStorage.length; i++) {
      var k = localStorage.key(i);
      if (DRAFTS && k && k.indexOf(DRAFTS) === 0) { keys.push(k); }
    }
    return keys;
  }
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
    }, function () { flushing = false; });
  }
  window.LMS = {
    meta: meta,
    user: user,
    outbox: {
      // item: {id (client_id), url, method, body}; the same id is never queued twice
      enqueue: function (item) {
        if (!OUTBOX) { return; }
        var items = readQueue(OUTBOX).filter(function (x) { return x.id !== item.id; });
        items.push(item);
        writeQueue(OUTBOX, items);
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

  function showOffline() {
    var banner = document.getElementById("offline-banner");
    if (banner) { banner.hidden = navigator.onLine; }
  }

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
        try { localStorage.setItem(KEY, on ? "1" : "0"); } catch (e) { /* ignore */ }
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
        flush().then(function () {
          var left = pendingCount();
          var drafts = draftKeys().length;
          var lost = [];
          if (left) { lost.push(left + " 条记录尚未提交到服务器（可能因为没有网络）"); }
          if (drafts) { lost.push(drafts + " 份填写中的草稿"); }
          if (lost.length && !window.confirm("还有 " + lost.join("，") + "。退出会丢弃这些内容，确定退出吗？")) {
            return;
          }
          for (var i = localStorage.length - 1; i >= 0; i--) {
            var k = localStorage.key(i);
            if (ownKey(k, "lms.pending.")) { localStorage.removeItem(k); }
          }
          draftKeys().forEach(function (k) { localStorage.removeItem(k); });
          tellWorker({type: "logout"}).then(function () { f.dataset.ready = "1"; f.submit(); });
        });
      });
    });
    showOffline();
    window.addEventListener("online", function () { showOffline(); flush(); });
    window.addEventListener("offline", showOffline);
    setInterval(flush, 15000);
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
