// A small static server for the demo and the browser tests: serves the few repository paths a
// page needs, from 127.0.0.1 only. `node examples/web/server.mjs [port]` (what `cargo xtask web`
// runs) serves the demo at http://127.0.0.1:PORT/ (default 8080).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { extname, normalize, join } from 'node:path';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Only these trees are served (never the rest of the repository). */
const ALLOWED = ['examples/web/', 'bindings/wasm/js/', 'bindings/wasm/pkg/web/', 'bindings/wasm/tests/', 'tests/vectors/'];

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.ts': 'text/plain; charset=utf-8',
};

/** Starts the server; resolves to {url, close()}. Port 0 picks a free port. */
export function serve(port = 0, { log = false } = {}) {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    let path = decodeURIComponent(url.pathname);
    if (path === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (path === '/' || path === '/index.html') {
      res.writeHead(302, { location: '/examples/web/' });
      res.end();
      return;
    }
    if (path.endsWith('/')) path += 'index.html';
    const rel = normalize(path).replace(/^\/+/, '');
    const ok = !rel.includes('..') && ALLOWED.some((p) => rel.startsWith(p));
    let status = 200;
    try {
      if (!ok) throw Object.assign(new Error('not served'), { code: 'ENOENT' });
      const body = await readFile(join(ROOT, rel));
      res.writeHead(200, { 'content-type': TYPES[extname(rel)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch (e) {
      status = e.code === 'ENOENT' || e.code === 'EISDIR' ? 404 : 500;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(`${status}\n`);
    }
    if (log) console.log(`${status} ${req.method} ${url.pathname}`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: p } = server.address();
      resolve({ url: `http://127.0.0.1:${p}`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1])) {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 8080);
  const { url } = await serve(port, { log: true });
  console.log(`support-access demo: ${url}/examples/web/  (Ctrl-C to stop)`);
}
