// End-to-end: the lab's data-in and keep flows in headless Chromium (CPU path): a
// pretrained model in one click, uploads with broken files, training on uploaded images,
// scoring uploads, checkpoint download and upload, a bad checkpoint refused, models kept
// over a reload, a webcam snapshot, and the browser scoring as the CLI does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { serve } from './server.mjs';
import { launch, AppPage } from './app.page.mjs';

const TIMEOUT = 300_000;
let server;

before(async () => { server = await serve(process.env.DIST ?? '../dist'); });
after(async () => { await server?.close(); });

async function withApp(body, { blank = true } = {}) {
  const browser = await launch({ webgpu: false });
  try {
    const app = new AppPage(await browser.context.newPage());
    await app.open(server.url, '', { blank });
    await body(app, browser);
  } finally {
    await browser.close();
  }
}

const title = (app) => app.page.getByTestId('model-title').textContent();

test('opening the app shows a pretrained detector and any shipped one opens in one click', { timeout: TIMEOUT }, async () => {
  await withApp(async (app) => {
    await app.page.getByTestId('model-title').waitFor({ timeout: TIMEOUT });
    assert.equal(await app.waitForIdle(), 'done', app.errors.join('\n'));
    // The best model across the ten digits (the one shipped for each), on digit 0.
    assert.match(await title(app), /pretrained \(conv-ae-digit0\.kizu\).*digit 0 held out/);
    const auc = Number(await app.auc.textContent());
    assert.ok(auc > 0.5 && auc <= 1, `AUC ${auc}`);
    assert.match(await app.page.getByTestId('intro').textContent(), /regenerates/);
    assert.equal(await app.samples.count(), 8);
    assert.ok(await app.distinctColours(app.histogram) > 3, 'histogram drawn');
    // Every file the catalogue lists (27: nine models twice, the conv AE for nine more digits).
    const catalog = JSON.parse(fs.readFileSync(path.join(process.env.DIST ?? '../dist', 'checkpoints', 'index.json')));
    assert.ok(catalog.entries.length >= 27, `${catalog.entries.length} shipped`);
    const offered = await app.page.getByTestId('shipped').locator('option').count();
    assert.equal(offered, catalog.entries.length);
    await app.screenshot('pretrained-default');

    await app.page.getByTestId('shipped').selectOption('ganomaly-overlay.kizu');
    await app.page.getByTestId('open-shipped').click();
    await app.page.waitForFunction(() => /ganomaly-overlay/.test(document.querySelector('[data-testid="model-title"]')?.textContent ?? ''), null, { timeout: TIMEOUT });
    assert.equal(await app.waitForIdle(), 'done');
    assert.match(await title(app), /GANomaly.*overlay/);
    const side = await app.page.getByTestId('sample-generated').first().evaluate((c) => c.width);
    assert.equal(side, 32);
  }, { blank: false });
});

test('bundled digits that arrive damaged are named and refused, and the next try loads them', { timeout: TIMEOUT }, async () => {
  // The offline cache would keep the damaged copy it was served.
  const browser = await launch({ webgpu: false, noServiceWorker: true });
  try {
    const images = /mnist10k-images-idx3-ubyte\.gz$/;
    const real = fs.readFileSync(path.join(process.env.DIST ?? '../dist', 'data', 'mnist10k-images-idx3-ubyte.gz'));
    // The browser inflates and hashes the bundled files itself: both checks must still hold.
    const damaged = [
      // The right gzip, cut short: the decoder refuses it.
      [real.subarray(0, real.length >> 1), /mnist10k-images-idx3-ubyte\.gz: not a valid gzip file/],
      // A valid gzip of other bytes: the digest refuses it.
      [zlib.gzipSync(Buffer.alloc(4096, 7)), /mnist10k-images-idx3-ubyte\.gz: SHA-256 mismatch/],
    ];
    for (const [body, message] of damaged) {
      await browser.context.route(images, (route) => route.fulfill({ body, contentType: 'application/gzip' }));
      const app = new AppPage(await browser.context.newPage());
      await app.open(server.url, '', { blank: false });
      assert.match(await app.waitForIdle(), message);
      // The damaged copy was dropped: with the real file back the same page opens a model.
      await browser.context.unroute(images);
      await app.page.getByTestId('open-shipped').click();
      await app.page.getByTestId('model-title').waitFor({ timeout: TIMEOUT });
      assert.equal(await app.waitForIdle(), 'done');
      assert.match(await title(app), /digit 0 held out/);
      await app.page.close();
    }
  } finally {
    await browser.close();
  }
});

test('an upload of good and broken files names each broken one and trains on the rest', { timeout: TIMEOUT }, async () => {
  await withApp(async (app) => {
    const good = await app.pngs(Array.from({ length: 30 }, (_, i) => ({ name: `good-${i}.png`, shade: 180 + i })));
    const broken = [
      { name: 'empty.png', mimeType: 'image/png', buffer: Buffer.alloc(0) },
      { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not an image at all') },
      { name: 'cut.png', mimeType: 'image/png', buffer: good[0].buffer.subarray(0, 60) },
    ];
    await app.page.getByTestId('upload-side').selectOption('32');
    await app.page.getByTestId('upload-rgb').uncheck();
    await app.page.getByTestId('upload-files').setInputFiles([...good, ...broken]);
    await app.page.getByTestId('upload-report').waitFor({ timeout: TIMEOUT });
    assert.match(await app.page.getByTestId('upload-report').textContent(), /30 images loaded \(30 good\) at 32x32x1/);
    const refused = await app.page.getByTestId('refused-file').allTextContents();
    assert.equal(refused.length, 3, refused.join('\n'));
    for (const name of ['empty.png', 'notes.png', 'cut.png']) {
      assert.ok(refused.some((line) => line.startsWith(`${name}:`)), `${name} named: ${refused}`);
    }
    await app.startRun({ data: 'images', epochs: 2 });
    assert.equal(await app.waitForEnd(), 'done', app.errors.join('\n'));
    assert.match(await title(app), /trained here · your images · 32x32x1 input/);
    // Only good images: F1 has no anomaly to fit on, and the page names the fallback.
    await app.page.getByTestId('threshold-method').selectOption('f1-max');
    assert.match(await app.page.getByTestId('threshold-note').textContent(), /best F1 needs labelled anomalies .* used max of normal instead/);
    assert.match(await app.page.getByTestId('curves-missing').textContent(), /both kinds/);
    await app.screenshot('uploaded-training');
  });
});

test('a folder in the MVTec layout trains, then new images are scored with their heat maps', { timeout: TIMEOUT }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kizu-folder-'));
  await withApp(async (app) => {
    const write = async (folder, specs) => {
      fs.mkdirSync(path.join(dir, 'parts', folder), { recursive: true });
      for (const f of await app.pngs(specs)) fs.writeFileSync(path.join(dir, 'parts', folder, f.name), f.buffer);
    };
    await write('train/good', Array.from({ length: 40 }, (_, i) => ({ name: `${i}.png`, shade: 190 + i })));
    await write('test/good', Array.from({ length: 6 }, (_, i) => ({ name: `${i}.png`, shade: 200 + i })));
    await write('test/stripe', Array.from({ length: 6 }, (_, i) => ({ name: `${i}.png`, shade: 200 + i, defect: true })));
    await app.page.getByTestId('upload-side').selectOption('32');
    await app.page.getByTestId('upload-rgb').uncheck();
    await app.page.getByTestId('upload-folder').setInputFiles(path.join(dir, 'parts'));
    await app.page.getByTestId('upload-report').waitFor({ timeout: TIMEOUT });
    const report = await app.page.getByTestId('upload-report').textContent();
    assert.match(report, /52 images loaded \(46 good\)/);
    assert.match(report, /train\/good: 40 images/);
    assert.match(report, /test\/stripe: 6 images/);
    await app.startRun({ data: 'images', epochs: 15 });
    assert.equal(await app.waitForEnd(), 'done', app.errors.join('\n'));
    const auc = Number(await app.auc.textContent());
    assert.ok(auc > 0.8, `AUC on the stripe defects ${auc}`);

    const fresh = await app.pngs([{ name: 'fresh-good.png', shade: 205 }, { name: 'fresh-stripe.png', shade: 205, defect: true }]);
    await app.page.getByTestId('score-files').setInputFiles([...fresh, { name: 'junk.png', mimeType: 'image/png', buffer: Buffer.from('junk') }]);
    const scored = app.page.getByTestId('scored').getByTestId('sample');
    await scored.nth(1).waitFor({ timeout: TIMEOUT });
    assert.equal(await scored.count(), 2);
    const captions = await scored.locator('figcaption').allTextContents();
    const score = (caption) => Number(caption.match(/score ([0-9.e-]+)/)[1]);
    assert.ok(score(captions[1]) > score(captions[0]), captions.join(' | '));
    const threshold = Number(await app.page.getByTestId('score-threshold').getAttribute('data-value'));
    for (const [i, caption] of captions.entries()) {
      const verdict = score(caption) > threshold ? 'flagged' : 'passed';
      assert.equal(await scored.nth(i).getAttribute('data-verdict'), verdict, caption);
    }
    const overlay = scored.nth(1).getByTestId('sample-overlay');
    assert.ok(await app.distinctColours(overlay) > 2, 'heat map over the input drawn');
    assert.match((await app.page.getByTestId('refused-file').allTextContents()).join('\n'), /junk\.png: /);
    await app.screenshot('scored-uploads');
  });
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a downloaded checkpoint opens in a fresh page with the same scores; a bad one is refused and the model kept', { timeout: TIMEOUT }, async () => {
  await withApp(async (app, browser) => {
    await app.startRun({ digit: 2, epochs: 1 });
    assert.equal(await app.waitForEnd(), 'done', app.errors.join('\n'));
    const auc = await app.auc.textContent();
    const captions = await app.samples.locator('figcaption').allTextContents();
    const [download] = await Promise.all([
      app.page.waitForEvent('download'),
      app.page.getByTestId('export').click(),
    ]);
    assert.equal(download.suggestedFilename(), 'conv-ae-digit2.kizu');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kizu-ckpt-')), 'model.kizu');
    await download.saveAs(file);

    const other = new AppPage(await browser.context.newPage());
    await other.open(server.url);
    await other.page.getByTestId('import').setInputFiles(file);
    await other.page.getByTestId('model-title').waitFor({ timeout: TIMEOUT });
    assert.equal(await other.waitForIdle(), 'done', other.errors.join('\n'));
    assert.match(await title(other), /from your file model\.kizu/);
    // The same test images (first 500 of the split) in the same order: the same scores.
    const reopened = await other.samples.locator('figcaption').allTextContents();
    assert.deepEqual(reopened, captions);
    assert.ok(Math.abs(Number(await other.auc.textContent()) - Number(auc)) < 0.05, 'AUC on the shown subset');

    await other.page.getByTestId('import').setInputFiles({ name: 'bad.kizu', mimeType: 'application/octet-stream', buffer: Buffer.from('this is not a checkpoint') });
    await other.page.waitForFunction(() => (document.querySelector('[data-testid="status"]')?.textContent ?? '').startsWith('failed'), null, { timeout: TIMEOUT });
    assert.match(await other.status.textContent(), /failed: bad\.kizu: not a Kizu checkpoint/);
    assert.match(await title(other), /from your file model\.kizu/, 'the model is kept');
    await other.screenshot('bad-checkpoint');
  });
});

test('trained and opened models are kept over a reload, renamed, reopened as they were and deleted', { timeout: TIMEOUT }, async () => {
  await withApp(async (app, browser) => {
    const kept = app.page.getByTestId('kept-model');
    const notice = app.page.getByTestId('storage-notice');
    await app.startRun({ digit: 1, epochs: 1 });
    assert.equal(await app.waitForEnd(), 'done', app.errors.join('\n'));
    await kept.first().waitFor({ timeout: TIMEOUT });
    assert.match(await notice.textContent(), /kept in this browser as “Conv autoencoder on digit 1 held out, seed \d+”/);
    const auc = await app.auc.textContent();
    const captions = await app.samples.locator('figcaption').allTextContents();

    await app.page.reload();
    await app.train.waitFor();
    await app.waitForIdle();
    await kept.first().waitFor({ timeout: TIMEOUT });
    assert.equal(await kept.count(), 1);
    assert.match(await kept.first().textContent(), /Conv autoencoder · digit 1 held out · AUC [0-9.]+ · [0-9.]+ MB/);

    await kept.first().getByTestId('kept-name').fill('line 7 baseline');
    await kept.first().getByTestId('kept-rename').click();
    // The notice comes once the storage has the new name; reloading earlier would race it.
    await app.page.waitForFunction(() => /renamed to “line 7 baseline”/.test(document.querySelector('[data-testid="storage-notice"]')?.textContent ?? ''), null, { timeout: TIMEOUT });
    await app.page.reload();
    await app.train.waitFor();
    await app.waitForIdle();
    await kept.first().waitFor({ timeout: TIMEOUT });
    assert.equal(await kept.first().getByTestId('kept-name').inputValue(), 'line 7 baseline');

    await kept.first().getByTestId('kept-open').click();
    await app.page.waitForFunction(() => /line 7 baseline/.test(document.querySelector('[data-testid="model-title"]')?.textContent ?? ''), null, { timeout: TIMEOUT });
    assert.equal(await app.waitForIdle(), 'done', app.errors.join('\n'));
    assert.match(await title(app), /kept in this browser \(“line 7 baseline”\).*digit 1 held out/);
    assert.equal(await app.auc.textContent(), auc, 'its results as they were');
    assert.deepEqual(await app.samples.locator('figcaption').allTextContents(), captions);
    assert.equal(await kept.count(), 1, 'reopening does not keep it twice');
    // The reopened model scores new images.
    await app.page.getByTestId('score-files').setInputFiles(await app.pngs([{ name: 'probe.png', size: 28 }]));
    await app.page.getByTestId('scored').getByTestId('sample').first().waitFor({ timeout: TIMEOUT });
    await app.screenshot('kept-reopened');

    await kept.first().getByTestId('kept-delete').click();
    await app.page.waitForFunction(() => document.querySelectorAll('[data-testid="kept-model"]').length === 0);
    await app.page.reload();
    await app.train.waitFor();
    await app.waitForIdle();
    assert.equal(await kept.count(), 0, 'deleted for good');
  });
});

test('a full storage quota is reported and the model stays open', { timeout: TIMEOUT }, async () => {
  await withApp(async (app, browser) => {
    const kept = app.page.getByTestId('kept-model');
    const notice = app.page.getByTestId('storage-notice');
    // Set before the page first writes: Chromium applies an override to later opens only.
    const cdp = await browser.context.newCDPSession(app.page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(server.url).origin, quotaSize: 1024 });
    const shipped = path.join(process.env.DIST ?? '../dist', 'checkpoints', 'fc-ae-digit0.kizu');
    await app.page.getByTestId('import').setInputFiles(shipped);
    await app.page.waitForFunction(() => /storage/.test(document.querySelector('[data-testid="storage-notice"]')?.textContent ?? ''), null, { timeout: TIMEOUT });
    assert.match(await notice.textContent(), /keeping the model failed: the browser's storage for this page is full/);
    assert.match(await title(app), /from your file fc-ae-digit0\.kizu/);
    assert.equal(await app.waitForIdle(), 'done');
    assert.equal(await kept.count(), 0);
    await app.screenshot('kept-quota-full');
  });
});

test('a webcam snapshot is checked by the open model', { timeout: TIMEOUT }, async () => {
  await withApp(async (app) => {
    await app.page.getByTestId('model-title').waitFor({ timeout: TIMEOUT });
    assert.equal(await app.waitForIdle(), 'done', app.errors.join('\n'));
    await app.page.getByTestId('camera-toggle').click();
    await app.page.waitForFunction(() => {
      const video = document.querySelector('[data-testid="camera-preview"]');
      return video && video.readyState >= 2 && video.videoWidth > 0;
    }, null, { timeout: TIMEOUT });
    await app.page.getByTestId('camera-snap').click();
    const scored = app.page.getByTestId('scored').getByTestId('sample');
    await scored.first().waitFor({ timeout: TIMEOUT });
    assert.match(await scored.first().locator('figcaption').textContent(), /camera-1\.png.*score [0-9.e-]+/);
    assert.ok(await app.distinctColours(scored.first().getByTestId('sample-input')) > 2, 'the frame is drawn');
    await app.page.getByTestId('camera-toggle').click();
    assert.ok(await app.page.getByTestId('camera-snap').isDisabled(), 'no snapshot with the camera off');
    await app.screenshot('camera-snapshot');
  }, { blank: false });
});

test('a checkpoint scores the same images the same way in the browser and in the kizu CLI', { timeout: TIMEOUT }, async () => {
  const kizu = process.env.KIZU_BIN ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(os.homedir(), '.cache/kizu/target'), 'debug', 'kizu');
  assert.ok(fs.existsSync(kizu), `no kizu CLI at ${kizu}: the README's test command builds it before these tests`);
  const dist = path.resolve(process.env.DIST ?? '../dist');
  await withApp(async (app) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kizu-same-'));
    const images = path.join(dir, 'images');
    fs.mkdirSync(images);
    const files = await app.pngs([
      { name: 'plain.png', size: 28, shade: 230 },
      { name: 'stripe.png', size: 28, shade: 230, defect: true },
      { name: 'large.png', size: 100, shade: 150 },
      { name: 'small-stripe.png', size: 20, shade: 255, defect: true },
    ]);
    for (const f of files) fs.writeFileSync(path.join(images, f.name), f.buffer);
    for (const name of ['conv-ae-digit0.kizu', 'ganomaly-overlay.kizu']) {
      const checkpoint = path.join(dist, 'checkpoints', name);
      const out = path.join(dir, `out-${name}`);
      execFileSync(kizu, ['score', '--checkpoint', checkpoint, '--images', images, '--out', out, '--backend', 'flex'], { stdio: 'pipe' });
      const cli = Object.fromEntries(fs.readFileSync(path.join(out, 'scores.csv'), 'utf8').trim().split('\n').slice(1)
        .map((line) => line.split(',')).map(([file, score]) => [file, Number(score)]));
      assert.equal(Object.keys(cli).length, files.length, JSON.stringify(cli));

      await app.page.getByTestId('import').setInputFiles(checkpoint);
      await app.page.waitForFunction((n) => (document.querySelector('[data-testid="model-title"]')?.textContent ?? '').includes(n), name, { timeout: TIMEOUT });
      assert.equal(await app.waitForIdle(), 'done', app.errors.join('\n'));
      await app.page.getByTestId('score-files').setInputFiles(files);
      const scored = app.page.getByTestId('scored').getByTestId('sample');
      await app.page.waitForFunction((n) => document.querySelectorAll('[data-testid="scored"] [data-testid="sample"]').length === n, files.length, { timeout: TIMEOUT });
      for (let i = 0; i < files.length; i++) {
        const label = await scored.nth(i).getAttribute('data-label');
        const browser = Number(await scored.nth(i).getAttribute('data-score'));
        const expected = cli[label];
        assert.ok(Number.isFinite(expected), `${label} scored by the CLI`);
        assert.ok(Math.abs(browser - expected) <= 1e-4 * Math.max(1, Math.abs(expected)), `${name} ${label}: browser ${browser}, CLI ${expected}`);
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
