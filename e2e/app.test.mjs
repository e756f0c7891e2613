// End-to-end: the built app trains in real headless Chromium, on the CPU and on WebGPU.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { serve } from './server.mjs';
import { launch, AppPage } from './app.page.mjs';

const TIMEOUT = 300_000;
let server;

before(async () => { server = await serve(process.env.DIST ?? '../dist'); });
after(async () => { await server?.close(); });

/** Opens the app in a fresh browser, runs `body(app)`, always closes the browser. */
async function withApp({ webgpu, query = '' }, body) {
  const browser = await launch({ webgpu });
  try {
    const app = new AppPage(await browser.context.newPage());
    await app.open(server.url, query);
    await body(app);
  } finally {
    await browser.close();
  }
}

async function assertCompleteResults(app, name) {
  const status = await app.waitForEnd();
  assert.equal(status, 'done', `run failed: ${status}\n${app.errors.join('\n')}`);
  const auc = Number(await app.auc.textContent());
  assert.ok(Number.isFinite(auc) && auc >= 0 && auc <= 1, `AUC ${auc}`);
  assert.ok(await app.histogram.isVisible(), 'histogram shown');
  assert.ok(await app.distinctColours(app.histogram) > 3, 'histogram has bars');
  assert.ok(await app.distinctColours(app.lossChart) > 2, 'loss curve drawn');
  assert.equal(await app.samples.count(), 8, 'four normal and four anomalous samples');
  for (const view of ['sample-input', 'sample-generated', 'sample-difference']) {
    const first = app.page.getByTestId(view).first();
    assert.ok(await first.isVisible(), `${view} shown`);
    assert.ok(await app.distinctColours(first) > 1, `${view} is not blank`);
  }
  const shot = await app.screenshot(name);
  assert.ok(fs.statSync(shot).size > 10_000, 'screenshot saved');
}

test('CPU path: without WebGPU the app trains a quick run and shows every view', { timeout: TIMEOUT }, async () => {
  await withApp({ webgpu: false }, async (app) => {
    await app.startRun({ digit: 3, epochs: 1 });
    await assertCompleteResults(app, 'cpu-run');
    assert.equal(await app.badge.getAttribute('data-backend'), 'CPU');
    assert.match(await app.badge.textContent(), /no WebGPU adapter/);
    assert.match(await app.page.getByTestId('score-label').textContent(), /nearest training latent/, 'the conv AE is judged by its latent');

    // The run keeps the 95th percentile of its training scores; switching to the sources'
    // max of normal moves the line up and the counts.
    assert.match(await app.page.getByTestId('threshold-method').locator('option[value="own"]').textContent(), /95th percentile/);
    const kept = await app.page.getByTestId('threshold').textContent();
    const keptOutcome = await app.page.getByTestId('confusion').textContent();
    assert.match(keptOutcome, /flags \d+ of \d+ anomalies and \d+ of \d+ normal images/);
    await app.page.getByTestId('threshold-method').selectOption('max-normal');
    const strict = await app.page.getByTestId('threshold').textContent();
    assert.ok(Number(strict) > Number(kept), `max of normal ${strict} above the 95th percentile ${kept}`);
    assert.notEqual(await app.page.getByTestId('confusion').textContent(), keptOutcome);
  });
});

test('GANomaly trains in the browser and shows its generator and discriminator losses', { timeout: TIMEOUT }, async () => {
  await withApp({ webgpu: false }, async (app) => {
    await app.startRun({ digit: 6, epochs: 1, model: 'ganomaly' });
    await assertCompleteResults(app, 'ganomaly-run');
    assert.match(await app.page.getByTestId('score-label').textContent(), /nearest training latent/);
    const side = await app.page.getByTestId('sample-generated').first().evaluate((c) => c.width);
    assert.equal(side, 32, 'GANomaly generates 32x32 images');
  });
});

test('every other model kind in the menu trains in the browser and is judged by its chosen score', { timeout: TIMEOUT }, async () => {
  const ownScore = {
    'fc-ae': /neighbour \+ MSE \+ ratio/,
    'fc-vae': /neighbour \+ MSE \+ ratio/,
    'conv-vae': /nearest training latent/,
    'skip-ganomaly': /nearest training latent/,
    aae: /nearest training latent/,
    anogan: /nearest training latent/,
    'lstm-ae': /nearest training latent/,
  };
  await withApp({ webgpu: false }, async (app) => {
    const offered = await app.page.getByTestId('model').locator('option').evaluateAll((os) => os.map((o) => o.value));
    assert.deepEqual(offered.sort(), [...Object.keys(ownScore), 'conv-ae', 'ganomaly'].sort());
    for (const [model, score] of Object.entries(ownScore)) {
      // A fresh page per model, so no status of the previous run is mistaken for this one's.
      await app.open(server.url);
      await app.startRun({ digit: 3, epochs: 1, model });
      await assertCompleteResults(app, `${model}-run`);
      assert.match(await app.page.getByTestId('score-label').textContent(), score, model);
    }
  });
});

test('WebGPU path: ?backend=webgpu trains on the SwiftShader adapter', { timeout: TIMEOUT }, async () => {
  await withApp({ webgpu: true, query: '?backend=webgpu' }, async (app) => {
    await app.startRun({ digit: 7, epochs: 1 });
    await assertCompleteResults(app, 'webgpu-run');
    assert.equal(await app.badge.getAttribute('data-backend'), 'WebGPU');
    assert.deepEqual(app.workers, ['worker-webgpu.js'], 'only the WebGPU worker is fetched');
    // The neighbour score's distances run on the GPU too.
    assert.match(await app.page.getByTestId('score-label').textContent(), /nearest training latent/);
    assert.match(await app.badge.textContent(), /adapter: .*swiftshader/i);
    // Its weights are read back asynchronously (the only way WebGPU allows): it downloads.
    const [download] = await Promise.all([
      app.page.waitForEvent('download'),
      app.page.getByTestId('export').click(),
    ]);
    assert.equal(download.suggestedFilename(), 'conv-ae-digit7.kizu');
    const bytes = fs.readFileSync(await download.path());
    assert.equal(bytes.subarray(0, 8).toString('latin1'), 'KIZUCKPT');
    assert.ok(bytes.length > 10_000, `${bytes.length} bytes`);
    assert.equal(await app.samples.count(), 8);
  });
});

test('a WebGPU device lost mid-run: training goes on on the CPU from its last copy, and the badge says so', { timeout: TIMEOUT }, async () => {
  await withApp({ webgpu: true, query: '?backend=webgpu' }, async (app) => {
    // gloo-worker starts the script (worker-webgpu.js, the only one fetched) from a shim.
    assert.deepEqual(app.workers, ['worker-webgpu.js']);
    const [worker] = app.page.workers();
    assert.ok(worker, 'the worker runs');
    // The test-only trigger: the worker's GPUDevice, captured as it is made, is destroyed
    // (a real loss of the device, as a driver reset gives) when asked, at the run's next
    // readback, so no mapping is in flight (destroy() detaches mapped buffers at once,
    // before the device reports its loss).
    await worker.evaluate(() => {
      const request = GPUAdapter.prototype.requestDevice;
      self.kizuDevices = [];
      self.kizuLose = false;
      GPUAdapter.prototype.requestDevice = async function (...args) {
        const device = await request.apply(this, args);
        self.kizuDevices.push(device);
        return device;
      };
      const map = GPUBuffer.prototype.mapAsync;
      GPUBuffer.prototype.mapAsync = function (...args) {
        if (self.kizuLose) {
          self.kizuLose = false;
          self.kizuDevices.forEach((d) => d.destroy());
        }
        return map.apply(this, args);
      };
    });
    await app.startRun({ digit: 4, epochs: 3 });
    // Past the first copies (every quarter epoch), well before the end.
    await app.page.waitForFunction(() => {
      const text = document.querySelector('[data-testid="status"]')?.textContent ?? '';
      return Number(/step (\d+)/.exec(text)?.[1] ?? 0) >= 6 || text.startsWith('failed');
    }, null, { timeout: TIMEOUT });
    assert.equal(await app.badge.getAttribute('data-backend'), 'WebGPU');
    assert.equal(await worker.evaluate(() => { self.kizuLose = true; return self.kizuDevices.length; }), 1);
    assert.equal(await app.waitForEnd(), 'done', app.errors.join('\n'));
    assert.equal(await app.badge.getAttribute('data-backend'), 'CPU');
    const why = await app.badge.textContent();
    const [, failedAt, cause, resumedFrom] = /WebGPU failed at step (\d+) \((.+)\); training went on on the CPU from step (\d+)/.exec(why) ?? [];
    assert.ok(Number(resumedFrom) >= 4 && Number(failedAt) > Number(resumedFrom), why);
    assert.match(cause, /destroyed/i, 'the cause, in one line');
    assert.equal(await app.page.getByTestId('stopped-early').count(), 0, 'every step was taken');
    assert.equal(await app.samples.count(), 8);
    assert.ok(Number.isFinite(Number(await app.auc.textContent())));
    await app.screenshot('device-lost');
    // The session stays on the CPU.
    await app.startRun({ digit: 4, epochs: 1 });
    assert.equal(await app.waitForEnd(), 'done', app.errors.join('\n'));
    assert.equal(await app.badge.getAttribute('data-backend'), 'CPU');
  });
});

test('an error no code in the worker can catch ends the run as failed, with what to do', { timeout: TIMEOUT }, async () => {
  await withApp({ webgpu: false }, async (app) => {
    await app.startRun({ digit: 1, epochs: 50 }); // far more steps than the test waits for
    await app.page.waitForFunction(() => /step [1-9]/.test(document.querySelector('[data-testid="status"]')?.textContent ?? ''),
      null, { timeout: TIMEOUT });
    // An uncaught exception in the worker, as a panic (an abort) or a browser API's
    // exception thrown through the module would be.
    const [worker] = app.page.workers();
    await worker.evaluate(() => setTimeout(() => { throw new Error('injected crash'); }, 0));
    const status = await app.waitForEnd();
    assert.match(status, /^failed: the worker stopped on an unexpected error \(.*injected crash\): reload the page/, status);
    assert.equal(await app.train.isDisabled(), false, 'the page is not left waiting');
  });
});

test('auto on a software adapter picks the CPU, and Stop keeps what was learned', { timeout: TIMEOUT }, async () => {
  await withApp({ webgpu: true }, async (app) => {
    await app.startRun({ digit: 5, epochs: 50 }); // far more steps than the test waits for
    await app.page.waitForFunction(() => {
      const text = document.querySelector('[data-testid="status"]')?.textContent ?? '';
      return /step [1-9]/.test(text) || text.startsWith('failed');
    }, null, { timeout: TIMEOUT });
    assert.doesNotMatch(await app.status.textContent(), /^failed/);
    await app.stop.click();
    assert.equal(await app.waitForEnd(), 'done');
    assert.ok(await app.page.getByTestId('stopped-early').isVisible(), 'says it stopped early');
    assert.equal(await app.badge.getAttribute('data-backend'), 'CPU');
    assert.match(await app.badge.textContent(), /software fallback/);
    assert.deepEqual(app.workers, ['worker.js'], 'a software adapter gets the CPU worker, not the WebGPU one');
    assert.equal(await app.samples.count(), 8);
    await app.screenshot('stopped-run');
  });
});

test('the CPU switch reloads the page on the CPU worker, and back', { timeout: TIMEOUT }, async () => {
  await withApp({ webgpu: true, query: '?backend=webgpu' }, async (app) => {
    assert.deepEqual(app.workers, ['worker-webgpu.js']);
    const cpu = app.page.getByTestId('force-cpu');
    assert.equal(await cpu.isChecked(), false);
    await Promise.all([app.page.waitForURL(/backend=cpu/), cpu.check()]);
    await app.train.waitFor();
    await app.waitForIdle();
    assert.equal(new URL(app.page.url()).searchParams.get('backend'), 'cpu');
    assert.equal(await app.page.getByTestId('force-cpu').isChecked(), true);
    assert.deepEqual(app.workers.slice(1), ['worker.js'], 'the reloaded page starts the CPU worker');
    await app.startRun({ digit: 2, epochs: 1 });
    assert.equal(await app.waitForEnd(), 'done', app.errors.join('\n'));
    assert.match(await app.badge.textContent(), /forced by \?backend=cpu/);
    await Promise.all([app.page.waitForURL((u) => !u.searchParams.has('backend')), app.page.getByTestId('force-cpu').uncheck()]);
    await app.train.waitFor();
    assert.equal(new URL(app.page.url()).searchParams.has('backend'), false);
    assert.ok(new URL(app.page.url()).searchParams.has('blank'), 'the rest of the address stays');
  });
});
