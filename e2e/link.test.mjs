// End-to-end: share links (CPU path). A run's link restores its form and threshold in a
// fresh browser and reproduces its AUC to four decimals, twice; a hostile link has every
// bad part named and none applied; a link opens a shipped checkpoint by name; a demo
// sensor-series run's link carries its windows and reproduces too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { serve } from './server.mjs';
import { launch, AppPage } from './app.page.mjs';

const TIMEOUT = 300_000;
let server;

before(async () => { server = await serve(process.env.DIST ?? '../dist'); });
after(async () => { await server?.close(); });

/** Opens `url` in a fresh browser profile and waits for the page to be idle. */
async function opened(url) {
  const browser = await launch({ webgpu: false });
  const app = new AppPage(await browser.context.newPage());
  const requests = [];
  app.page.on('request', (r) => requests.push(r.url()));
  await app.page.goto(url);
  await app.train.waitFor();
  await app.waitForIdle();
  return { app, browser, requests };
}

const value = (app, id) => app.page.getByTestId(id).inputValue();

test('a demo sensor-series run\'s link carries its windows and reproduces its AUC', { timeout: TIMEOUT }, async () => {
  const first = await opened(`${server.url}?blank`);
  let link; let auc;
  try {
    const { app } = first;
    await app.page.getByTestId('data').selectOption('demo-series');
    for (const [id, v] of [['window', 24], ['stride', 6], ['epochs', 3]]) {
      await app.page.getByTestId(id).fill(String(v));
      await app.page.getByTestId(id).dispatchEvent('change');
    }
    await app.train.click();
    assert.equal(await app.waitForEnd(), 'done', app.errors.join('\n'));
    auc = await app.auc.textContent();
    await app.page.getByTestId('copy-link').click();
    link = await value(app, 'share-link');
    const params = new URL(link).searchParams;
    assert.deepEqual([params.get('data'), params.get('model'), params.get('window'), params.get('stride')], ['demo-series', 'lstm-ae', '24', '6']);
  } finally {
    await first.browser.close();
  }
  const { app, browser } = await opened(link);
  try {
    await app.page.getByTestId('link-banner').waitFor();
    assert.equal(await value(app, 'window'), '24');
    assert.equal(await app.page.getByTestId('link-notes').count(), 0, 'nothing to report');
    await app.page.getByTestId('reproduce').click();
    assert.equal(await app.waitForEnd(), 'done', app.errors.join('\n'));
    assert.match(await app.page.getByTestId('model-title').textContent(), /demo sensor series · windows of 24 steps x 5 sensors/);
    assert.equal(await app.auc.textContent(), auc, 'same AUC to four decimals');
  } finally {
    await browser.close();
  }
});

test('a run\'s link restores its settings and threshold and reproduces its AUC, twice', { timeout: TIMEOUT }, async () => {
  const first = await opened(`${server.url}?blank`);
  let link; let auc;
  try {
    const { app } = first;
    await app.page.getByTestId('seed').fill('7');
    await app.page.getByTestId('seed').dispatchEvent('change');
    await app.page.getByTestId('learning-rate-schedule').selectOption('cosine');
    await app.startRun({ digit: 4, epochs: 2, model: 'conv-ae' });
    assert.equal(await app.waitForEnd(), 'done', app.errors.join('\n'));
    auc = await app.auc.textContent();
    await app.page.getByTestId('threshold-method').selectOption('percentile');
    await app.page.getByTestId('threshold-parameter').fill('90');
    await app.page.getByTestId('threshold-parameter').dispatchEvent('change');
    const threshold = await app.page.getByTestId('threshold').getAttribute('data-value');
    await app.page.getByTestId('copy-link').click();
    link = await value(app, 'share-link');
    const params = new URL(link).searchParams;
    assert.equal(params.get('model'), 'conv-ae');
    assert.equal(params.get('digit'), '4');
    assert.equal(params.get('epochs'), '2');
    assert.equal(params.get('seed'), '7');
    assert.equal(params.get('lr-schedule'), 'cosine');
    assert.equal(params.get('threshold'), 'percentile');
    assert.equal(params.get('threshold-parameter'), '90');
    assert.equal(params.has('blank'), false, 'the link is the run, not the page it was made on');
    first.threshold = threshold;
  } finally {
    await first.browser.close();
  }

  for (const attempt of [1, 2]) {
    const { app, browser } = await opened(link);
    try {
      await app.page.getByTestId('link-banner').waitFor();
      assert.equal(await app.page.getByTestId('model').inputValue(), 'conv-ae');
      assert.equal(await app.digit.inputValue(), '4');
      assert.equal(await app.epochs.inputValue(), '2');
      assert.equal(await value(app, 'seed'), '7');
      assert.equal(await app.page.getByTestId('learning-rate-schedule').inputValue(), 'cosine');
      assert.equal(await app.page.getByTestId('link-notes').count(), 0, 'nothing to report');
      await app.page.getByTestId('reproduce').click();
      assert.equal(await app.waitForEnd(), 'done', app.errors.join('\n'));
      assert.equal(await app.auc.textContent(), auc, `reproduction ${attempt}: same AUC to four decimals`);
      assert.equal(await app.page.getByTestId('threshold-method').inputValue(), 'percentile');
      assert.equal(await app.page.getByTestId('threshold-parameter').inputValue(), '90');
      assert.equal(await app.page.getByTestId('threshold').getAttribute('data-value'), first.threshold);
      if (attempt === 1) await app.screenshot('link-reproduced');
    } finally {
      await browser.close();
    }
  }
});

test('a hostile link: every bad part is named, none applied, nothing injected or fetched elsewhere', { timeout: TIMEOUT }, async () => {
  const hostile = new URLSearchParams({
    model: '<img src=x onerror="window.__pwned=1">',
    epochs: '99999',
    seed: '-1',
    digit: '12',
    'hp.latent': '0',
    foo: 'bar',
    checkpoint: '../../etc/passwd',
    threshold: 'percentile',
    'threshold-parameter': '120',
    lr: 'javascript:alert(1)',
  });
  const { app, browser, requests } = await opened(`${server.url}?blank`);
  try {
    const defaults = {};
    for (const id of ['model', 'epochs', 'seed', 'learning-rate', 'digit']) defaults[id] = await value(app, id);
    requests.length = 0;
    await app.page.goto(`${server.url}?${hostile}`);
    await app.train.waitFor();
    await app.waitForIdle();
    const notes = await app.page.getByTestId('link-notes').locator('li').allTextContents();
    for (const part of ['model=', 'epochs', 'seed', 'digit=', 'hp-latent', 'foo=', 'checkpoint=', 'threshold', 'learning-rate']) {
      assert.ok(notes.some((n) => n.includes(part)), `${part} reported in:\n${notes.join('\n')}`);
    }
    assert.equal(notes.length, 9, notes.join('\n'));
    // None applied: the form is the page's own default, and there is no run to reproduce.
    assert.equal(await app.page.getByTestId('link-banner').count(), 0, 'no Reproduce banner');
    for (const [id, expected] of Object.entries(defaults)) assert.equal(await value(app, id), expected, id);
    assert.equal(await app.page.evaluate(() => window.__pwned), undefined);
    assert.equal(await app.page.locator('img[src="x"]').count(), 0, 'no markup from the URL');
    const origin = new URL(server.url).origin;
    const elsewhere = requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:'));
    assert.deepEqual(elsewhere, []);
    assert.ok(!requests.some((u) => new URL(u).pathname.includes('passwd')), 'the checkpoint name was never fetched');
    assert.ok(notes.some((n) => n.includes('“<img src=x onerror')), 'the markup shown as quoted text');
    await app.screenshot('link-hostile');
  } finally {
    await browser.close();
  }
});

test('a link opens a shipped checkpoint by name, and names one that is not shipped', { timeout: TIMEOUT }, async () => {
  const catalog = JSON.parse(fs.readFileSync(path.join(process.env.DIST ?? '../dist', 'checkpoints', 'index.json'), 'utf8'));
  const file = catalog.entries.find((e) => /aae-digit0/.test(e.file))?.file ?? catalog.entries[0].file;
  {
    const { app, browser } = await opened(`${server.url}?checkpoint=${file}&threshold=max-normal`);
    try {
      await app.page.getByTestId('model-title').waitFor();
      assert.match(await app.page.getByTestId('model-title').textContent(), new RegExp(file.replace('.', '\\.')));
      assert.equal(await app.page.getByTestId('threshold-method').inputValue(), 'max-normal');
      await app.page.getByTestId('copy-link').click();
      assert.equal(new URL(await value(app, 'share-link')).searchParams.get('checkpoint'), file);
    } finally {
      await browser.close();
    }
  }
  const { app, browser } = await opened(`${server.url}?checkpoint=not-shipped.kizu`);
  try {
    await app.page.getByTestId('model-title').waitFor();
    assert.match(await app.page.getByTestId('link-notes').textContent(), /“not-shipped\.kizu”, which this page does not ship/);
  } finally {
    await browser.close();
  }
});
