// End-to-end: the offline kiosk's first need. After one visit, with the network cut
// (Playwright's context.setOffline), the page reloads, trains on the bundled digits and
// opens a shipped checkpoint, all from the service worker's cache; a file of another
// version (a deploy half done) is never cached, and the page says whether it works offline.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { serve } from './server.mjs';
import { launch, AppPage } from './app.page.mjs';

const TIMEOUT = 300_000;
const DIST = process.env.DIST ?? '../dist';
let server;

before(async () => { server = await serve(DIST); });
after(async () => { await server?.close(); });

/**
 * Runs `body` against a server mid-deploy: `anotherVersion(file)` serves the file changed (as
 * another build would have it), `deployed()` serves the build again.
 */
async function midDeploy({ webgpu }, body) {
  const overrides = new Map();
  const deploying = await serve(DIST, { overrides });
  const browser = await launch({ webgpu });
  try {
    const anotherVersion = (file) => overrides.set(`/${file}`,
      Buffer.concat([fs.readFileSync(path.join(DIST, file)), Buffer.from('\n// another version\n')]));
    const app = new AppPage(await browser.context.newPage());
    await body({ app, browser, url: deploying.url, anotherVersion, deployed: () => overrides.clear() });
  } finally {
    await browser.close();
    await deploying.close();
  }
}

/** Waits for the page to say whether it works offline: 'ready', 'failed', ... */
const offlineState = (app, state) => app.page.waitForFunction(
  (s) => document.querySelector('[data-testid="offline-state"]')?.dataset.state === s, state, { timeout: TIMEOUT });

test('after one visit the app reloads, trains and opens a checkpoint with the network off', { timeout: TIMEOUT }, async () => {
  const browser = await launch({ webgpu: false });
  try {
    const app = new AppPage(await browser.context.newPage());
    await app.open(server.url);
    // Installed (every file but the WebGPU worker cached) and serving this page.
    await app.page.evaluate(() => navigator.serviceWorker.ready);
    await offlineState(app, 'ready');
    assert.match(await app.page.getByTestId('offline-state').textContent(), /Works offline/);
    await app.page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    const cached = await app.page.evaluate(async () => {
      const keys = await caches.keys();
      const cache = await caches.open(keys.find((k) => k.startsWith('kizu-')));
      return (await cache.keys()).map((r) => new URL(r.url).pathname);
    });
    assert.ok(cached.some((p) => p.endsWith('.kizu')), 'checkpoints cached');
    assert.ok(cached.some((p) => p.includes('/data/')), 'the bundled digits cached');
    assert.ok(!cached.some((p) => p.includes('worker-webgpu')), 'the WebGPU worker is not fetched ahead');

    await browser.context.setOffline(true);
    // A file the build does not have goes to the network, which is gone.
    assert.equal(await app.page.evaluate(() => fetch('./not-in-the-build.txt').then(() => 'online', () => 'offline')), 'offline');
    await app.page.reload();
    await app.train.waitFor();
    await app.waitForIdle();
    await app.startRun({ digit: 6, epochs: 1 });
    assert.equal(await app.waitForEnd(), 'done', app.errors.join('\n'));
    assert.ok(Number(await app.auc.textContent()) > 0.5);
    await app.page.getByTestId('shipped').selectOption('ganomaly-overlay.kizu');
    await app.page.getByTestId('open-shipped').click();
    await app.page.waitForFunction(() => /ganomaly-overlay/.test(document.querySelector('[data-testid="model-title"]')?.textContent ?? ''), null, { timeout: TIMEOUT });
    assert.equal(await app.page.getByTestId('update-ready').count(), 0, 'one version: nothing to update');
    await app.screenshot('offline');
  } finally {
    await browser.close();
  }
});

test('a file that is not as this version has it (a deploy half done) is not cached; the next visit saves the app', { timeout: TIMEOUT }, async () => {
  await midDeploy({ webgpu: false }, async ({ app, browser, url, anotherVersion, deployed }) => {
    // The CPU worker's script of another version: the precache checks each file's SHA-256.
    anotherVersion('worker.js');
    await app.open(url);
    await offlineState(app, 'failed');
    assert.match(await app.page.getByTestId('offline-state').textContent(), /Not saved for offline use/);
    const cached = await app.page.evaluate(async () => {
      const counts = await Promise.all((await caches.keys()).map(async (k) => (await (await caches.open(k)).keys()).length));
      return counts.reduce((a, b) => a + b, 0);
    });
    assert.equal(cached, 0, 'nothing cached from the failed install');
    await app.screenshot('offline-failed');

    // The deploy done: the next visit saves this version, which then opens offline.
    deployed();
    await app.page.reload();
    await app.waitForIdle();
    await offlineState(app, 'ready');
    await browser.context.setOffline(true);
    await app.page.reload();
    await app.waitForIdle();
    await offlineState(app, 'ready');
    assert.deepEqual(app.errors.filter((e) => !/ERR_INTERNET_DISCONNECTED/.test(e)), []);
  });
});

test('the WebGPU worker is cached when a page first uses it, and only as this version has it', { timeout: TIMEOUT }, async () => {
  await midDeploy({ webgpu: true }, async ({ app, url, anotherVersion, deployed }) => {
    await app.open(url);
    await offlineState(app, 'ready');
    const cached = () => app.page.evaluate(async () => {
      const cache = await caches.open((await caches.keys()).find((k) => k.startsWith('kizu-')));
      return (await cache.keys()).map((r) => new URL(r.url).pathname.split('/').pop())
        .filter((name) => name.startsWith('worker-webgpu')).sort();
    });
    assert.deepEqual(await cached(), [], 'not fetched ahead');

    // The server has another version's script: the page runs with it, the cache keeps it not.
    anotherVersion('worker-webgpu.js');
    await app.open(url, '?backend=webgpu');
    assert.deepEqual(await cached(), ['worker-webgpu_bg.wasm']);

    deployed();
    await app.page.reload();
    await app.waitForIdle();
    assert.deepEqual(await cached(), ['worker-webgpu.js', 'worker-webgpu_bg.wasm']);
  });
});

test('kiosk mode: one model, no settings, a big verdict and heat map for each image, offline too', { timeout: TIMEOUT }, async () => {
  const browser = await launch({ webgpu: false });
  try {
    const app = new AppPage(await browser.context.newPage());
    await app.page.goto(`${server.url}?kiosk&checkpoint=conv-ae-digit0.kizu`);
    const model = app.page.getByTestId('kiosk-model');
    await app.page.waitForFunction(() => /conv-ae-digit0\.kizu/.test(document.querySelector('[data-testid="kiosk-model"]')?.textContent ?? ''), null, { timeout: TIMEOUT });
    assert.match(await model.textContent(), /Conv autoencoder.*digit 0 held out/);
    for (const hidden of ['train', 'histogram', 'shipped', 'copy-link', 'force-cpu']) {
      assert.equal(await app.page.getByTestId(hidden).count(), 0, `${hidden} is not in kiosk mode`);
    }
    const check = async (file) => {
      await app.page.getByTestId('kiosk-file').setInputFiles([file]);
      await app.page.waitForFunction((name) => (document.querySelector('[data-testid="kiosk-verdict"] .verdict-detail')?.textContent ?? '').startsWith(name), file.name, { timeout: TIMEOUT });
      const verdict = app.page.getByTestId('kiosk-verdict');
      const score = Number(await verdict.getAttribute('data-score'));
      const threshold = Number(await verdict.getAttribute('data-threshold'));
      const flagged = (await verdict.getAttribute('data-flagged')) === 'true';
      assert.equal(flagged, score > threshold, `${file.name}: ${score} against ${threshold}`);
      assert.match(await verdict.locator('.verdict-word').textContent(), flagged ? /FLAG/ : /PASS/);
      assert.ok(await app.distinctColours(app.page.getByTestId('kiosk-heat')) > 2, 'the heat map over the image is drawn');
      return { score, flagged };
    };
    const [plain, stripe] = await app.pngs([
      { name: 'plain.png', size: 28, shade: 230 },
      { name: 'stripe.png', size: 28, shade: 230, defect: true },
    ]);
    const first = (await check(plain)).score;
    const second = (await check(stripe)).score;
    assert.notEqual(first, second, 'each image gets its own verdict');
    // Real digits at the model's kept threshold: most held-out 0s are flagged and most
    // other digits pass (at the sources' max of normal, 1 of these ten 0s was).
    const flagged = async (files) => {
      let n = 0;
      for (const file of files) n += (await check(file)).flagged ? 1 : 0;
      return n;
    };
    const zeros = await flagged(await app.digitPngs([0], 10));
    const others = await flagged(await app.digitPngs([1, 2, 3, 4, 5, 6, 7, 8, 9], 1));
    assert.ok(zeros >= 6, `${zeros} of 10 held-out 0s flagged`);
    assert.ok(others <= 2, `${others} of 9 normal digits flagged`);
    await app.screenshot('kiosk');

    // Offline after this visit: the kiosk reloads, opens its model and checks images.
    await app.page.evaluate(() => navigator.serviceWorker.ready);
    await app.page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    await browser.context.setOffline(true);
    await app.page.reload();
    await app.page.waitForFunction(() => /conv-ae-digit0\.kizu/.test(document.querySelector('[data-testid="kiosk-model"]')?.textContent ?? ''), null, { timeout: TIMEOUT });
    assert.equal((await check(plain)).score, first, 'offline, the same verdict');
  } finally {
    await browser.close();
  }
});
