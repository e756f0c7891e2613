// Browser benchmark (not a test): the page's longest main-thread tasks while a model
// trains and while the threshold is dragged across the histogram, from the Long Tasks API
// (tasks of 50 ms or more; none means every task was shorter), and the tab's memory while it
// trains.
// Usage: node bench_steer.mjs [data-size=full] [model=conv-ae] with the app built into ../dist.
// Data size `folder10k` uploads a folder in the MVTec layout instead (500 training images,
// 10,000 test images, one in ten with a defect stripe), for a drag over 10,000 scores.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serve } from './server.mjs';
import { launch, AppPage } from './app.page.mjs';

const size = process.argv[2] ?? 'full';

/** The largest resident set of Chromium's renderer processes, in bytes (0 off Linux). */
function rendererRss() {
  let largest = 0;
  for (const pid of fs.existsSync('/proc') ? fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)) : []) {
    try {
      if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue;
      const kb = Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      largest = Math.max(largest, kb * 1024);
    } catch { /* the process ended meanwhile */ }
  }
  return largest;
}
const model = process.argv[3] ?? 'conv-ae';
const server = await serve(process.env.DIST ?? '../dist');
const browser = await launch({ webgpu: false });
try {
  const app = new AppPage(await browser.context.newPage());
  await app.open(server.url, '?backend=cpu');
  const watch = () => app.page.evaluate(() => {
    window.__tasks = [];
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__tasks.push(e.duration); })
      .observe({ type: 'longtask' });
  });
  const report = async (what) => {
    const tasks = await app.page.evaluate(() => window.__tasks.splice(0));
    const longest = tasks.length ? Math.max(...tasks).toFixed(0) : '< 50';
    console.log(`${what}: ${tasks.length} main-thread tasks of 50 ms or more; longest ${longest} ms`);
  };
  if (size === 'folder10k') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kizu-10k-'));
    const write = async (folder, specs) => {
      fs.mkdirSync(path.join(dir, 'parts', folder), { recursive: true });
      for (const f of await app.pngs(specs)) fs.writeFileSync(path.join(dir, 'parts', folder, f.name), f.buffer);
    };
    const shade = (i) => 150 + (i * 37) % 100;
    await write('train/good', Array.from({ length: 500 }, (_, i) => ({ name: `${i}.png`, size: 28, shade: shade(i) })));
    await write('test/good', Array.from({ length: 9000 }, (_, i) => ({ name: `${i}.png`, size: 28, shade: shade(i + 7) })));
    await write('test/stripe', Array.from({ length: 1000 }, (_, i) => ({ name: `${i}.png`, size: 28, shade: shade(i + 3), defect: true })));
    await app.page.getByTestId('upload-side').selectOption('32');
    await app.page.getByTestId('upload-rgb').uncheck();
    await app.page.getByTestId('upload-folder').setInputFiles(path.join(dir, 'parts'));
    await app.page.getByTestId('upload-report').waitFor({ timeout: 600_000 });
    console.log((await app.page.getByTestId('upload-report').textContent()).split('\n')[0]);
    await watch();
    await app.startRun({ data: 'images', epochs: 2, model });
    await app.waitForEnd();
    await report(`training ${model} (uploaded folder, 2 epochs)`);
    fs.rmSync(dir, { recursive: true, force: true });
  } else {
    await watch();
    // The tab's memory while it trains: the page's JS heap (DevTools' Performance metrics)
    // and the resident memory of its renderer process, which holds the worker and its wasm
    // memory too (Linux: /proc).
    const cdp = await app.page.context().newCDPSession(app.page);
    await cdp.send('Performance.enable');
    let heap = 0; let rss = 0;
    const sample = setInterval(async () => {
      const { metrics } = await cdp.send('Performance.getMetrics').catch(() => ({ metrics: [] }));
      heap = Math.max(heap, metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0);
      rss = Math.max(rss, rendererRss());
    }, 250);
    await app.startRun({ digit: 0, epochs: 2, model, size });
    await app.waitForEnd();
    clearInterval(sample);
    await report(`training ${model} (${size} data, 2 epochs)`);
    const mb = (b) => (b / 1e6).toFixed(0);
    console.log(`memory while training: page JS heap up to ${mb(heap)} MB; renderer process (page + worker + wasm) up to ${mb(rss)} MB resident`);
  }
  const scores = await app.page.evaluate(() => document.querySelectorAll('[data-testid="gallery-item"]').length);
  const count = (await app.page.getByTestId('gallery-page').textContent()).match(/\((\d+) images\)/)[1];
  const histogram = app.histogram;
  await histogram.scrollIntoViewIfNeeded();
  const box = await histogram.boundingBox();
  await app.page.evaluate(() => window.__tasks.splice(0));
  await app.page.mouse.move(box.x + box.width * 0.1, box.y + box.height / 2);
  await app.page.mouse.down();
  await app.page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2, { steps: 60 });
  await app.page.mouse.up();
  await app.page.waitForTimeout(500);
  await report(`dragging the threshold over ${count} test scores (60 moves; ${scores} tiles on the gallery page)`);
} finally {
  await browser.close();
  await server.close();
}
