// Screenshots of every view (not a test): the pretrained model's evaluation views, the
// gallery's detail, and a training run's loss chart and previews, each cropped to its
// section, into ../docs/screenshots/ (or SCREENS). Usage: node screens.mjs
import fs from 'node:fs';
import path from 'node:path';
import { serve } from './server.mjs';
import { launch, AppPage } from './app.page.mjs';

const out = path.resolve(process.env.SCREENS ?? '../docs/screenshots');
fs.mkdirSync(out, { recursive: true });
const server = await serve(process.env.DIST ?? '../dist');
const browser = await launch({ webgpu: false });
try {
  const app = new AppPage(await browser.context.newPage());
  await app.open(server.url, '?backend=cpu', { blank: false });
  await app.page.getByTestId('model-title').waitFor({ timeout: 120_000 });
  await app.waitForIdle();
  const shot = async (name, locator) => {
    await locator.scrollIntoViewIfNeeded();
    await locator.screenshot({ path: path.join(out, `${name}.png`) });
    console.log(`${name}.png`);
  };
  const around = (id) => app.page.getByTestId(id).locator('xpath=..');
  await app.page.getByTestId('threshold-method').selectOption('f1-max');
  await shot('threshold', app.page.locator('.threshold'));
  await shot('curves', app.page.locator('.curves-section'));
  await shot('latent', app.page.locator('.latent-section'));
  await app.page.getByTestId('gallery-item').first().locator('canvas').waitFor();
  await app.page.getByTestId('gallery-item').first().click();
  await app.page.getByTestId('gallery-detail').getByTestId('sample-overlay').waitFor();
  await shot('gallery', app.page.getByTestId('gallery'));
  await shot('form', app.page.locator('.controls'));
  await app.startRun({ digit: 0, epochs: 3, size: 'full' });
  await app.page.getByTestId('preview-sample').first().waitFor({ timeout: 120_000 });
  await app.page.waitForTimeout(3000);
  await shot('training', around('loss-chart'));
  await app.waitForEnd();
} finally {
  await browser.close();
  await server.close();
}
