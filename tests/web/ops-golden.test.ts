/**
 * The op-golden suite (tests/golden/ops.json, PyTorch's values) inside Chromium, on zhuyi/browser's
 * default backend: ort on onnxruntime-web (WASM; this machine has no GPU adapter). Every case's
 * output and its gradients of sum(w * out), in float64 and float32, with the tolerances of
 * tests/ops/golden.test.ts for ort. The suite's graphs use every registered op, so every op with a
 * vjp is checked forward and backward (asserted below, so a new op without a golden case fails here).
 *
 * Without /usr/bin/chromium or playwright-core the test skips with the reason printed.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import * as z from '../../src/index.js';
import { CASES } from '../ops/cases.js';
import { GOLDEN_OPS, fromRecord, values } from '../ops/fixture.js';
import { ROOT, assertClose } from '../helpers.js';
import { browserSkipReason, launchChromium } from './browser.js';
import { type PageServer, bundlePage, callPage, openPage, servePage } from './harness.js';
import type { Computed } from './pages/ops.js';

type FloatType = 'float64' | 'float32';
const DEFAULT: Record<FloatType, { atol: number; rtol: number }> = { float64: { atol: 1e-9, rtol: 1e-7 }, float32: { atol: 2e-5, rtol: 2e-5 } };
/** As tests/ops/golden.test.ts for ort: ONNX Runtime's Erf is float32 only, so float64 erf and exact gelu are float32-accurate. */
// ONNX Runtime's Erf, GRU and LSTM have float32 kernels only: float64 runs through float32.
const tolerance = (name: string, floatType: FloatType) => (floatType === 'float64' && ['erf', 'gelu', 'saturated', 'gru_packed_bidirectional', 'lstm_packed_bidirectional'].includes(name) ? DEFAULT.float32 : DEFAULT[floatType]);

const skip = await browserSkipReason();

test('the golden cases use every registered op, so every op with a vjp is covered', () => {
  const seen = new Set<string>();
  for (const rec of GOLDEN_OPS.cases) {
    const inputs = rec.inputs.map((r) => fromRecord(r, 'float32', rec.grads !== undefined));
    const out = CASES[rec.name]!(...inputs);
    const withGrad = inputs.filter((t) => t.requiresGrad);
    const grads = rec.grads && rec.w && withGrad.length ? z.grad(out.mul(fromRecord(rec.w, 'float32')).sum(), withGrad) : [];
    for (const v of z.buildGraph([out, ...grads]).values) if (v.kind === 'op') seen.add(v.op);
  }
  const names = z.listOps().map((d) => (typeof d === 'string' ? d : (d as { name: string }).name));
  const withVjp = names.filter((n) => z.getOp(n).vjp !== 'nondiff');
  assert.ok(withVjp.length > 30, `expected the registry's differentiable ops, got ${withVjp.length}`);
  assert.deepEqual(withVjp.filter((n) => !seen.has(n)), [], 'ops with a vjp that no golden case reaches');
});

describe('op goldens in Chromium on zhuyi/browser (ort on onnxruntime-web)', { skip: skip ?? undefined }, () => {
  let browser: Browser;
  let page: Page;
  let server: PageServer;
  const results = new Map<FloatType, Map<string, Computed>>();
  const stats = new Map<FloatType, { runs: number; fallbacks: number }>();

  before(async () => {
    server = await servePage(await bundlePage(join(ROOT, 'tests', 'web', 'pages', 'ops.ts')));
    browser = await launchChromium();
    page = await browser.newPage();
    await openPage(page, server.url);
    assert.equal(await callPage<string>(page, 'backend'), 'ort', 'zhuyi/browser\'s default backend');
    for (const floatType of ['float64', 'float32'] as const) {
      const before = await callPage<{ ort: { runs: number; fallbacks: number } }>(page, 'runGoldens', [], floatType);
      const r = await callPage<{ computed: Computed[]; ort: { runs: number; fallbacks: number } }>(page, 'runGoldens', GOLDEN_OPS.cases, floatType);
      results.set(floatType, new Map(r.computed.map((c) => [c.name, c])));
      stats.set(floatType, { runs: r.ort.runs - before.ort.runs, fallbacks: r.ort.fallbacks - before.ort.fallbacks });
    }
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('the cases ran on ONNX Runtime (only zero-size cases on the js fallback)', () => {
    const zeroSize = GOLDEN_OPS.cases.filter((c) => c.inputs.some((r) => r.shape.includes(0)) || c.output.shape.includes(0)).length;
    for (const [floatType, s] of stats) {
      assert.ok(s.runs >= 1, `${floatType}: no ONNX Runtime run`);
      // A zero-size case realizes its output and then its gradients: two graphs each.
      assert.ok(s.fallbacks <= 2 * zeroSize, `${floatType}: ${s.fallbacks} graphs fell back to js (${zeroSize} cases have zero-size tensors)`);
    }
  });

  for (const floatType of ['float64', 'float32'] as const) {
    for (const rec of GOLDEN_OPS.cases) {
      test(`${rec.name} (${floatType})`, () => {
        const c = results.get(floatType)?.get(rec.name);
        assert.ok(c, `${rec.name}: not computed`);
        assert.equal(c.error, undefined, `${rec.name}: ${c.error}`);
        const tol = tolerance(rec.name, floatType);
        assert.deepEqual(c.shape, rec.output.shape, `${rec.name}: output shape`);
        assert.equal(c.dtype, rec.output.dtype === 'float64' ? floatType : rec.output.dtype, `${rec.name}: output dtype`);
        assertClose(c.data!, values(rec.output), { ...tol, what: `${rec.name} output` });
        if (!rec.grads) return;
        let k = 0;
        for (const [i, expected] of rec.grads.entries()) {
          if (rec.inputs[i]!.dtype !== 'float64') continue;
          const g = c.grads![k];
          const shape: number[] | undefined = c.gradShapes![k++];
          assert.ok(g, `${rec.name}: no gradient for input ${i}`);
          if (expected === null) {
            assert.ok(g.every((v) => v === 0), `${rec.name}: unused input ${i} has a nonzero gradient`);
            continue;
          }
          assert.deepEqual(shape, expected.shape, `${rec.name}: shape of the gradient of input ${i}`);
          assertClose(g, values(expected), { ...tol, what: `${rec.name} grad of input ${i}` });
        }
      });
    }
  }
});
