/**
 * Runs zhuyi's browser entry inside Chromium for tests: a page module (TypeScript under tests/web/pages/)
 * is bundled with esbuild, for the browser platform, with every import of src/index.js redirected to
 * src/browser.ts (so helpers written for Node, such as tests/ops/cases.ts, run on the browser entry),
 * and served with onnxruntime-web's runtime files under /ort/ by a small local server that can send
 * the COOP/COEP headers (cross-origin isolation: WASM threads).
 *
 * The page module exports functions; `callPage(page, name, ...args)` calls one and returns its
 * JSON-serialisable result.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { ROOT } from '../helpers.js';

export const ORT_WEB_DIST = dirname(createRequire(join(ROOT, 'package.json')).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
const BROWSER_ENTRY = join(ROOT, 'src', 'browser.ts');
const NODE_ENTRY = join(ROOT, 'src', 'index.ts');

/** Bundles `entry` (a page module) for Chromium; throws on any Node built-in it reaches. */
export async function bundlePage(entry: string): Promise<string> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'silent',
    plugins: [{
      name: 'zhuyi-browser-entry',
      setup(b) {
        // src/index.js (the Node entry) -> src/browser.ts, from wherever it is imported.
        b.onResolve({ filter: /(^|\/)index\.js$/ }, (args) => {
          const target = resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
          return target === NODE_ENTRY ? { path: BROWSER_ENTRY } : undefined;
        });
        // tsx-style '.js' specifiers of TypeScript sources.
        b.onResolve({ filter: /^\.\.?\/.*\.js$/ }, (args) => {
          const ts = resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
          return existsSync(ts) ? { path: ts } : undefined;
        });
      },
    }],
  });
  return result.outputFiles[0]!.text;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };

export interface PageServer { url: string; close(): Promise<void> }

/**
 * Serves `/` (a page loading /page.js as a module and exposing its exports as window.zhuyiPage),
 * `/page.js` (the bundle) and `/ort/*` (onnxruntime-web's dist). With `isolated`, every response
 * carries COOP same-origin and COEP require-corp.
 */
export async function servePage(bundle: string, { isolated = false, files = {} as Record<string, Uint8Array | string> } = {}): Promise<PageServer> {
  const html = '<!doctype html><meta charset="utf-8"><body><script type="module">import * as m from "./page.js"; window.zhuyiPage = m; document.body.dataset.ready = "1";</script></body>';
  const server: Server = createServer((req, res) => {
    if (isolated) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    if (path === '/') { res.setHeader('Content-Type', 'text/html'); res.end(html); return; }
    if (path === '/page.js') { res.setHeader('Content-Type', 'text/javascript'); res.end(bundle); return; }
    if (path.slice(1) in files) { res.end(files[path.slice(1)]); return; }
    if (path.startsWith('/ort/')) {
      const file = join(ORT_WEB_DIST, path.slice(5));
      if (file.startsWith(ORT_WEB_DIST) && existsSync(file) && statSync(file).isFile()) {
        res.setHeader('Content-Type', TYPES[extname(file)] ?? 'application/octet-stream');
        createReadStream(file).pipe(res);
        return;
      }
    }
    res.statusCode = 404;
    res.end('not found');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((ok) => { server.closeAllConnections(); server.close(() => ok()); }) };
}

/** Opens the page and waits until its module has loaded (or failed to). */
export async function openPage(page: Page, url: string): Promise<void> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  try {
    await page.waitForSelector('body[data-ready]', { state: 'attached', timeout: 60_000 });
  } catch (e) {
    throw new Error(`the test page did not load: ${errors.join('; ') || (e as Error).message}`);
  }
}

/** Calls the page module's export `name` with JSON arguments; resolves with its result. */
export async function callPage<T>(page: Page, name: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(async ([fn, a]) => {
    const m = (window as unknown as { zhuyiPage: Record<string, (...x: unknown[]) => Promise<unknown>> }).zhuyiPage;
    if (typeof m[fn as string] !== 'function') throw new Error(`the page module has no export ${String(fn)}`);
    return m[fn as string]!(...(a as unknown[]));
  }, [name, args] as const) as Promise<T>;
}
