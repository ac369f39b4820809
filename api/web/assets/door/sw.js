// sw.js: the door page's service worker (scope /door/). It keeps the page
// and its scripts in a cache so that a door device can open the page with
// no network at all; scans, keys and sync are the page's own business (it
// keeps them in localStorage), so API requests pass through untouched.
// Network first: a reachable node always serves its current build, and the
// cache is refreshed with it.

const CACHE = 'boxoffice-door-v1';
const PAGE = '/door/';
const ASSETS = [
  PAGE,
  '/static/style.css',
  '/static/js/door.js',
  '/static/js/api.js',
  '/static/js/ticketcode.js',
  '/static/js/doorstore.js',
  '/static/js/vendor/jsQR.js',
];
/** NETWORK_WAIT: on a network that hangs, the cached copy is served after this long. */
const NETWORK_WAIT = 4000;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n.startsWith('boxoffice-door-') && n !== CACHE).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  const key = url.pathname === PAGE ? PAGE : url.pathname;
  if (!ASSETS.includes(key)) return;
  event.respondWith(networkFirst(req, key));
});

/** networkFirst answers from the network (and caches it), else from the cache. */
async function networkFirst(req, key) {
  const cache = await caches.open(CACHE);
  try {
    const resp = await Promise.race([
      fetch(req), // the node marks every file no-cache: this revalidates
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), NETWORK_WAIT)),
    ]);
    if (resp.ok) await cache.put(key, resp.clone());
    return resp;
  } catch (err) {
    const hit = await cache.match(key);
    if (hit) return hit;
    throw err;
  }
}
