/* 网格学堂 service worker.
 * - App shell (CSS, JS, icons, the offline page) cache-first, versioned by the server.
 * - Pages a feature marks offline-capable (header X-LMS-Offline: page) are kept in a cache of the
 *   signed-in user only, and served offline only while that user's session marker is live.
 * - Logout, or another user signing in on the shared tablet, deletes every personal cache.
 * - A logout the server did not receive (no connection) is finished before anything else reaches the
 *   server: until then the next person on the tablet would be let in under the old session's cookie.
 * - Never caches a request with a method other than GET, and never answers a write (a logout aside) except
 *   with a Chinese "not sent" page when a form's post cannot reach the server.
 */
"use strict";
const VERSION = "__VERSION__";
const SHELL = __SHELL__;
const SHELL_CACHE = "lms-shell-" + VERSION;
const META_CACHE = "lms-meta";
const MARKER_URL = "/__lms/session-marker";
const PAGE_PREFIX = "lms-pages-";
const PENDING_LOGOUT_URL = "/__lms/pending-logout";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("lms-shell-") && name !== SHELL_CACHE) { await caches.delete(name); }
    }
    await self.clients.claim();
  })());
});

async function readMarker() {
  const cache = await caches.open(META_CACHE);
  const response = await cache.match(MARKER_URL);
  return response ? response.json() : null;
}

async function writeMarker(marker) {
  const cache = await caches.open(META_CACHE);
  await cache.put(MARKER_URL, new Response(JSON.stringify(marker), {headers: {"Content-Type": "application/json"}}));
}

async function dropPersonalCaches(exceptUser) {
  for (const name of await caches.keys()) {
    if (name.startsWith(PAGE_PREFIX) && name !== PAGE_PREFIX + exceptUser) { await caches.delete(name); }
  }
}

async function liveMarker() {
  const marker = await readMarker();
  return marker && marker.expires > Date.now() ? marker : null;
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  const reply = () => { if (event.ports && event.ports[0]) { event.ports[0].postMessage({ok: true}); } };
  if (data.type === "session" && data.user) {
    event.waitUntil((async () => {
      await dropPersonalCaches(String(data.user));
      await writeMarker({user: String(data.user), idleMs: data.idleMinutes * 60000,
                         expires: Date.now() + data.idleMinutes * 60000});
      reply();
    })());
  } else if (data.type === "logout") {
    event.waitUntil((async () => {
      const meta = await caches.open(META_CACHE);
      await meta.delete(MARKER_URL);
      // Cleared again once the server has ended the session (the logout POST, or settleLogout).
      if (data.pending) { await meta.put(PENDING_LOGOUT_URL, new Response("1")); }
      await dropPersonalCaches(null);
      reply();
    })());
  }
});

async function fromNetworkKeeping(request, marker) {
  const response = await fetch(request);
  if (marker && response.ok && response.headers.get("X-LMS-Offline") === "page") {
    const copy = response.clone();
    caches.open(PAGE_PREFIX + marker.user).then((cache) => cache.put(request, copy));
  }
  return response;
}

async function offlineAnswer(request) {
  const marker = await liveMarker();
  if (marker) {
    const cached = await (await caches.open(PAGE_PREFIX + marker.user)).match(request);
    if (cached) {
      // Reading offline is activity: keep the marker alive like the server would a session.
      marker.expires = Date.now() + marker.idleMs;
      await writeMarker(marker);
      return cached;
    }
  }
  if (request.mode === "navigate") { return (await caches.match("/offline")) || Response.error(); }
  return Response.error();
}

async function logoutPending() {
  return Boolean(await (await caches.open(META_CACHE)).match(PENDING_LOGOUT_URL));
}

async function clearPendingLogout() {
  await (await caches.open(META_CACHE)).delete(PENDING_LOGOUT_URL);
}

// Ends the session the tablet's cookie still holds: reads a page for its CSRF token and posts the logout form.
// True when no session is left (ended now, or already ended by the server's timeouts); false without a network.
async function settleLogout() {
  try {
    const page = await (await fetch("/login", {credentials: "same-origin", redirect: "follow"})).text();
    const user = /<meta name="lms-user" content="[^"]*">/.test(page);
    const token = (page.match(/<meta name="csrf-token" content="([^"]*)">/) || [])[1];
    if (user && token) {
      const body = new URLSearchParams({csrf_token: token});
      await fetch("/logout", {method: "POST", body: body, credentials: "same-origin", redirect: "manual"});
    }
    await clearPendingLogout();
    return true;
  } catch (error) {
    return false;
  }
}

const LOGGED_OUT_OFFLINE = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>已在本机退出 · 网格学堂</title></head>
<body style="font-family: sans-serif; font-size: 1.25rem; line-height: 1.7; margin: 2rem; color: #1b1b1b">
<h1 style="font-size: 1.6rem">已在本机退出登录</h1>
<p>当前没有网络。本机保存的个人页面和记录已经清除；网络恢复后，服务器上的登录会话会在下次打开网格学堂时自动结束，下一位使用者需要重新登录。</p>
<p><a href="/login">返回登录页</a></p></body></html>`;

async function logoutThroughWorker(request) {
  try {
    const response = await fetch(request);
    await clearPendingLogout();
    return response;
  } catch (error) {
    return new Response(LOGGED_OUT_OFFLINE, {headers: {"Content-Type": "text/html; charset=utf-8"}});
  }
}

const NOT_SENT = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>没有提交成功 · 网格学堂</title></head>
<body style="font-family: sans-serif; font-size: 1.25rem; line-height: 1.7; margin: 2rem; color: #1b1b1b">
<h1 style="font-size: 1.6rem">没有提交成功：没有连上服务器</h1>
<p>刚才填写的内容没有发出，服务器上没有记录。请回到刚才的页面，等网络恢复后再提交一次；同一份内容重复提交不会重复记录。</p>
<p><a href="__BACK__">返回刚才的页面</a></p></body></html>`;

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})[c]);
}

// A form posted while the server is unreachable: a Chinese page with the way back, never the browser's error.
async function postThroughWorker(request) {
  try {
    return await fetch(request);
  } catch (error) {
    let back = "/";
    try {
      const referrer = new URL(request.referrer);
      if (referrer.origin === self.location.origin) { back = referrer.pathname + referrer.search; }
    } catch (ignored) { /* no referrer */ }
    return new Response(NOT_SENT.replace("__BACK__", escapeHtml(back)),
                        {status: 503, headers: {"Content-Type": "text/html; charset=utf-8"}});
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname === "/sw.js") { return; }
  // The connection probe (app.js) asks the network itself, without a cookie: answering it here could only turn
  // "no network" into a synthetic error, and it carries no session a pending logout would have to end first.
  if (url.pathname === "/healthz") { return; }
  if (request.method === "POST" && url.pathname === "/logout") {
    event.respondWith(logoutThroughWorker(request));
    return;
  }
  if (request.method === "POST" && request.mode === "navigate") {
    event.respondWith(postThroughWorker(request));
    return;
  }
  if (request.method !== "GET") { return; }
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request).then((response) => {
      if (response.ok && url.searchParams.has("v")) {
        const copy = response.clone();
        caches.open(SHELL_CACHE).then((cache) => cache.put(request, copy));
      }
      return response;
    })));
    return;
  }
  event.respondWith((async () => {
    if (await logoutPending() && !(await settleLogout())) { return offlineAnswer(request); }
    if (url.pathname.startsWith("/api/") && !url.pathname.startsWith("/api/v1/courses/")) { return fetch(request); }
    const marker = await liveMarker();
    try {
      return await fromNetworkKeeping(request, marker);
    } catch (error) {
      return offlineAnswer(request);
    }
  })());
});
