// Browser benchmark (not a test): the page's longest main-thread tasks while a model
// trains and while the threshold is dragged across the histogram, from the Long Tasks API
// (tasks of 50 ms or more; none means every task was shorter).
// Usage: node bench_steer.mjs [data-size=full] [model=conv-ae] with the app built into ../dist.
import { serve } from './server.mjs';
import { launch, AppPage } from './app.page.mjs';

const size = process.argv[2] ?? 'full';
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
  await watch();
  await app.startRun({ digit: 0, epochs: 2, model, size });
  await app.waitForEnd();
  await report(`training ${model} (${size} data, 2 epochs)`);
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
