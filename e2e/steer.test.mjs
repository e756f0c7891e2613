// End-to-end: seeing and steering a model's results (issue 10) in headless Chromium, CPU
// path. Every number on the page is checked against the scores the page hands out as a
// CSV: the six threshold methods, the confusion matrix as the threshold is dragged or moved
// with the keys, the ROC AUC and average precision, the gallery's order; the latent scatter
// shows both labels' colours.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { serve } from './server.mjs';
import { launch, AppPage } from './app.page.mjs';

const TIMEOUT = 300_000;
let server;

before(async () => { server = await serve(process.env.DIST ?? '../dist'); });
after(async () => { await server?.close(); });

/** The downloaded scores: training scores and test rows `{ index, label, score }`. */
function parseScores(text) {
  const rows = text.trim().split('\n').slice(1).map((line) => {
    const cells = line.split(',');
    return { set: cells[0], index: Number(cells[1]), label: cells.at(-2), score: Math.fround(Number(cells.at(-1))) };
  });
  return {
    train: rows.filter((r) => r.set === 'train').map((r) => r.score),
    test: rows.filter((r) => r.set === 'test'),
  };
}

const f = Math.fround;
const sorted = (xs) => [...xs].sort((a, b) => a - b);

/** The model crate's threshold methods (`kizu_model::threshold`), in f32 as it computes them. */
const methods = {
  'max-normal': ({ train }) => Math.max(...train),
  percentile: ({ train }, p = 95) => {
    const s = sorted(train);
    const rank = (p / 100) * (s.length - 1);
    const lo = Math.floor(rank); const hi = Math.ceil(rank);
    return f(s[lo] + f(f(s[hi] - s[lo]) * f(rank - lo)));
  },
  'mean-std': ({ train }, k = 3) => {
    const mean = train.reduce((a, b) => a + b, 0) / train.length;
    const sd = Math.sqrt(train.reduce((a, b) => a + (b - mean) ** 2, 0) / train.length);
    return f(mean + k * sd);
  },
  'target-fpr': ({ train }, rate = 0.05) => {
    const s = sorted(train);
    return s[s.length - 1 - Math.min(Math.floor(rate * s.length), s.length - 1)];
  },
  'f1-max': ({ test }) => best(test, (c) => (2 * c.tp) / (2 * c.tp + c.fp + c.fn)),
  'youden-j': ({ test }) => best(test, (c) => c.tp / (c.tp + c.fn) - c.fp / (c.fp + c.tn)),
};

function confusion(test, t) {
  const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (const r of test) {
    const flagged = r.score > t;
    if (r.label === 'anomalous') c[flagged ? 'tp' : 'fn'] += 1; else c[flagged ? 'fp' : 'tn'] += 1;
  }
  return c;
}

/** The midpoint between distinct scores that maximises `objective` (lowest on ties). */
function best(test, objective) {
  const distinct = [...new Set(sorted(test.map((r) => r.score)))];
  let top = null;
  for (let i = 0; i + 1 < distinct.length; i += 1) {
    const candidate = f(distinct[i] + f(f(distinct[i + 1] - distinct[i]) / 2));
    const value = objective(confusion(test, candidate)) || 0;
    if (top === null || value > top.value) top = { value, candidate };
  }
  return top.candidate;
}

function rocAuc(test) {
  const pos = test.filter((r) => r.label === 'anomalous').map((r) => r.score);
  const neg = test.filter((r) => r.label === 'normal').map((r) => r.score);
  let wins = 0;
  for (const p of pos) for (const n of neg) wins += p > n ? 1 : p === n ? 0.5 : 0;
  return wins / (pos.length * neg.length);
}

function averagePrecision(test) {
  const order = [...test].sort((a, b) => b.score - a.score);
  const positives = test.filter((r) => r.label === 'anomalous').length;
  let tp = 0; let fp = 0; let previous = 0; let sum = 0;
  for (let k = 0; k < order.length; k += 1) {
    if (order[k].label === 'anomalous') tp += 1; else fp += 1;
    if (k + 1 === order.length || order[k + 1].score !== order[k].score) {
      const recall = tp / positives;
      sum += (recall - previous) * (tp / (tp + fp));
      previous = recall;
    }
  }
  return sum;
}

async function threshold(app) {
  return Math.fround(Number(await app.page.getByTestId('threshold').getAttribute('data-value')));
}

async function shownConfusion(app) {
  const cell = async (id) => Number(await app.page.getByTestId(id).textContent());
  return { tp: await cell('true-positives'), fp: await cell('false-positives'), tn: await cell('true-negatives'), fn: await cell('false-negatives') };
}

const close = (a, b, what) => assert.ok(Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)), `${what}: page ${a}, expected ${b}`);

test('every number of the evaluation follows from the scores; the threshold moves by drag and keys', { timeout: TIMEOUT }, async () => {
  const browser = await launch({ webgpu: false });
  try {
    const app = new AppPage(await browser.context.newPage());
    await app.open(server.url, '', { blank: false });
    await app.page.getByTestId('model-title').waitFor({ timeout: TIMEOUT });
    assert.equal(await app.waitForIdle(), 'done', app.errors.join('\n'));

    const [download] = await Promise.all([
      app.page.waitForEvent('download'),
      app.page.getByTestId('download-scores').click(),
    ]);
    assert.match(download.suggestedFilename(), /-digit0-scores\.csv$/);
    const scores = parseScores(fs.readFileSync(await download.path(), 'utf8'));
    assert.ok(scores.train.length > 100 && scores.test.length > 100);

    // Each of the six methods gives its value; the supervised ones say what they fit on.
    for (const [id, expected] of Object.entries(methods)) {
      await app.page.getByTestId('threshold-method').selectOption(id);
      close(await threshold(app), expected(scores), id);
      const c = confusion(scores.test, await threshold(app));
      assert.deepEqual(await shownConfusion(app), c, `confusion at ${id}`);
      if (id === 'f1-max' || id === 'youden-j') {
        assert.match(await app.page.getByTestId('threshold-note').textContent(), /test set's labels/);
      }
    }
    // A parameter: the 80th percentile; an out-of-range one is refused beside its field.
    await app.page.getByTestId('threshold-method').selectOption('percentile');
    await app.page.getByTestId('threshold-parameter').fill('80');
    await app.page.getByTestId('threshold-parameter').dispatchEvent('change');
    close(await threshold(app), methods.percentile(scores, 80), 'percentile 80');
    const before = await threshold(app);
    await app.page.getByTestId('threshold-parameter').fill('120');
    await app.page.getByTestId('threshold-parameter').dispatchEvent('change');
    assert.match(await app.page.getByTestId('threshold-parameter-error').textContent(), /between 0 and 100/);
    assert.equal(await threshold(app), before, 'a refused value changes nothing');

    // Dragging the line: the threshold follows the pointer and the confusion follows it.
    const histogram = app.histogram;
    await histogram.scrollIntoViewIfNeeded();
    const box = await histogram.boundingBox();
    const y = box.y + box.height / 2;
    await app.page.mouse.move(box.x + box.width * 0.3, y);
    await app.page.mouse.down();
    const low = await threshold(app);
    await app.page.mouse.move(box.x + box.width * 0.7, y, { steps: 5 });
    await app.page.mouse.up();
    const high = await threshold(app);
    assert.ok(high > low, `dragged right: ${low} -> ${high}`);
    assert.equal(await app.page.getByTestId('threshold-method').inputValue(), 'manual');
    assert.deepEqual(await shownConfusion(app), confusion(scores.test, high));
    // Keys: three steps of a hundredth of the histogram's range each.
    await histogram.focus();
    const min = Number(await histogram.getAttribute('aria-valuemin'));
    const max = Number(await histogram.getAttribute('aria-valuemax'));
    for (let i = 0; i < 3; i += 1) await app.page.keyboard.press('ArrowLeft');
    const keyed = await threshold(app);
    assert.ok(Math.abs(keyed - (high - (3 * (max - min)) / 100)) < 1e-5 * Math.max(1, max - min), `${high} -> ${keyed}`);
    assert.deepEqual(await shownConfusion(app), confusion(scores.test, keyed));
    await app.page.keyboard.press('Home');
    assert.equal(await threshold(app), Math.fround(min));
    assert.equal((await shownConfusion(app)).fn, 0, 'at the lowest score everything is flagged');
    await app.screenshot('steer-threshold');

    // ROC and PR: the AUC and AP the crate computed, both curves drawn.
    close(Number(await app.page.getByTestId('roc-auc').textContent()), Number(rocAuc(scores.test).toFixed(4)), 'ROC AUC');
    assert.equal(await app.page.getByTestId('roc-auc').textContent(), await app.auc.textContent());
    close(Number(await app.page.getByTestId('average-precision').textContent()), Number(averagePrecision(scores.test).toFixed(4)), 'average precision');
    for (const curve of ['roc-curve', 'pr-curve']) {
      assert.ok(await app.distinctColours(app.page.getByTestId(curve)) > 3, `${curve} drawn`);
    }
    // Focused, a curve walks the threshold one distinct test score at a time.
    const distinct = [...new Set(scores.test.map((r) => r.score))].sort((a, b) => a - b);
    await app.page.getByTestId('pr-curve').focus();
    await app.page.keyboard.press('End');
    close(await threshold(app), distinct[distinct.length - 1], 'End on the PR curve: the highest score');
    assert.deepEqual(await shownConfusion(app), confusion(scores.test, await threshold(app)));
    const flaggedNow = async () => { const c = await shownConfusion(app); return c.tp + c.fp; };
    assert.equal(await flaggedNow(), 0, 'nothing scores above the highest score');
    await app.page.getByTestId('roc-curve').focus();
    await app.page.keyboard.press('ArrowLeft');
    close(await threshold(app), distinct[distinct.length - 2], 'one step down the ROC curve');
    assert.equal(await flaggedNow(), scores.test.filter((r) => r.score === distinct[distinct.length - 1]).length);
    await app.page.keyboard.press('Home');
    assert.equal((await shownConfusion(app)).tn, 0, 'Home on a curve flags every test image');

    // The latent scatter shows both labels, in their colours and shapes.
    const scatter = app.page.getByTestId('latent-scatter');
    const colours = await scatter.evaluate((canvas) => {
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      let orange = 0; let blue = 0;
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
        if (r > 200 && g > 130 && g < 190 && b < 60) orange += 1;
        if (b > 170 && r < 120 && g > 100 && g < 190) blue += 1;
      }
      return { orange, blue };
    });
    assert.ok(colours.orange > 50 && colours.blue > 50, JSON.stringify(colours));
    // Hovering a point names its image.
    await scatter.scrollIntoViewIfNeeded();
    const sbox = await scatter.boundingBox();
    let hovered = 'hover a point';
    for (let gx = 0.2; gx <= 0.8 && hovered === 'hover a point'; gx += 0.05) {
      for (let gy = 0.2; gy <= 0.8 && hovered === 'hover a point'; gy += 0.05) {
        await app.page.mouse.move(sbox.x + sbox.width * gx, sbox.y + sbox.height * gy);
        hovered = await app.page.getByTestId('latent-hover').textContent();
      }
    }
    assert.match(hovered, /^test image \d+: digit \d · (normal|anomaly) · score [0-9.e-]+ · (flagged|passed)$/);
    // The keys walk the same points, most anomalous first.
    await scatter.focus();
    await app.page.keyboard.press('Home');
    const byScore = [...scores.test].sort((a, b) => b.score - a.score || a.index - b.index);
    assert.match(await app.page.getByTestId('latent-hover').textContent(), new RegExp(`^test image ${byScore[0].index}: `));
    await app.page.keyboard.press('ArrowRight');
    assert.match(await app.page.getByTestId('latent-hover').textContent(), new RegExp(`^test image ${byScore[1].index}: `));

    // The gallery: the most anomalous first, as the scores say; filters; a detail view.
    await app.page.getByTestId('threshold-method').selectOption('f1-max');
    const items = app.page.getByTestId('gallery-item');
    await items.first().locator('canvas').waitFor({ timeout: TIMEOUT });
    const indices = (await items.evaluateAll((els) => els.map((e) => Number(e.dataset.index))));
    const expected = [...scores.test].sort((a, b) => b.score - a.score || a.index - b.index).slice(0, 24).map((r) => r.index);
    assert.deepEqual(indices, expected);
    assert.match(await app.page.getByTestId('gallery-page').textContent(), new RegExp(`of ${Math.ceil(scores.test.length / 24)} \\(${scores.test.length} images\\)`));
    await app.page.getByTestId('gallery-next').click();
    await app.page.waitForFunction(() => /^page 2/.test(document.querySelector('[data-testid="gallery-page"]').textContent));
    const second = await items.evaluateAll((els) => els.map((e) => Number(e.dataset.score)));
    assert.ok(second.every((s, i) => i === 0 || second[i - 1] >= s), 'page 2 in order');
    await app.page.getByTestId('gallery-labels').selectOption('normal');
    await app.page.getByTestId('gallery-verdicts').selectOption('flagged');
    const t = await threshold(app);
    const falseAlarms = scores.test.filter((r) => r.label === 'normal' && r.score > t).length;
    assert.match(await app.page.getByTestId('gallery-page').textContent(), new RegExp(`\\(${falseAlarms} images\\)`));
    for (const el of await items.all()) {
      assert.equal(await el.getAttribute('data-verdict'), 'flagged');
      assert.match(await el.getAttribute('class'), /normal/);
    }
    await app.page.getByTestId('gallery-labels').selectOption('all');
    await app.page.getByTestId('gallery-verdicts').selectOption('all');
    await items.first().click();
    const detail = app.page.getByTestId('gallery-detail');
    await detail.getByTestId('sample-overlay').waitFor({ timeout: TIMEOUT });
    for (const view of ['sample-input', 'sample-generated', 'sample-difference', 'sample-overlay']) {
      assert.ok(await app.distinctColours(detail.getByTestId(view)) > 1, `${view} drawn`);
    }
    assert.equal(await detail.getAttribute('data-index'), String(expected[0]));
    await app.screenshot('steer-gallery');
    assert.deepEqual(app.errors, []);
  } finally {
    await browser.close();
  }
});
