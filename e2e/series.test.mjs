// End-to-end: sensor series in headless Chromium (CPU path): the demo series trains the
// LSTM autoencoder and shows each sensor with its reconstruction, the window scores over
// time against a threshold that moves, the error heat map, the histogram and the ROC; its
// checkpoint reopens in a fresh page with the same AUC; the shipped demo-series model opens
// in one click; a user's CSV trains, and a broken one is reported by row and column while
// the series loaded before stays.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serve } from './server.mjs';
import { launch, AppPage, ARTIFACTS } from './app.page.mjs';

const TIMEOUT = 420_000;
let server;

before(async () => { server = await serve(process.env.DIST ?? '../dist'); });
after(async () => { await server?.close(); });

async function withApp(body) {
  const browser = await launch({ webgpu: false });
  try {
    const app = new AppPage(await browser.context.newPage());
    await app.open(server.url);
    await body(app, browser);
  } finally {
    await browser.close();
  }
}

const title = (app) => app.page.getByTestId('model-title').textContent();
const flaggedCount = async (app) => Number((await app.page.getByTestId('series-flagged').textContent()).split(' ')[0]);

/** Sets a typed field of the training form. */
async function fill(app, field, value) {
  const input = app.page.getByTestId(field);
  await input.fill(String(value));
  await input.dispatchEvent('change');
}

/**
 * A labelled CSV of two sensors, `temp` and `flow` (flow following a slower sine), one row
 * a minute: seeded noise, and in the second half a spike and a level shift labelled 1.
 */
function sensorCsv(steps = 1600) {
  let seed = 7;
  const noise = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 - 0.5; };
  const rows = ['timestamp,temp,flow,label'];
  for (let t = 0; t < steps; t += 1) {
    let temp = 20 + 3 * Math.sin(t / 24) + 0.3 * noise();
    let flow = 100 + 10 * Math.sin(t / 60) + 1.5 * Math.sin(t / 9) + 0.8 * noise();
    const spike = t >= 1100 && t < 1103;
    const shift = t >= 1300 && t < 1340;
    if (spike) temp += 15;
    if (shift) flow += 30;
    const time = `2024-01-01T${String(Math.floor(t / 60) % 24).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
    rows.push(`${time},${temp.toFixed(3)},${flow.toFixed(3)},${spike || shift ? 1 : 0}`);
  }
  return rows.join('\n') + '\n';
}

test('the demo sensor series trains the LSTM autoencoder and shows when and in which sensor windows went wrong', { timeout: TIMEOUT }, async () => {
  await withApp(async (app, browser) => {
    await app.page.getByTestId('data').selectOption('demo-series');
    // The form takes the series recipe: the LSTM autoencoder on windows of 32 steps.
    assert.equal(await app.page.getByTestId('model').inputValue(), 'lstm-ae');
    assert.equal(await app.page.getByTestId('window').inputValue(), '32');
    assert.ok(await app.page.getByTestId('window').isVisible());
    assert.ok(!(await app.page.getByTestId('data-size').isVisible()), 'digit settings hidden');
    // Another model is refused beside its field.
    await app.page.getByTestId('model').selectOption('ganomaly');
    await app.page.getByTestId('field-error-model').waitFor();
    assert.match(await app.page.getByTestId('field-error-model').textContent(), /LSTM autoencoder/);
    await app.page.getByTestId('model').selectOption('lstm-ae');
    await fill(app, 'epochs', 8);
    await app.train.click();
    assert.equal(await app.waitForEnd(), 'done', app.errors.join('\n'));
    assert.match(await title(app), /LSTM autoencoder · trained here · demo sensor series · windows of 32 steps x 5 sensors/);
    const auc = Number(await app.auc.textContent());
    assert.ok(auc > 0.7, `window AUC ${auc} after 8 epochs`);
    assert.match(await app.page.locator('p.metrics', { hasText: 'test windows' }).textContent(), /on 743 test windows/);
    assert.match(await app.page.getByTestId('throughput').textContent(), /windows\/s/);
    assert.match(await app.page.getByTestId('confusion').textContent(), /of \d+ normal windows/);
    // Every view drawn: the sensor with its reconstruction, the scores over time, the heat map.
    for (const id of ['series-chart', 'series-scores', 'series-heatmap']) {
      const colours = await app.distinctColours(app.page.getByTestId(id));
      assert.ok(colours > 3, `${id}: ${colours} colours`);
    }
    assert.deepEqual(await app.page.getByTestId('series-sensor').locator('option').allTextContents(),
      ['temperature', 'pressure', 'vibration', 'flow', 'current']);
    const heat = await app.page.getByTestId('series-heatmap').evaluate((c) => [c.width, c.height]);
    assert.deepEqual(heat, [3000, 5], 'one column per test step, one row per sensor');
    assert.equal(await app.page.getByTestId('sample').count(), 0, 'no image samples for a series');
    // The threshold moves the flagged windows; the histogram's End key puts it past every score.
    const before = await flaggedCount(app);
    assert.ok(before > 0, `${before} flagged at the model's own threshold`);
    await app.histogram.focus();
    await app.page.keyboard.press('End');
    await app.page.waitForFunction((n) => Number(document.querySelector('[data-testid="series-flagged"]').textContent.split(' ')[0]) !== n, before);
    assert.ok(await flaggedCount(app) < before);
    await app.page.keyboard.press('Home');
    await app.page.waitForFunction(() => Number(document.querySelector('[data-testid="series-flagged"]').textContent.split(' ')[0]) > 700);
    await app.page.getByTestId('threshold-method').selectOption('own');
    await app.page.getByTestId('series-sensor').selectOption({ label: 'flow' });
    await app.screenshot('series-demo');
    await app.page.getByTestId('series-views').screenshot({ path: path.join(ARTIFACTS, 'series-views.png') });

    // Kept in this browser: after a reload it reopens with its series views.
    const kept = app.page.getByTestId('kept-model');
    await kept.first().waitFor({ timeout: TIMEOUT });
    assert.match(await kept.first().textContent(), /LSTM autoencoder · demo sensor series · AUC/);
    await app.page.reload();
    await app.train.waitFor();
    await app.waitForIdle();
    await kept.first().getByTestId('kept-open').click();
    await app.page.getByTestId('series-views').waitFor({ timeout: TIMEOUT });
    assert.match(await title(app), /kept in this browser/);
    assert.equal(await app.auc.textContent(), auc.toFixed(4));

    // Its checkpoint reopens in a fresh page, evaluated on the same demo series.
    const [download] = await Promise.all([
      app.page.waitForEvent('download'),
      app.page.getByTestId('export').click(),
    ]);
    assert.equal(download.suggestedFilename(), 'lstm-ae-demo-series.kizu');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kizu-series-')), 'series.kizu');
    await download.saveAs(file);
    const other = new AppPage(await browser.context.newPage());
    await other.open(server.url);
    await other.page.getByTestId('import').setInputFiles(file);
    await other.page.getByTestId('series-views').waitFor({ timeout: TIMEOUT });
    assert.equal(await other.waitForIdle(), 'done', other.errors.join('\n'));
    assert.match(await title(other), /from your file series\.kizu · demo sensor series/);
    assert.equal(await other.auc.textContent(), auc.toFixed(4));
  });
});

test('the shipped demo-series model opens in one click with its views and its catalogued AUC', { timeout: TIMEOUT }, async () => {
  await withApp(async (app) => {
    const catalog = JSON.parse(fs.readFileSync(path.join(process.env.DIST ?? '../dist', 'checkpoints', 'index.json')));
    const entry = catalog.entries.find((e) => e.file === 'lstm-ae-demo-series.kizu');
    assert.ok(entry, 'the demo series model is in the catalogue');
    await app.page.getByTestId('shipped').selectOption(entry.file);
    await app.page.getByTestId('open-shipped').click();
    await app.page.getByTestId('series-views').waitFor({ timeout: TIMEOUT });
    assert.equal(await app.waitForIdle(), 'done', app.errors.join('\n'));
    assert.match(await title(app), /LSTM autoencoder · pretrained \(lstm-ae-demo-series\.kizu\) · demo sensor series/);
    // Evaluated again in the browser: the AUC written natively, up to float rounding.
    const auc = Number(await app.auc.textContent());
    assert.ok(Math.abs(auc - entry.auc) < 0.002, `${auc} against ${entry.auc}`);
    assert.ok(await app.distinctColours(app.page.getByTestId('series-chart')) > 3);
  });
});

test('a CSV of your own sensors trains; a broken CSV is named by row and column and the series before stays', { timeout: TIMEOUT }, async () => {
  await withApp(async (app) => {
    const picker = app.page.getByTestId('series-picker');
    await picker.setInputFiles({ name: 'plant.csv', mimeType: 'text/csv', buffer: Buffer.from(sensorCsv()) });
    await app.page.getByTestId('series-loaded').waitFor({ timeout: TIMEOUT });
    assert.match(await app.page.getByTestId('series-loaded').textContent(), /plant\.csv: 1600 steps of 2 sensors \(temp, flow\) · 43 steps labelled anomalous/);

    await picker.setInputFiles({ name: 'broken.csv', mimeType: 'text/csv', buffer: Buffer.from('timestamp,temp,flow\n1,20.5,100\n2,abc,101\n') });
    await app.page.waitForFunction(() => (document.querySelector('[data-testid="status"]')?.textContent ?? '').startsWith('failed'));
    assert.match(await app.status.textContent(), /failed: broken\.csv: row 3, column 'temp': 'abc' is not a number/);
    const gap = 'timestamp,temp,flow\n1,20.5,100\n2,,101\n3,21,102\n';
    await picker.setInputFiles({ name: 'gap.csv', mimeType: 'text/csv', buffer: Buffer.from(gap) });
    await app.page.waitForFunction(() => /gap\.csv/.test(document.querySelector('[data-testid="status"]')?.textContent ?? ''));
    assert.match(await app.status.textContent(), /failed: gap\.csv: row 3, column 'temp'/);
    assert.match(await app.page.getByTestId('series-loaded').textContent(), /plant\.csv/, 'the loaded series stays');
    await app.screenshot('series-broken-csv');

    await app.page.getByTestId('data').selectOption('series');
    await fill(app, 'window', 24);
    await fill(app, 'stride', 4);
    await fill(app, 'epochs', 6);
    await app.train.click();
    assert.equal(await app.waitForEnd(), 'done', app.errors.join('\n'));
    assert.match(await title(app), /trained here · your sensor series · windows of 24 steps x 2 sensors/);
    const auc = Number(await app.auc.textContent());
    assert.ok(auc > 0.6, `window AUC ${auc} on the spike and the level shift`);
    assert.deepEqual(await app.page.getByTestId('series-sensor').locator('option').allTextContents(), ['temp', 'flow']);
    assert.ok(await app.distinctColours(app.page.getByTestId('series-heatmap')) > 3);
    await app.screenshot('series-csv');

    // A missing cell can be filled instead of refusing the file.
    await app.page.getByTestId('series-missing').selectOption('fill');
    await picker.setInputFiles({ name: 'gap.csv', mimeType: 'text/csv', buffer: Buffer.from(gap) });
    await app.page.waitForFunction(() => /gap\.csv/.test(document.querySelector('[data-testid="series-loaded"]')?.textContent ?? ''));
    assert.match(await app.page.getByTestId('series-loaded').textContent(), /3 steps of 2 sensors.*1 cells filled/);
  });
});
