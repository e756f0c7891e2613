// Kizu's service worker: after the first visit the app, the bundled digits and the shipped
// checkpoints load with the network off. `scripts/service-worker.sh` (a Trunk post_build
// hook) writes VERSION and FILES above this text: every file of the build, and a version
// that changes with any of them, so each build has a cache of its own and a page is never
// served with another version's worker.
/* global VERSION, FILES, INTEGRITY */
const CACHE = `kizu-${VERSION}`;
// The WebGPU worker is most of the download and only some visitors need it: it is cached
// when a page first fetches it, not ahead.
const LAZY = /^worker-webgpu/;
const PRECACHE = ['./', ...FILES.filter((f) => !LAZY.test(f))];

// Each file from the server, never the HTTP cache, and only as this build wrote it: a file
// of another version (a deploy half done, a stale copy) fails the install, which the next
// visit tries again, so a page never runs with another version's worker or data.
const fresh = (file) => new Request(file, { cache: 'reload', integrity: INTEGRITY[file] ?? '' });

// Whether a response is the file this build wrote (what the precache's integrity checks, for
// a file cached when first used): one of another version is served, never kept.
async function asBuilt(path, response) {
  if (!INTEGRITY[path]) return false;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await response.arrayBuffer()));
  return `sha256-${btoa(String.fromCharCode(...digest))}` === INTEGRITY[path];
}

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE.map(fresh))));
});

self.addEventListener('activate', (event) => {
  // The previous version's files go once this version serves.
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('kizu-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// The page asks a waiting version to take over when the user chooses to reload.
self.addEventListener('message', (event) => {
  if (event.data === 'kizu-activate') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  const path = url.pathname.slice(new URL(self.registration.scope).pathname.length);
  const navigation = request.mode === 'navigate';
  if (!navigation && !FILES.includes(path)) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    // A page's address carries links' settings: any query opens the same page.
    const hit = await cache.match(navigation ? './' : request, { ignoreSearch: navigation });
    if (hit) return hit;
    const response = await fetch(request);
    if (response.ok && LAZY.test(path) && await asBuilt(path, response.clone())) {
      await cache.put(request, response.clone());
    }
    return response;
  })());
});
