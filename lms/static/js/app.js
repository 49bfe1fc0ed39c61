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
  function pendingCount() {
    // Every feature keeps its queue under "lms.pending.<what>.<user>…": count this user's.
    var total = 0;
    for (var i = 0; i < localStorage.length; i++) {
      var k = localStorage.key(i);
      if (user && k && k.indexOf("lms.pending.") === 0 && k.indexOf("." + user) > 0) {
        total += readQueue(k).length;
      }
    }
    return total;
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
      headers: {"Content-Type": "application/json", "X-CSRFToken": meta("csrf-token") || ""},
      body: JSON.stringify(item.body)
    }).then(function (response) {
      flushing = false;
      if (response.status === 401 || response.status === 403) { return; }  // log in again; keep it
      writeQueue(OUTBOX, readQueue(OUTBOX).filter(function (x) { return x.id !== item.id; }));
      document.dispatchEvent(new CustomEvent("lms:sent", {detail: {item: item, status: response.status}}));
      return flush();
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
      pending: pendingCount
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
          if (left && !window.confirm("还有 " + left + " 条记录尚未提交到服务器（可能因为没有网络）。退出会丢弃这些记录，确定退出吗？")) {
            return;
          }
          for (var i = localStorage.length - 1; i >= 0; i--) {
            var k = localStorage.key(i);
            if (k && k.indexOf("lms.pending.") === 0 && k.indexOf("." + user) > 0) { localStorage.removeItem(k); }
          }
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
