/* 网格学堂 service worker.
 * - App shell (CSS, JS, icons, the offline page) cache-first, versioned by the server.
 * - Pages a feature marks offline-capable (header X-LMS-Offline: page) are kept in a cache of the
 *   signed-in user only, and served offline only while that user's session marker is live.
 * - Logout, or another user signing in on the shared tablet, deletes every personal cache.
 * - Never caches a request with a method other than GET, and never answers a write.
 */
"use strict";
const VERSION = "__VERSION__";
const SHELL = __SHELL__;
const SHELL_CACHE = "lms-shell-" + VERSION;
const META_CACHE = "lms-meta";
const MARKER_URL = "/__lms/session-marker";
const PAGE_PREFIX = "lms-pages-";

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
      await (await caches.open(META_CACHE)).delete(MARKER_URL);
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

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname === "/sw.js") { return; }
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
  if (url.pathname.startsWith("/api/") && !url.pathname.startsWith("/api/v1/courses/")) { return; }
  event.respondWith((async () => {
    const marker = await liveMarker();
    try {
      return await fromNetworkKeeping(request, marker);
    } catch (error) {
      return offlineAnswer(request);
    }
  })());
});
