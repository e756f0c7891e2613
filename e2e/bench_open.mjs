// Browser benchmark (not a test): where the first visit's time goes, CPU path. Prints, for
// three pages of one fresh profile, when each file was requested and arrived and when the
// status line changed, in ms from the call to open the page; and the page's own clock
// (navigation timing: from the navigation's start) when the results were on screen.
// Usage: node bench_open.mjs, with the app built into ../dist (DIST to override).
import { serve } from './server.mjs';
import { launch } from './app.page.mjs';

const server = await serve(process.env.DIST ?? '../dist');
const browser = await launch({ webgpu: false });
try {
  for (let run = 1; run <= 3; run += 1) {
    const page = await browser.context.newPage();
    const events = [];
    const started = Date.now();
    const at = (what) => events.push([Date.now() - started, what]);
    const name = (r) => new URL(r.url()).pathname.split('/').pop() || '/';
    page.on('request', (r) => at(`request ${name(r)}`));
    page.on('requestfinished', (r) => at(`arrived ${name(r)}`));
    await page.exposeFunction('kizuStatus', (text) => at(`status: ${text}`));
    await page.addInitScript(() => {
      let last = null;
      const poll = () => {
        const text = document.querySelector('[data-testid="status"]')?.textContent ?? null;
        if (text !== last) { last = text; window.kizuStatus(String(text)); }
        if (text === 'done' && document.querySelector('[data-testid="model-title"]')
          && window.kizuShownAt === undefined) window.kizuShownAt = performance.now();
        requestAnimationFrame(poll);
      };
      requestAnimationFrame(poll);
    });
    await page.goto(`${server.url}?backend=cpu`);
    await page.waitForFunction(() => document.querySelector('[data-testid="model-title"]')
      && document.querySelector('[data-testid="status"]')?.textContent === 'done', null, { timeout: 120_000 });
    at('results on screen');
    const shown = await page.waitForFunction(() => window.kizuShownAt).then((h) => h.jsonValue());
    console.log(`page ${run}: results on screen ${Math.round(shown)} ms after the navigation started`);
    for (const [ms, what] of events) console.log(`  ${String(ms).padStart(5)} ms  ${what}`);
    await page.close();
  }
} finally {
  await browser.close();
  await server.close();
}
