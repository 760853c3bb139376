/**
 * The isomorphic runner in Chromium (onnxruntime-web, WASM): beam search over an exported,
 * trained Transformer gives the tokens of zhuyi's own beam search (model.translate with beamSize 4),
 * and greedy decoding those of greedy search. The runner and onnxruntime-web are bundled with esbuild
 * and served with the export folder from a local HTTP server; skipped (and said so) without Chromium.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { after, test } from 'node:test';
import { Tensor } from '../../src/index.js';
import { exportOnnx } from '../../src/export/export.js';
import { translateWith } from '../../src/models/translate/common.js';
import { loadTranslator, trainTranslator } from '../../src/translate/translator.js';
import { ROOT } from '../helpers.js';
import { browserSkipReason, launchChromium } from '../web/browser.js';

const root = mkdtempSync(join(tmpdir(), 'zhuyi-export-browser-'));
after(() => rmSync(root, { recursive: true, force: true }));

const WORDS = ['red', 'green', 'blue', 'cat', 'dog', 'sun', 'big'];
const SENTENCES = ['red cat dog', 'big sun blue green', 'dog', 'green green cat'];
const ORT_DIST = dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));

const ENTRY = `
import * as ort from 'onnxruntime-web/wasm';
import { loadExport } from '${join(ROOT, 'src/export/runner.ts')}';
ort.env.wasm.wasmPaths = new URL('/ort/', location.href).href;
ort.env.wasm.numThreads = 1;
window.translateAll = async (sentences, beamSize) => {
  const model = await loadExport({
    Tensor: ort.Tensor,
    createSession: (bytes) => ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] }),
    loadFile: async (name) => new Uint8Array(await (await fetch('/model/' + name)).arrayBuffer()),
  });
  const out = [];
  for (const s of sentences) out.push((await model.translate(s, { beamSize })).ids);
  return out;
};
`;

test('Chromium: loadExport beam search (beamSize 4) and greedy == zhuyi\'s on a trained Transformer', { timeout: 600_000 }, async (t) => {
  const skip = await browserSkipReason();
  if (skip) { t.skip(skip); return; }
  const lines = Array.from({ length: 60 }, (_, i) => {
    const w = Array.from({ length: 2 + (i % 4) }, (_, k) => WORDS[(i * 7 + k * 3) % WORDS.length]!);
    return `${w.join(' ')}\t${[...w].reverse().map((x) => x.toUpperCase()).join(' ')}`;
  });
  writeFileSync(join(root, 'data.tsv'), `${lines.join('\n')}\n`);
  const dir = join(root, 'model');
  await trainTranslator({
    model: 'transformer', size: 'tiny', train: join(root, 'data.tsv'), valid: join(root, 'data.tsv'), outDir: dir,
    epochs: 12, batchTokens: 128, lr: 3e-3, seed: 3, validDecode: 4, progress: false,
  });
  const out = join(root, 'onnx');
  await exportOnnx(dir, out);
  const translator = await loadTranslator(dir);
  const want = async (beamSize: number): Promise<number[][]> => Promise.all(SENTENCES.map(async (s) => {
    const ids = translator.source.encode(s);
    const [h] = await translateWith(translator.model, Tensor.fromBuffer(Int32Array.from(ids), [1, ids.length]), [ids.length], { maxLength: 2 * ids.length + 10, maxLengthRatio: 2, maxLengthOffset: 10, beamSize });
    return h!.tokens;
  }));

  const { build } = await import('esbuild');
  const bundle = await build({ stdin: { contents: ENTRY, resolveDir: ROOT, loader: 'js' }, bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent' });
  const files: Record<string, [string, Buffer | string]> = {
    '/': ['text/html', '<!doctype html><script type="module" src="/bundle.js"></script>'],
    '/bundle.js': ['text/javascript', bundle.outputFiles[0]!.text],
  };
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let body = files[path];
    if (!body && path.startsWith('/ort/')) body = [path.endsWith('.wasm') ? 'application/wasm' : 'text/javascript', readFileSync(join(ORT_DIST, normalize(path.slice(5))))];
    if (!body && path.startsWith('/model/')) body = ['application/octet-stream', readFileSync(join(out, normalize(path.slice(7))))];
    if (!body) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'Content-Type': body[0] }).end(body[1]);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
    await page.waitForFunction(() => 'translateAll' in window);
    const run = (beamSize: number): Promise<number[][]> => page.evaluate(([s, k]) => (window as unknown as { translateAll(s: string[], k: number): Promise<number[][]> }).translateAll(s, k), [SENTENCES, beamSize] as const);
    const beam = await run(4);
    assert.deepEqual(beam, await want(4));
    assert.ok(beam.filter((ids) => ids.length > 0).length >= 2, 'the trained model emits tokens');
    assert.deepEqual(await run(1), await want(1));
  } finally {
    await browser.close();
    server.close();
  }
});
