// Browser benchmark (not a test): trains a model in headless Chromium on each path
// and prints the app's own throughput figures.
// Usage: node bench.mjs [epochs=1] [data-size=quick|standard|full] [paths=cpu,webgpu] [model=conv-ae|ganomaly|... (any ModelKind id)]
// with the app built into ../dist (DIST to override).
import { serve } from './server.mjs';
import { launch, AppPage } from './app.page.mjs';

const epochs = Number(process.argv[2] ?? 1);
const dataSize = process.argv[3] ?? 'quick';
const wanted = (process.argv[4] ?? 'cpu,webgpu').split(',');
const model = process.argv[5] ?? 'conv-ae';
const paths = [
  { id: 'cpu', name: 'CPU (flex, wasm)', webgpu: false, query: '?backend=cpu' },
  { id: 'webgpu', name: 'WebGPU (SwiftShader)', webgpu: true, query: '?backend=webgpu' },
].filter((p) => wanted.includes(p.id));

const server = await serve(process.env.DIST ?? '../dist');
try {
  for (const path of paths) {
    const browser = await launch({ webgpu: path.webgpu });
    try {
      const app = new AppPage(await browser.context.newPage());
      await app.open(server.url, path.query);
      await app.startRun({ digit: 0, epochs, model, size: dataSize });
      const status = await app.waitForEnd();
      const badge = (await app.badge.textContent()).trim();
      const speed = status === 'done' ? await app.page.getByTestId('throughput').textContent() : status;
      const auc = status === 'done' ? await app.auc.textContent() : 'n/a';
      console.log(`${model} on ${path.name}: ${speed}; AUC ${auc}; digit 0, ${epochs} epoch(s), ${dataSize}; badge: ${badge}`);
    } finally {
      await browser.close();
    }
  }
} finally {
  await server.close();
}
