// End-to-end: the training controls (issue 10) in headless Chromium, CPU path: the form
// refuses out-of-range values beside their fields, presets fill it, a paused run resumes
// to one loss history and the same result as a run never paused, and a huge learning rate
// is reported as diverged with the last good weights kept.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve } from './server.mjs';
import { launch, AppPage } from './app.page.mjs';

const TIMEOUT = 300_000;
let server;

before(async () => { server = await serve(process.env.DIST ?? '../dist'); });
after(async () => { await server?.close(); });

async function withApp(body) {
  const browser = await launch({ webgpu: false });
  try {
    const app = new AppPage(await browser.context.newPage());
    await app.open(server.url, '?backend=cpu');
    await body(app);
  } finally {
    await browser.close();
  }
}

async function setField(app, id, value) {
  await app.page.getByTestId(id).fill(value);
  await app.page.getByTestId(id).dispatchEvent('change');
}

test('the form refuses out-of-range values beside their fields and presets fill it', { timeout: TIMEOUT }, async () => {
  await withApp(async (app) => {
    await setField(app, 'epochs', '0');
    await setField(app, 'learning-rate', 'fast');
    assert.match(await app.page.getByTestId('field-error-epochs').textContent(), /epochs must be from 1 to 200/);
    assert.match(await app.page.getByTestId('field-error-learning-rate').textContent(), /must be a number, not “fast”/);
    const before = await app.status.textContent();
    await app.train.click();
    assert.equal(await app.status.textContent(), before, 'nothing was sent');
    assert.equal(await app.page.getByTestId('progress').isVisible(), false);

    // "As in the source" for GANomaly on the overlay protocol: reference size, 15 epochs,
    // pseudo-anomalies, a validation share; the quick demo goes back to compact.
    await app.page.getByTestId('data').selectOption('overlay');
    await app.page.getByTestId('model').selectOption('ganomaly');
    await app.page.getByTestId('preset-source').click();
    assert.equal(await app.page.getByTestId('scale').inputValue(), 'reference');
    assert.equal(await app.epochs.inputValue(), '15');
    assert.equal(await app.page.getByTestId('pseudo-anomalies').isChecked(), true);
    assert.equal(await app.page.getByTestId('validation').inputValue(), '0.1');
    assert.equal(await app.page.getByTestId('learning-rate').inputValue(), '', 'the model\'s own rate');
    assert.equal(await app.page.getByTestId('field-error-epochs').count(), 0, 'the preset is valid');
    await app.page.getByTestId('preset-quick').click();
    assert.equal(await app.page.getByTestId('scale').inputValue(), 'compact');
    assert.equal(await app.epochs.inputValue(), '1');
    // GANomaly's own settings, with the defaults of the compact size as placeholders.
    assert.equal(await app.page.getByTestId('hp-latent').getAttribute('placeholder'), '100');
    assert.equal(await app.page.getByTestId('hp-features').getAttribute('placeholder'), '16');
    assert.equal(await app.page.getByTestId('hp-w-con').getAttribute('placeholder'), '50', 'the source\'s contextual weight');
    await setField(app, 'hp-latent', '1000');
    assert.match(await app.page.getByTestId('field-error-hp-latent').textContent(), /latent size must be from 2 to 512/);
    await setField(app, 'hp-latent', '32');
    assert.equal(await app.page.getByTestId('field-error-hp-latent').count(), 0);
    // The AAE alone has labelled anomalies.
    assert.equal(await app.page.getByTestId('labelled-anomalies').isVisible(), false);
    await app.page.getByTestId('model').selectOption('aae');
    assert.equal(await app.page.getByTestId('labelled-anomalies').isVisible(), true);
    await app.screenshot('train-form');
  });
});

test('seen vs unseen trains on every digit and shows training against held-out error', { timeout: TIMEOUT }, async () => {
  await withApp(async (app) => {
    await app.startRun({ data: 'unseen', epochs: 1, model: 'fc-ae' });
    assert.equal(await app.waitForEnd(), 'done', app.errors.join('\n'));
    assert.match(await app.page.getByTestId('model-title').textContent(), /seen vs unseen/);
    const names = await app.page.getByTestId('sample').locator('figcaption').allTextContents();
    assert.ok(names.some((n) => /\(seen\)/.test(n)) && names.some((n) => /\(unseen\)/.test(n)), names.join(' | '));
    // A validation share would hold seen images out: refused beside its field.
    await setField(app, 'validation', '0.1');
    assert.match(await app.page.getByTestId('field-error-validation').textContent(), /hold none out/);
  });
});

test('a paused run resumes to one loss history and the result of a run never paused', { timeout: TIMEOUT }, async () => {
  await withApp(async (app) => {
    await app.startRun({ digit: 5, epochs: 2, size: 'standard' });
    await app.page.waitForFunction(() => /training: epoch 1, step \d+/.test(document.querySelector('[data-testid="status"]').textContent), null, { timeout: TIMEOUT });
    assert.match(await app.status.textContent(), /step \d+\/\d+, \d+ ms\/step, about \d+ s left/, 'time per step and time left');
    await app.page.getByTestId('pause').click();
    await app.page.waitForFunction(() => /^paused after step \d+\/\d+/.test(document.querySelector('[data-testid="status"]').textContent), null, { timeout: TIMEOUT });
    const [, at, total] = (await app.status.textContent()).match(/step (\d+)\/(\d+)/).map(Number);
    assert.ok(at < total, `paused at ${at} of ${total}`);
    const steps = () => app.lossChart.getAttribute('data-steps').then(Number);
    await app.page.waitForTimeout(800);
    assert.equal(await steps(), at, 'nothing trains while paused');
    assert.equal(await app.page.getByTestId('pause').textContent(), 'Resume');
    // What the model generates so far: two normal test digits and two anomalies.
    assert.equal(await app.page.getByTestId('preview-sample').count(), 4);
    assert.ok(await app.distinctColours(app.page.getByTestId('preview-generated').first()) > 1, 'a preview is drawn');
    await app.screenshot('train-paused');
    await app.page.getByTestId('pause').click();
    assert.equal(await app.waitForEnd(), 'done', app.errors.join('\n'));
    assert.equal(await steps(), total, 'one loss history, every step once');
    const paused = await app.auc.textContent();

    await app.train.click();
    assert.equal(await app.waitForEnd(), 'done');
    assert.equal(await app.auc.textContent(), paused, 'the same AUC as the run never paused');
  });
});

test('a huge learning rate is stopped as diverged and the last good weights are kept', { timeout: TIMEOUT }, async () => {
  await withApp(async (app) => {
    await setField(app, 'learning-rate', '1000000');
    await app.startRun({ digit: 3, epochs: 1 });
    assert.equal(await app.waitForEnd(), 'done', app.errors.join('\n'));
    const warning = app.page.getByTestId('stopped-early');
    assert.equal(await warning.getAttribute('data-diverged'), 'true');
    assert.match(await warning.textContent(), /diverged and was stopped: the reconstruction loss became (NaN|inf|-inf) at step \d+.*last good weights, after step \d+/);
    const auc = Number(await app.auc.textContent());
    assert.ok(Number.isFinite(auc), `the kept weights score: AUC ${auc}`);
    assert.ok(await app.distinctColours(app.page.getByTestId('sample-generated').first()) >= 1);
    await app.screenshot('train-diverged');
  });
});
