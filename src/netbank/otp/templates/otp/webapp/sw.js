// The phone app's service worker (served by netbank.otp.webapp.views at /app/sw.js).
// It keeps the app shell so the app opens offline. It never touches IndexedDB: the
// vault lives there and must survive every update of the app.
const VERSION = {{ version_json|safe }};
const CACHE = "netbank-app-" + VERSION;
const ASSETS = {{ assets_json|safe }};
const SHELL = {{ shell_json|safe }};
const CONFIG = {{ config_json|safe }};

self.addEventListener("install", (event) => {
  // cache: "reload" bypasses the HTTP cache so the new version's files are cached, not stale ones.
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(ASSETS.map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((n) => n.startsWith("netbank-app-") && n !== CACHE).map((n) => caches.delete(n)),
      ))
      .then(() => self.clients.claim()),
  );
});

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request, { ignoreSearch: true });
  return hit || fetch(request);
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(CONFIG, response.clone());
    return response;
  } catch (error) {
    // The clock's measurement asks with cache "no-store": an old Date header would lie.
    if (request.cache === "no-store") throw error;
    const hit = await cache.match(CONFIG);
    if (hit) return hit;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === CONFIG) {
    event.respondWith(networkFirst(request));
  } else if (url.pathname === SHELL || ASSETS.includes(url.pathname)) {
    event.respondWith(cacheFirst(url.pathname === SHELL ? SHELL : request));
  }
  // Everything else (the API, the bank's pages) goes to the network as if no worker ran.
});
