/**
 * zhuyi/browser as a user gets it: `npm pack` the package, unpack the tarball into a fresh project
 * outside the repository, write a 20-line page that imports 'zhuyi/browser' and trains a small MLP,
 * build it with Vite (no zhuyi-specific configuration: onnxruntime-web's runtime is found and
 * emitted by Vite itself), and run it in Chromium. The project's other packages (vite,
 * onnxruntime-web and zhuyi's own dependencies) are links to this repository's node_modules, so the
 * test needs no network.
 *
 * Without /usr/bin/chromium or playwright-core the test skips with the reason printed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { ROOT } from '../helpers.js';
import { browserSkipReason, launchChromium } from './browser.js';

const skip = await browserSkipReason();
const tmp = mkdtempSync(join(tmpdir(), 'zhuyi-consumer-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The page: an MLP learns y = sin(x0) + x1^2 on 64 points; the loss before and after 60 Adam steps lands in the body's dataset. */
const MAIN_JS = `import * as z from 'zhuyi/browser';

z.manualSeed(0);
const x = z.rand(64, 2).mul(4).sub(2);
const y = x.narrow(1, 0, 1).sin().add(x.narrow(1, 1, 1).pow(2));
class Mlp extends z.Module {
  fc1 = new z.Linear(2, 32);
  fc2 = new z.Linear(32, 1);
  forward(t) { return this.fc2.forward(this.fc1.forward(t).tanh()); }
}
const model = new Mlp();
const optimizer = new z.optim.Adam(model.parameters(), { lr: 0.03 });
const losses = [];
for (let step = 0; step < 60; step++) {
  const loss = z.mseLoss(model.forward(x), y);
  optimizer.zeroGrad();
  loss.backward();
  await optimizer.step(loss);
  losses.push(await loss.item());
}
Object.assign(document.body.dataset, { backend: z.getBackend(), first: losses[0], last: losses.at(-1), done: '1' });
`;

const INDEX_HTML = '<!doctype html><meta charset="utf-8"><title>zhuyi consumer</title><body><script type="module" src="./main.js"></script></body>\n';

test('a Vite page importing zhuyi/browser from the packed tarball trains an MLP in Chromium', { skip: skip ?? undefined, timeout: 900_000 }, async () => {
  // 1. The tarball, as npm publishes it (npm pack runs `prepare`: the TypeScript build).
  const pack = spawnSync('npm', ['pack', '--pack-destination', tmp, '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  assert.equal(pack.status, 0, `npm pack failed:\n${pack.stderr}`);
  const [{ filename, files }] = JSON.parse(pack.stdout) as [{ filename: string; files: { path: string }[] }];
  for (const f of ['dist/browser.js', 'dist/browser.d.ts', 'dist/backends/ort/web.js']) assert.ok(files.some((x) => x.path === f), `the tarball lacks ${f}`);

  // 2. A fresh project: zhuyi unpacked from the tarball; every other package linked from this repository.
  const app = join(tmp, 'app');
  const modules = join(app, 'node_modules');
  mkdirSync(join(modules, 'zhuyi'), { recursive: true });
  const untar = spawnSync('tar', ['xzf', join(tmp, filename), '-C', join(modules, 'zhuyi'), '--strip-components=1'], { encoding: 'utf8' });
  assert.equal(untar.status, 0, untar.stderr);
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name === 'zhuyi' || name.startsWith('.')) continue;
    symlinkSync(join(ROOT, 'node_modules', name), join(modules, name));
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { zhuyi: `file:../${filename}`, 'onnxruntime-web': '^1.30.0' } }, null, 2));
  writeFileSync(join(app, 'index.html'), INDEX_HTML);
  writeFileSync(join(app, 'main.js'), MAIN_JS);
  assert.ok(MAIN_JS.trim().split('\n').length <= 22, 'the page stays about 20 lines');

  // 3. Vite's production build, default settings (top-level await needs es2022).
  const { build } = await import('vite');
  await build({ root: app, logLevel: 'warn', configFile: false, build: { outDir: join(app, 'dist'), target: 'es2022' } });
  const dist = join(app, 'dist');
  assert.ok(readdirSync(join(dist, 'assets')).some((f) => f.endsWith('.wasm')), 'Vite emitted onnxruntime-web\'s .wasm');

  // 4. Served as static files, run in Chromium.
  const server = createServer((req, res) => {
    const path = resolve(dist, `.${decodeURIComponent((req.url ?? '/').split('?')[0]!)}`);
    const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'index.html') : path;
    if (!file.startsWith(dist) || !existsSync(file)) { res.writeHead(404).end(); return; }
    res.setHeader('Content-Type', { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.mjs': 'text/javascript' }[extname(file)] ?? 'application/octet-stream');
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForSelector('body[data-done]', { state: 'attached', timeout: 300_000 }).catch(() => assert.fail(`the page did not finish: ${errors.join('; ')}`));
    const d = await page.evaluate(() => ({ ...document.body.dataset }));
    assert.equal(d.backend, 'ort');
    const first = Number(d.first);
    const last = Number(d.last);
    console.log(`consumer page: MSE ${first.toFixed(4)} -> ${last.toFixed(4)} in 60 Adam steps on onnxruntime-web`);
    assert.ok(Number.isFinite(first) && last < first / 10, `the MLP did not learn: loss ${first} -> ${last}`);
  } finally {
    await browser.close();
    server.closeAllConnections();
    server.close();
  }
});
