// Browser benchmark (not a test) of the sensor-series recipe on the CPU path: a fresh
// page, "Sensor series: the demo", the recipe as the form fills it, Train; prints the
// wall-clock time from the click to the results, the windows per second the worker
// measured for training and scoring, and the window AUC; saves a screenshot.
// Usage: node bench_series.mjs [epochs: the recipe's], with the app built into ../dist
// (DIST to override).
import { serve } from './server.mjs';
import { launch, AppPage } from './app.page.mjs';

const epochs = process.argv[2];
const server = await serve(process.env.DIST ?? '../dist');
const browser = await launch({ webgpu: false });
try {
  const app = new AppPage(await browser.context.newPage());
  await app.open(server.url, '?backend=cpu');
  await app.page.getByTestId('data').selectOption('demo-series');
  if (epochs) {
    await app.epochs.fill(epochs);
    await app.epochs.dispatchEvent('change');
  }
  const field = (id) => app.page.getByTestId(id).inputValue();
  const settings = `${await field('epochs')} epochs, batch ${await field('batch-size')}, windows of ${await field('window')} every ${await field('stride')}`;
  const started = Date.now();
  await app.train.click();
  const status = await app.waitForEnd();
  const seconds = (Date.now() - started) / 1000;
  const auc = status === 'done' ? Number(await app.auc.textContent()) : NaN;
  const speed = status === 'done' ? await app.page.getByTestId('throughput').textContent() : status;
  await app.screenshot('bench-series-demo');
  console.log(`LSTM AE on the demo series (${settings}): ${seconds.toFixed(1)} s from Train to results; ${speed}; window AUC ${auc}`);
} finally {
  await browser.close();
  await server.close();
}
