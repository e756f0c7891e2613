// A static file server for dist/ on 127.0.0.1 (a secure context, so WebGPU is offered).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm',
  '.css': 'text/css', '.png': 'image/png', '.gz': 'application/gzip', '.json': 'application/json',
};

/**
 * Serves `root` on a free port; resolves to { url, close }. `overrides` (path -> bytes, read
 * on each request) serves other bytes for some files, as a server mid-deploy would.
 */
export async function serve(root, { overrides = new Map() } = {}) {
  const base = path.resolve(root);
  if (!fs.existsSync(path.join(base, 'index.html'))) {
    throw new Error(`${base}/index.html is missing: build the app first (trunk build)`);
  }
  const server = http.createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    let file = path.join(base, pathname);
    if (!file.startsWith(base)) return res.writeHead(403).end();
    const type = () => ({ 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    if (overrides.has(pathname)) return res.writeHead(200, type()).end(overrides.get(pathname));
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (!fs.existsSync(file)) return res.writeHead(404).end('not found');
    res.writeHead(200, type());
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
