// Browser benchmark (not a test) of the "quick demo" preset on the CPU path: for each
// held-out digit, a fresh page, the digit chosen, "Quick demo settings", Train; prints
// the wall-clock time from the click to the results and the AUC, then their mean, and
// saves a screenshot of each run's samples in artifacts/.
// Usage: node bench_demo.mjs [model=conv-ae] [digits=0-9], with the app built into ../dist
// (DIST to override).
import { serve } from './server.mjs';
import { launch, AppPage } from './app.page.mjs';

const model = process.argv[2] ?? 'conv-ae';
const digits = (process.argv[3] ?? '0,1,2,3,4,5,6,7,8,9').split(',').map(Number);
const server = await serve(process.env.DIST ?? '../dist');
const browser = await launch({ webgpu: false });
const rows = [];
try {
  for (const digit of digits) {
    const app = new AppPage(await browser.context.newPage());
    await app.open(server.url, '?backend=cpu');
    await app.page.getByTestId('model').selectOption(model);
    await app.digit.selectOption(String(digit));
    await app.page.getByTestId('preset-quick').click();
    const settings = `${await app.epochs.inputValue()} epochs, batch ${await app.page.getByTestId('batch-size').inputValue()}, ${await app.page.getByTestId('data-size').inputValue()} data`;
    const started = Date.now();
    await app.train.click();
    const status = await app.waitForEnd();
    const seconds = (Date.now() - started) / 1000;
    const auc = status === 'done' ? Number(await app.auc.textContent()) : NaN;
    await app.screenshot(`demo-${model}-digit-${digit}`);
    rows.push({ digit, seconds, auc });
    console.log(`${model} quick demo (${settings}), digit ${digit} held out: ${seconds.toFixed(1)} s from Train to results, AUC ${auc}`);
    await app.page.close();
  }
  const mean = (key) => rows.reduce((s, r) => s + r[key], 0) / rows.length;
  console.log(`mean over ${rows.length} digits: ${mean('seconds').toFixed(1)} s, AUC ${mean('auc').toFixed(3)}; slowest ${Math.max(...rows.map((r) => r.seconds)).toFixed(1)} s`);
} finally {
  await browser.close();
  await server.close();
}
