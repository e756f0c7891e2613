// Page object for the Kizu app: locators by data-testid, actions a user takes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const FLAGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu-sandbox', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
  // A fake camera (a test pattern), allowed without a prompt.
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
];
export const ARTIFACTS = path.resolve(process.env.ARTIFACTS ?? 'artifacts');
const RUN_TIMEOUT = 280_000;

/**
 * Launches Debian's Chromium (never a downloaded one); `webgpu` adds --enable-unsafe-webgpu;
 * `noServiceWorker` keeps the offline cache out of a test that changes what the server sends.
 */
export async function launch({ webgpu, noServiceWorker = false }) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'kizu-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    // CHROME_FLAGS: extra switches for benchmarks (e.g. V8's `--js-flags=...`).
    args: [...FLAGS, ...(webgpu ? ['--enable-unsafe-webgpu'] : []), ...(process.env.CHROME_FLAGS?.split(' ').filter(Boolean) ?? [])],
    viewport: { width: 1200, height: 1400 },
    serviceWorkers: noServiceWorker ? 'block' : 'allow',
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

export class AppPage {
  constructor(page) {
    this.page = page;
    this.errors = [];
    /** The worker scripts the page fetched, in order (`worker.js`, `worker-webgpu.js`). */
    this.workers = [];
    page.on('request', (r) => {
      const name = new URL(r.url()).pathname.split('/').pop();
      if (/^worker[-\w]*\.js$/.test(name)) this.workers.push(name);
    });
    page.on('pageerror', (e) => this.errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') this.errors.push(m.text()); });
    const id = (name) => page.getByTestId(name);
    this.badge = id('backend-badge');
    this.train = id('train');
    this.stop = id('stop');
    this.status = id('status');
    this.digit = id('digit');
    this.epochs = id('epochs');
    this.auc = id('auc');
    this.histogram = id('histogram');
    this.lossChart = id('loss-chart');
    this.samples = id('sample');
  }

  /** Opens the app; `blank` skips opening the best pretrained model first. */
  async open(baseUrl, query = '', { blank = true } = {}) {
    const params = new URLSearchParams(query.replace(/^\?/, ''));
    if (blank) params.set('blank', '');
    const search = params.toString();
    await this.page.goto(baseUrl + (search ? `?${search}` : ''));
    await this.train.waitFor();
    // The page is busy until the worker has the catalogue (and, unless blank, the model).
    if (blank) await this.waitForIdle();
  }

  /** Fills the form and clicks Train; `size` is the amount of bundled digits (the form opens on the quick demo's whole split). */
  async startRun({ digit = 3, epochs = 1, model = 'conv-ae', data = 'one-class', size = 'quick' } = {}) {
    await this.page.getByTestId('data').selectOption(data);
    await this.page.getByTestId('model').selectOption(model);
    if (data === 'one-class') await this.digit.selectOption(String(digit));
    if (data !== 'images') await this.page.getByTestId('data-size').selectOption(size);
    await this.epochs.fill(String(epochs));
    await this.epochs.dispatchEvent('change');
    await this.train.click();
  }

  /** Waits until the run is done or failed (`timeout` ms at most); returns the status text. */
  async waitForEnd(timeout = RUN_TIMEOUT) {
    await this.page.waitForFunction(() => {
      const text = document.querySelector('[data-testid="status"]')?.textContent ?? '';
      return text === 'done' || text.startsWith('failed');
    }, null, { timeout });
    return this.status.textContent();
  }

  /** Waits for the current command to end; returns the status text. */
  async waitForIdle() {
    await this.page.waitForFunction(() => !document.querySelector('[data-testid="train"]')?.disabled,
      null, { timeout: RUN_TIMEOUT });
    return this.status.textContent();
  }

  /**
   * PNG files drawn by the browser: `{ name, size, shade, defect }` each -> `{ name, mimeType,
   * buffer }` for setInputFiles. A bright square on black; a defect adds a bright stripe.
   */
  async pngs(specs) {
    const encoded = await this.page.evaluate(async (specs) => {
      const out = [];
      for (const { name, size = 40, shade = 220, defect = false } of specs) {
        const canvas = document.createElement('canvas');
        canvas.width = size; canvas.height = size;
        const g = canvas.getContext('2d');
        g.fillStyle = 'black'; g.fillRect(0, 0, size, size);
        g.fillStyle = `rgb(${shade},${shade},${shade})`;
        g.fillRect(size / 4, size / 4, size / 2, size / 2);
        if (defect) g.fillRect(0, size * 0.45, size, size * 0.1);
        out.push({ name, data: canvas.toDataURL('image/png').split(',')[1] });
      }
      return out;
    }, specs);
    return encoded.map(({ name, data }) => ({ name, mimeType: 'image/png', buffer: Buffer.from(data, 'base64') }));
  }

  /**
   * PNG files of real digits from the bundled MNIST subset, as the page serves it: the first
   * `count` images of each digit in `digits` -> `{ name, mimeType, buffer }` for setInputFiles.
   */
  async digitPngs(digits, count) {
    const encoded = await this.page.evaluate(async ({ digits, count }) => {
      const gunzip = async (url) => new Uint8Array(await new Response(
        (await fetch(url)).body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
      const images = await gunzip('data/mnist10k-images-idx3-ubyte.gz');
      const labels = await gunzip('data/mnist10k-labels-idx1-ubyte.gz');
      const canvas = document.createElement('canvas');
      canvas.width = 28; canvas.height = 28;
      const g = canvas.getContext('2d');
      const out = [];
      for (const digit of digits) {
        let found = 0;
        for (let i = 0; i + 8 < labels.length && found < count; i += 1) {
          if (labels[8 + i] !== digit) continue;
          const pixels = g.createImageData(28, 28);
          for (let p = 0; p < 28 * 28; p += 1) {
            const v = images[16 + i * 28 * 28 + p];
            pixels.data.set([v, v, v, 255], p * 4);
          }
          g.putImageData(pixels, 0, 0);
          out.push({ name: `digit${digit}-${i}.png`, data: canvas.toDataURL('image/png').split(',')[1] });
          found += 1;
        }
      }
      return out;
    }, { digits, count });
    return encoded.map(({ name, data }) => ({ name, mimeType: 'image/png', buffer: Buffer.from(data, 'base64') }));
  }

  /** How many distinct colours a canvas shows: 1 means blank. */
  async distinctColours(locator) {
    return locator.evaluate((canvas) => {
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      const seen = new Set();
      for (let i = 0; i < data.length; i += 4) seen.add(`${data[i]},${data[i + 1]},${data[i + 2]}`);
      return seen.size;
    });
  }

  async screenshot(name) {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, `${name}.png`);
    await this.page.screenshot({ path: file, fullPage: true });
    return file;
  }
}
