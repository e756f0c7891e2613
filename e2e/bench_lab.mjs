// Browser benchmark (not a test) of the lab's data-in paths on the CPU path:
// - time from opening the page to a pretrained model's results on screen (3 fresh pages);
// - time to decode and score N uploaded 256x256 JPEGs with that model.
// Usage: node bench_lab.mjs [jpegs=1000], with the app built into ../dist (DIST to override).
import { serve } from './server.mjs';
import { launch, AppPage } from './app.page.mjs';

const count = Number(process.argv[2] ?? 1000);
const server = await serve(process.env.DIST ?? '../dist');
const browser = await launch({ webgpu: false });
try {
  for (let run = 1; run <= 3; run += 1) {
    const app = new AppPage(await browser.context.newPage());
    const started = Date.now();
    await app.page.goto(`${server.url}?backend=cpu`);
    await app.page.waitForFunction(() => document.querySelector('[data-testid="model-title"]')
      && document.querySelector('[data-testid="status"]')?.textContent === 'done', null, { timeout: 120_000 });
    const title = await app.page.getByTestId('model-title').textContent();
    console.log(`open -> pretrained results: ${Date.now() - started} ms (${title})`);
    if (run < 3) { await app.page.close(); continue; }

    const files = await app.page.evaluate(async (count) => {
      const out = [];
      const canvas = document.createElement('canvas');
      canvas.width = 256; canvas.height = 256;
      const g = canvas.getContext('2d');
      for (let i = 0; i < count; i += 1) {
        g.fillStyle = `rgb(${i % 256},${(i * 7) % 256},${(i * 13) % 256})`;
        g.fillRect(0, 0, 256, 256);
        g.fillStyle = 'white';
        g.fillRect(64 + (i % 32), 64, 96, 128);
        out.push({ name: `part-${i}.jpg`, data: canvas.toDataURL('image/jpeg', 0.9).split(',')[1] });
      }
      return out;
    }, count);
    const jpegs = files.map(({ name, data }) => ({ name, mimeType: 'image/jpeg', buffer: Buffer.from(data, 'base64') }));
    const bytes = jpegs.reduce((n, f) => n + f.buffer.length, 0);

    // The browser's own decoders, for comparison: decode, resize to 64x64, read the pixels.
    const browserMs = await app.page.evaluate(async (files) => {
      const blobs = files.map(({ data }) => new Blob([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], { type: 'image/jpeg' }));
      const canvas = new OffscreenCanvas(64, 64);
      const g = canvas.getContext('2d', { willReadFrequently: true });
      const t0 = performance.now();
      for (const blob of blobs) {
        const bitmap = await createImageBitmap(blob, { resizeWidth: 64, resizeHeight: 64, resizeQuality: 'high' });
        g.drawImage(bitmap, 0, 0);
        g.getImageData(0, 0, 64, 64);
        bitmap.close();
      }
      return performance.now() - t0;
    }, files);
    console.log(`browser decoders (createImageBitmap, 64x64, main thread): ${browserMs.toFixed(0)} ms, ${(count * 1000 / browserMs).toFixed(0)} images/s`);

    // The worker's decoder alone (the image crate): load them as training images at 64x64 RGB.
    const t1 = Date.now();
    await app.page.getByTestId('upload-files').setInputFiles(jpegs);
    await app.page.getByTestId('upload-report').waitFor({ timeout: 600_000 });
    const decodeMs = Date.now() - t1;
    console.log(`worker decode (image crate, 64x64 RGB, incl. transfer): ${decodeMs} ms, ${(count * 1000 / decodeMs).toFixed(0)} images/s`);

    const t0 = Date.now();
    await app.page.getByTestId('score-files').setInputFiles(jpegs);
    await app.page.waitForFunction((n) => document.querySelectorAll('[data-testid="scored"] [data-testid="sample"]').length === n,
      count, { timeout: 600_000 });
    const ms = Date.now() - t0;
    console.log(`decode + score + draw ${count} 256x256 JPEGs (${(bytes / 1e6).toFixed(1)} MB): ${ms} ms, ${(count * 1000 / ms).toFixed(0)} images/s`);
  }
} finally {
  await browser.close();
  await server.close();
}
