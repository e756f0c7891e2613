// Browser benchmark (not a test) of each model's recipe on the CPU path, as the shipped
// checkpoints were trained natively: for each model a fresh page, the digit chosen, "As in
// the source" (the recipe's epochs, the whole split, a tenth of the normal images choosing
// the epoch), then the compact scale, Train. Prints the wall-clock time from the click to
// the results, the AUC, and the shipped checkpoint's AUC (trained natively) beside it.
// Usage: node bench_recipes.mjs [models=all image models] [digit=0], with the app built into
// ../dist (DIST to override).
import { serve } from './server.mjs';
import { launch, AppPage } from './app.page.mjs';

const ALL = ['fc-ae', 'fc-vae', 'conv-ae', 'conv-vae', 'ganomaly', 'skip-ganomaly', 'aae', 'anogan', 'lstm-ae'];
const models = process.argv[2] && process.argv[2] !== 'all' ? process.argv[2].split(',') : ALL;
const digit = Number(process.argv[3] ?? 0);
// A recipe may train for many minutes on 2 cores.
const RECIPE_TIMEOUT = 3_600_000;
const server = await serve(process.env.DIST ?? '../dist');
const catalog = await (await fetch(`${server.url}checkpoints/index.json`)).json();
const browser = await launch({ webgpu: false });
try {
  for (const model of models) {
    const app = new AppPage(await browser.context.newPage());
    await app.open(server.url, '?backend=cpu');
    await app.page.getByTestId('data').selectOption('one-class');
    await app.page.getByTestId('model').selectOption(model);
    await app.digit.selectOption(String(digit));
    await app.page.getByTestId('preset-source').click();
    await app.page.getByTestId('scale').selectOption('compact');
    const settings = `${await app.epochs.inputValue()} epochs, batch ${await app.page.getByTestId('batch-size').inputValue()}, ${await app.page.getByTestId('data-size').inputValue()} data`;
    const started = Date.now();
    await app.train.click();
    const status = await app.waitForEnd(RECIPE_TIMEOUT);
    const seconds = (Date.now() - started) / 1000;
    const auc = status === 'done' ? Number(await app.auc.textContent()) : NaN;
    const shipped = catalog.entries.find((e) => e.file === `${model}-digit${digit}.kizu`);
    await app.screenshot(`recipe-${model}-digit-${digit}`);
    console.log(`${model} recipe (${settings}, compact), digit ${digit} held out: ${seconds.toFixed(1)} s from Train to results, AUC ${auc.toFixed(4)}`
      + (shipped ? `; shipped file (native) ${shipped.auc.toFixed(4)}` : ''));
    if (status !== 'done') console.log(`  ${status}`);
    await app.page.close();
  }
} finally {
  await browser.close();
  await server.close();
}
