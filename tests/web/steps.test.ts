/**
 * Same numbers everywhere: one Transformer training step (AdamW, dropout, label smoothing, gradient
 * clipping) and one BERT fine-tuning step (AdamW, weight decay, a padded row), run in Node on
 * onnxruntime-node and in Chromium on zhuyi/browser (onnxruntime-web, WASM), from the same seed and
 * data (tests/web/pages/steps.ts, one source for both), agree to 1e-5 in the loss and in every
 * parameter after the step. The BERT model is loaded from its HF folder's files (bytes) on both
 * sides, and the folder the page zips (hfFolderZip) reads back in Node as the same model. Greedy
 * decoding of the three ladder models (untrained, fixed seed) gives the same tokens on both sides.
 *
 * Without /usr/bin/chromium or playwright-core the test skips with the reason printed.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import * as z from '../../src/index.js';
import { ZipReader } from '../../src/io/zip.js';
import { ROOT, assertClose } from '../helpers.js';
import { browserSkipReason, launchChromium } from './browser.js';
import { type PageServer, bundlePage, callPage, openPage, servePage } from './harness.js';
import { type StepResult, bertStep, transformerStep } from './pages/steps.js';
import { decodeAll } from './pages/decode.js';

const skip = await browserSkipReason();
const TOL = { atol: 1e-5, rtol: 0 };

/**
 * The key bias of attention gets a gradient that is zero in exact arithmetic (softmax is unchanged
 * by adding the same number to every score of a row), so in float32 it is rounding noise (~1e-10)
 * of either sign, and Adam's first step maps any such g to -lr g / (|g| + eps): anywhere in
 * (-lr, lr), on any machine, PyTorch included. Those entries are checked to stay within lr of their
 * initial 0 instead of to 1e-5: `keyBias(name)` gives their index range, if `name` has one.
 */
type KeyBias = (name: string) => [number, number] | null;

function compare(node: StepResult, page: StepResult, what: string, keyBias: KeyBias = () => null, lr = 0): void {
  assert.equal(node.backend, 'ort');
  assert.equal(page.backend, 'ort');
  assert.ok(Number.isFinite(node.loss) && node.loss > 0, `${what}: Node's loss ${node.loss}`);
  assert.ok(Math.abs(node.loss - page.loss) <= 1e-5, `${what}: loss ${page.loss} in Chromium vs ${node.loss} in Node`);
  assert.deepEqual(Object.keys(page.params), Object.keys(node.params), `${what}: parameter names`);
  let moved = 0;
  for (const [name, values] of Object.entries(node.params)) {
    const range = keyBias(name);
    if (range) {
      const [from, to] = range;
      for (let i = from; i < to; i++) {
        assert.ok(Math.abs(values[i]!) < lr && Math.abs(page.params[name]![i]!) < lr, `${what} ${name}[${i}]: a key bias moved by lr or more (${values[i]} in Node, ${page.params[name]![i]} in Chromium)`);
      }
      assertClose([...page.params[name]!.slice(0, from), ...page.params[name]!.slice(to)], [...values.slice(0, from), ...values.slice(to)], { ...TOL, what: `${what} ${name} (query and value biases)` });
    } else assertClose(page.params[name]!, values, { ...TOL, what: `${what} ${name}` });
    if (values.some((v, i) => v !== page.params[name]![i])) moved++;
  }
  console.log(`${what}: loss ${node.loss} (Node) vs ${page.loss} (Chromium); ${moved} of ${Object.keys(node.params).length} parameters not bit-identical, all within 1e-5`);
}

describe('a training step in Chromium equals the same step in Node', { skip: skip ?? undefined }, () => {
  let browser: Browser;
  let page: Page;
  let server: PageServer;
  before(async () => {
    server = await servePage(await bundlePage(join(ROOT, 'tests', 'web', 'pages', 'steps-page.ts')));
    browser = await launchChromium();
    page = await browser.newPage();
    await openPage(page, server.url);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('Transformer translation step (AdamW, dropout, label smoothing, clipping)', async () => {
    const node = await transformerStep(0);
    const inPage = await callPage<StepResult>(page, 'transformerStep', 0);
    // in_proj_bias is [query (32), key (32), value (32)] for dModel 32.
    compare(node, inPage, 'Transformer step', (name) => (name.endsWith('in_proj_bias') ? [32, 64] : null), 1e-3);
    // A different seed gives a different step: the comparison is not vacuous.
    const other = await transformerStep(1);
    assert.notEqual(other.loss, node.loss);
  });

  test('BERT fine-tuning step (sequence classification, AdamW); the page\'s zipped HF folder loads in Node', async () => {
    const node = await bertStep(0);
    const inPage = await callPage<StepResult>(page, 'bertStep', 0);
    compare(node, inPage, 'BERT step');
    const zip = new ZipReader(Uint8Array.from(inPage.zip!), 'page.zip');
    assert.deepEqual([...zip.entries.keys()].sort(), ['config.json', 'model.safetensors']);
    const files = new Map([...zip.entries.keys()].map((k) => [k, zip.read(k)]));
    const loaded = await z.BertForSequenceClassification.fromPretrained(files, { warn: () => {} });
    for (const [name, t] of Object.entries(loaded.stateDict())) assertClose(await t.data(), inPage.params[name]!, { atol: 0, rtol: 0, what: `zipped ${name}` });
  });

  test('greedy decoding of the three ladder models gives the same tokens in Chromium and Node', async () => {
    const node = await decodeAll();
    const inPage = await callPage<Record<string, number[][]>>(page, 'decodeAll');
    assert.deepEqual(Object.keys(node), ['seq2seq', 'attention', 'transformer']);
    assert.deepEqual(inPage, node);
  });
});
