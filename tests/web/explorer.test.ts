/**
 * The browser explorer end to end: a tiny Transformer trained on the reverse task and a tiny
 * masked-LM BERT are exported, `zhuyi serve` serves them, and Debian's Chromium (playwright-core)
 * types sentences into the page. The page must show what zhuyi itself computes: the same
 * translation, one heatmap cell per (output token, source token), the same fill-mask candidates.
 *
 * Page load time to the first result is measured and printed, not asserted (speed is measured, not
 * tested). Screenshots go to the temp folder; docs/img/explorer.png (the README's) is written when
 * missing or when UPDATE_DOCS_IMG=1.
 *
 * Without /usr/bin/chromium or playwright-core the browser tests skip with the reason printed.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { BertConfig, BertForMaskedLM, BertTokenizer, fillMask, manualSeed } from '../../src/index.js';
import { exportedModelDir, serveExplorer } from '../../src/cli/serve.js';
import { loadTokenizer } from '../../src/text/io.js';
import { trainTranslator } from '../../src/translate/translator.js';
import { ROOT } from '../helpers.js';
import { browserSkipReason, ensureWebBuild, launchChromium } from './browser.js';

const CLI = ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts')];
const DOCS_IMG = join(ROOT, 'docs', 'img');
const tmp = mkdtempSync(join(tmpdir(), 'zhuyi-web-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function zhuyi(args: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, ...env } });
  assert.equal(r.status, 0, `zhuyi ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** `zhuyi serve DIR --port 0` as a child process; resolves with the URL it prints. */
async function serve(dir: string, env: NodeJS.ProcessEnv = {}): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [...CLI, 'serve', dir, '--port', '0'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const url = await new Promise<string>((ok, fail) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/\S+)/.exec(out);
      if (m) ok(m[1]!);
    });
    child.once('exit', (code) => fail(new Error(`zhuyi serve exited (${code}) before printing its URL:\n${out}`)));
  });
  return { url, child };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  child.kill('SIGTERM');
  return exited;
}

/** Opens the page, waits for the first result; returns the load time the page measured and ours. */
async function open(page: Page, url: string): Promise<{ pageMs: number; wallMs: number }> {
  const t0 = performance.now();
  await page.goto(url);
  await page.waitForSelector('body[data-first-result-ms], body[data-error]', { timeout: 120_000 });
  const wallMs = performance.now() - t0;
  const error = await page.getAttribute('body', 'data-error');
  assert.equal(error, null, `the page could not load the model: ${error}`);
  return { pageMs: Number(await page.getAttribute('body', 'data-first-result-ms')), wallMs };
}

/** Types `text` into the input (replacing it) and waits until the page shows its result. */
async function type(page: Page, text: string): Promise<void> {
  await page.fill('#text', '');
  await page.type('#text', text, { delay: 5 });
  await page.waitForFunction((t) => document.body.dataset.resultText === t, text, { timeout: 60_000 });
}

/** Saves a screenshot in the temp folder; with `docs`, also as docs/img/NAME when missing (or UPDATE_DOCS_IMG=1). */
async function screenshot(page: Page, name: string, { docs: toDocs = false } = {}): Promise<void> {
  const shot = await page.screenshot({ path: join(tmp, name), fullPage: true });
  const docs = join(DOCS_IMG, name);
  if (!toDocs || (existsSync(docs) && process.env.UPDATE_DOCS_IMG !== '1')) return;
  mkdirSync(DOCS_IMG, { recursive: true });
  writeFileSync(docs, shot);
  assert.ok(statSync(docs).size < 200_000, `${docs}: ${statSync(docs).size} bytes, keep README images under 200 KB`);
}

/** The status of GET `path` sent as is (no URL normalisation). */
function rawStatus(base: string, path: string): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((ok, fail) => {
    httpGet({ host: hostname, port, path }, (res) => { res.resume(); ok(res.statusCode ?? 0); }).once('error', fail);
  });
}

describe('zhuyi serve', () => {
  test('errors: web/dist missing, a folder that is not a model', async () => {
    const model = join(tmp, 'fake-export');
    mkdirSync(model, { recursive: true });
    writeFileSync(join(model, 'manifest.json'), '{}');
    await assert.rejects(serveExplorer(model, { webDir: join(tmp, 'no-web') }), /run npm run build:web/);
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    await assert.rejects(exportedModelDir(empty), /not a model folder: expected manifest\.json/);
    await assert.rejects(exportedModelDir(join(tmp, 'absent')), /is not a folder/);
  });

  test('serves web/dist at / and the model at /model/, nothing outside them', async () => {
    const web = join(tmp, 'web');
    mkdirSync(web, { recursive: true });
    writeFileSync(join(web, 'index.html'), '<p>explorer</p>');
    writeFileSync(join(tmp, 'secret.txt'), 'no');
    const model = join(tmp, 'fake-export');
    const running = await serveExplorer(model, { webDir: web, port: 0 });
    try {
      const get = (p: string): Promise<Response> => fetch(new URL(p, running.url));
      assert.equal(await (await get('/')).text(), '<p>explorer</p>');
      const manifest = await get('/model/manifest.json');
      assert.equal(manifest.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.equal(await manifest.text(), '{}');
      // Raw paths: fetch would normalise the dots away before sending.
      for (const path of ['/../secret.txt', '/model/../secret.txt', '/model/..%2fsecret.txt', '/..%2f..%2fsecret.txt']) {
        assert.equal(await rawStatus(running.url, path), 404, path);
      }
      const again = await fetch(new URL('/model/manifest.json', running.url), { headers: { 'If-Modified-Since': manifest.headers.get('last-modified')! } });
      assert.equal(again.status, 304);
    } finally {
      await running.close();
    }
  });
});

describe('the explorer in Chromium', async () => {
  const skip = await browserSkipReason();
  let browser: Browser;
  before(async () => {
    if (skip) return;
    await ensureWebBuild();
    browser = await launchChromium();
  });
  after(async () => { await browser?.close(); });

  test('translation: the output zhuyi gives, one heatmap cell per output x source token', { skip: skip ?? false, timeout: 600_000 }, async () => {
    const model = join(tmp, 'reverse');
    // ~45 s on 2 cores; enough that short inputs come out reversed (what `zhuyi translate train` does, without its held-out eval).
    await trainTranslator({
      model: 'transformer', task: 'reverse', size: 'tiny', taskOptions: { train: 3000, valid: 50 }, validDecode: 20,
      maxSteps: 300, batchTokens: 512, lr: 5e-3, warmup: 30, seed: 1, progress: false, outDir: model,
    });
    // The trained folder itself: serve exports it into the cache folder first.
    const { url, child } = await serve(model, { XDG_CACHE_HOME: join(tmp, 'cache') });
    try {
      const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
      page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
      const first = 'a b c d e';
      const load = await open(page, `${url}?text=${encodeURIComponent(first)}`);
      console.log(`explorer (translation): first result ${load.pageMs} ms after navigation (page clock), ${load.wallMs.toFixed(0)} ms from goto (test clock)`);

      const source = loadTokenizer(join(model, 'source'));
      const target = loadTokenizer(join(model, 'target'));
      for (const sentence of [first, 'c a b', 'g f e d c b a']) {
        if (sentence !== first) await type(page, sentence);
        const expected = zhuyi(['translate', 'run', model, sentence]).trim();
        assert.equal((await page.textContent('#output'))?.trim(), expected, `translation of '${sentence}'`);
        const rows = Number(await page.getAttribute('#output', 'data-tokens'));
        const cells = await page.locator('#alignment .cell').count();
        assert.equal(rows, target.tokenize(expected).length, `output tokens of '${sentence}' (EOS not shown)`);
        assert.equal(cells, rows * source.encode(sentence).length, `heatmap cells for '${sentence}'`);
      }
      // The head selector: one head's map has the same cells.
      const cells = await page.locator('#alignment .cell').count();
      await page.selectOption('#alignment-head', '1');
      assert.match((await page.textContent('#alignment .caption')) ?? '', /layer 1, head 2/);
      assert.equal(await page.locator('#alignment .cell').count(), cells);
      await page.selectOption('#alignment-head', '-1');
      await screenshot(page, 'explorer.png', { docs: true });
    } finally {
      await stop(child);
    }
  });

  test('BERT masked LM: the fill-mask candidates zhuyi gives, head view and model view', { skip: skip ?? false, timeout: 600_000 }, async () => {
    const words = ['the', 'cat', 'dog', 'sat', 'on', 'mat', 'rug', 'a', 'ran', 'to', '.'];
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words];
    const hf = join(tmp, 'bert');
    manualSeed(3);
    const config = new BertConfig({ vocab_size: vocab.length, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 32, architectures: ['BertForMaskedLM'] });
    const mlm = new BertForMaskedLM(config);
    mlm.eval();
    await mlm.savePretrained(hf);
    const tokenizer = new BertTokenizer(vocab);
    tokenizer.savePretrained(hf);
    const exported = join(tmp, 'bert-onnx');
    zhuyi(['export', hf, '--onnx', exported]);
    const { url, child } = await serve(exported);
    try {
      const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
      page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
      const sentence = 'the cat sat on the [MASK] .';
      const load = await open(page, `${url}?text=${encodeURIComponent(sentence)}`);
      console.log(`explorer (BERT): first result ${load.pageMs} ms after navigation (page clock), ${load.wallMs.toFixed(0)} ms from goto (test clock)`);
      const expected = await fillMask(mlm, tokenizer, sentence, { topK: 5 });
      const shown = await page.locator('#fill-mask-0 li .label').allTextContents();
      assert.deepEqual(shown, expected[0]!.map((p) => p.token));

      const T = tokenizer.encode(sentence).inputIds.length;
      const H = 2;
      assert.equal(await page.locator('#head-view-map line').count(), H * T * T, 'head view: a line per head and token pair');
      assert.equal(await page.locator('#model-view button.thumb').count(), 2 * H, 'model view: a map per layer and head');
      // A model-view map opens its layer in the head view with only its head shown.
      await page.click('#model-view button.thumb[data-layer="1"][data-head="1"]');
      assert.equal(await page.inputValue('#head-view-layer'), '1');
      assert.equal(await page.locator('#head-view-map g.head[data-head="0"]').isVisible(), false);
      assert.equal(await page.locator('#head-view-map g.head[data-head="1"]').isVisible(), true);
      await type(page, 'a dog ran to the rug .');
      assert.equal(await page.locator('#fill-mask-0').count(), 0, 'no [MASK]: no predictions');
      await type(page, 'a [MASK] ran to the [MASK] .');
      const two = await fillMask(mlm, tokenizer, 'a [MASK] ran to the [MASK] .', { topK: 5 });
      assert.deepEqual(await page.locator('#fill-mask-1 li .label').allTextContents(), two[1]!.map((p) => p.token));
      await screenshot(page, 'explorer-bert.png');
    } finally {
      await stop(child);
    }
  });
});
