/**
 * `zhuyi serve DIR`: the browser explorer (web/dist, built by `npm run build:web`) for one model,
 * on localhost, with node:http alone.
 *
 *   /             the explorer (web/dist)
 *   /train.html   the Train tab: built-in tasks trained in the page (no model needed)
 *   /model/       the exported model: manifest.json and the ONNX graphs it names
 *
 * Without DIR only the Train tab is served (at / too). Every response carries COOP/COEP headers, so
 * the page is cross-origin isolated and onnxruntime-web can run WASM on several threads.
 *
 * DIR is a folder written by `zhuyi export` (it holds manifest.json) or a trained model folder
 * (`translate train`, or a BERT folder with config.json), which is exported first into a cache
 * folder and reused while it is newer than the model's files.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { homedir } from 'node:os';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Command, Option } from 'commander';
import { exportOnnx } from '../export/export.js';
import { MANIFEST_FILE } from '../export/manifest.js';
import { ZhuyiError } from '../tensor/errors.js';

/** web/dist of this package: ../../web/dist from src/cli (tsx) and from dist/cli (built) alike. */
export const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  // application/wasm lets the browser compile while it downloads (instantiateStreaming).
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
};

/** What kind of folder DIR is: exported (serve as is) or trained (export first). */
export function modelFolderKind(dir: string): 'exported' | 'trained' {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ZhuyiError(`serve: ${dir} is not a folder`);
  if (existsSync(join(dir, MANIFEST_FILE))) return 'exported';
  if (existsSync(join(dir, 'zhuyi-translate.json')) || existsSync(join(dir, 'config.json'))) return 'trained';
  throw new ZhuyiError(`serve: ${dir} is not a model folder: expected ${MANIFEST_FILE} (zhuyi export), zhuyi-translate.json (zhuyi translate train) or config.json (a BERT folder)`);
}

/** Where a trained folder's export is cached: $XDG_CACHE_HOME/zhuyi/onnx/<hash of its path>. */
export function exportCacheDir(dir: string): string {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'zhuyi', 'onnx', createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 16));
}

function newestFileTime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    if (name.isFile()) newest = Math.max(newest, statSync(join(dir, name.name)).mtimeMs);
    else if (name.isDirectory()) newest = Math.max(newest, newestFileTime(join(dir, name.name)));
  }
  return newest;
}

/** An export in `out` at least as new as every file of the model folder `dir`. */
function freshExport(out: string, dir: string): boolean {
  const manifest = join(out, MANIFEST_FILE);
  return existsSync(manifest) && statSync(manifest).mtimeMs >= newestFileTime(dir);
}

/**
 * The exported folder to serve for DIR: DIR itself when it holds manifest.json, else its export in
 * `exportTo` (default exportCacheDir), made now unless an export newer than every model file is there.
 *
 * Two `serve` processes may export the same model at once: each exports into a private folder beside
 * `out` and renames it into place, so `out` is always a whole export (never files of two exports, or
 * a manifest naming a half-written model.onnx). The first to finish wins; the other uses it.
 */
export async function exportedModelDir(dir: string, o: { exportTo?: string; log?: (s: string) => void } = {}): Promise<string> {
  if (modelFolderKind(dir) === 'exported') return dir;
  const out = resolve(o.exportTo ?? exportCacheDir(dir));
  if (freshExport(out, dir)) {
    o.log?.(`using the export in ${out}`);
    return out;
  }
  o.log?.(`exporting ${dir} to ONNX in ${out} …`);
  if (existsSync(out) && readdirSync(out).length > 0 && !existsSync(join(out, MANIFEST_FILE))) {
    // A user's --export-to folder holding other files: never moved aside; written into as before.
    await exportOnnx(dir, out, { force: true, ...(o.log && { log: o.log }) });
    return out;
  }
  mkdirSync(dirname(out), { recursive: true });
  const unique = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = `${out}.tmp-${unique}`;
  try {
    await exportOnnx(dir, tmp, { ...(o.log && { log: o.log }) });
    publishFolder(tmp, out, `${out}.old-${unique}`, () => freshExport(out, dir));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}

/** Renames the finished folder `tmp` to `out`, replacing a stale `out` unless `theirsIsFresh()`. */
function publishFolder(tmp: string, out: string, aside: string, theirsIsFresh: () => boolean): void {
  try {
    renameSync(tmp, out); // atomic; fails when out exists and is not empty
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw new ZhuyiError(`serve: cannot move the export into ${out} (${(e as Error).message})`);
  }
  if (theirsIsFresh()) return; // another serve published the same export first
  try { renameSync(out, aside); } catch { /* another serve moved it first */ }
  try {
    renameSync(tmp, out);
  } catch (e) {
    if (!theirsIsFresh()) throw new ZhuyiError(`serve: cannot move the export into ${out} (${(e as Error).message})`);
  } finally {
    rmSync(aside, { recursive: true, force: true });
  }
}

export interface ServeOptions {
  port?: number;
  host?: string;
  /** The built explorer (default web/dist of this package). */
  webDir?: string;
}

export interface RunningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** The file under `root` a URL path names, or null when it escapes root or is not a file. */
function fileUnder(root: string, urlPath: string): string | null {
  const path = resolve(root, `.${urlPath}`);
  if (path !== root && !path.startsWith(root.endsWith(sep) ? root : root + sep)) return null;
  if (existsSync(path) && statSync(path).isDirectory()) return fileUnder(root, `${urlPath.replace(/\/?$/, '/')}index.html`);
  return existsSync(path) ? path : null;
}

/**
 * Cross-origin isolation (SharedArrayBuffer, hence WASM threads in onnxruntime-web): the page and
 * everything it loads are same-origin here, so require-corp costs nothing.
 */
export const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } as const;

/** Serves web/dist at / and the exported model folder at /model/ (none: the Train tab at /) until closed. */
export async function serveExplorer(modelDir: string | null, o: ServeOptions = {}): Promise<RunningServer> {
  const web = resolve(o.webDir ?? WEB_DIST);
  if (!existsSync(join(web, 'index.html'))) throw new ZhuyiError(`serve: the explorer is not built (no ${join(web, 'index.html')}): run npm run build:web`);
  const model = modelDir === null ? null : resolve(modelDir);
  if (model && !existsSync(join(model, MANIFEST_FILE))) throw new ZhuyiError(`serve: ${modelDir} has no ${MANIFEST_FILE}`);
  const server = createServer((req, res) => {
    for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const isModel = path === '/model' || path.startsWith('/model/');
    const file = isModel ? (model ? fileUnder(model, path.slice('/model'.length) || '/') : null) : fileUnder(web, !model && path === '/' ? '/train.html' : path);
    if (!file) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`not found: ${path}`);
      return;
    }
    // Revalidated on every load (a model re-exported under the same names must not come from the
    // cache), answered 304 when unchanged so the 14 MB runtime is not sent again.
    const stat = statSync(file);
    const modified = new Date(Math.floor(stat.mtimeMs / 1000) * 1000);
    const since = Date.parse(req.headers['if-modified-since'] ?? '');
    const headers = { 'Cache-Control': 'no-cache', 'Last-Modified': modified.toUTCString() };
    if (since >= modified.getTime()) {
      res.writeHead(304, headers).end();
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream', 'Content-Length': stat.size });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => fail(e.code === 'EADDRINUSE' ? new ZhuyiError(`serve: port ${o.port} on ${host} is in use: choose another with --port`) : e));
    server.listen(o.port ?? 0, host, ok);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    url: `http://${shown}:${port}/`,
    close: () => new Promise((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the browser explorer (npm run build:web) for an exported or trained model on localhost, and the Train tab (train built-in tasks in the page)')
    .argument('[dir]', 'a folder from `zhuyi export` (manifest.json), or a trained model folder (exported first into a cache folder); without it, only the Train tab')
    .addOption(new Option('--port <n>', 'port (0 = any free port)').default('8420'))
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--export-to <dir>', 'where to export a trained model folder (default: a cache folder under ~/.cache/zhuyi)')
    .action(async (dir: string | undefined, o: { port: string; host: string; exportTo?: string }) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ZhuyiError(`serve: --port: expected 0..65535, got '${o.port}'`);
      // Check the bundle before a possibly long export.
      if (!existsSync(join(WEB_DIST, 'index.html'))) throw new ZhuyiError(`serve: the explorer is not built (no ${join(WEB_DIST, 'index.html')}): run npm run build:web`);
      const modelDir = dir === undefined ? null : await exportedModelDir(dir, { ...(o.exportTo && { exportTo: o.exportTo }), log: (s) => console.log(s) });
      const running = await serveExplorer(modelDir, { port, host: o.host });
      console.log(dir === undefined ? `zhuyi Train tab: ${running.url}` : `zhuyi explorer for ${dir}: ${running.url} (Train tab: ${running.url}train.html)`);
      console.log('Ctrl-C stops it.');
      process.once('SIGINT', () => { void running.close().then(() => process.exit(130)); });
    });
}
