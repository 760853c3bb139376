/**
 * Every golden case from PyTorch (tests/golden/ops.json), forward and backward, on every backend
 * under test, in float64 (tight tolerances: any real kernel or vjp bug shows) and float32 (the
 * dtype models use). Gradients are of sum(w * out) with PyTorch's recorded w.
 *
 * Per backend and dtype, all cases are built first and realized in ONE call (one ONNX session on
 * ort instead of hundreds; the cases are independent subgraphs of it). If that call fails, each
 * case is realized on its own, so the failure lands on the case that causes it. Cases with a
 * zero-size value are realized on their own: the ort backend hands any graph holding one to the
 * reference kernels, and in the shared call it would take every other case with it.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as z from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { CASES } from './cases.js';
import { type CaseRecord, GOLDEN_OPS, fromRecord, values } from './fixture.js';
import { backendsUnderTest, onBackend } from './backends.js';

interface Tolerance { atol: number; rtol: number }
type FloatType = 'float64' | 'float32';

/**
 * Tolerances per float dtype, with the per-op exceptions and their reason. Everything not listed
 * (elementwise, reductions, softmax, layer norm, matmul at these sizes, movement, indexing) meets
 * the default: float64 agrees with PyTorch to ~1e-12, float32 to a few roundings of the sums involved.
 */
const DEFAULT: Record<FloatType, Tolerance> = {
  float64: { atol: 1e-9, rtol: 1e-7 },
  // float32 inputs are PyTorch's float64 inputs rounded (~6e-8 relative), then a few roundings in sums.
  float32: { atol: 2e-5, rtol: 2e-5 },
};

function tolerance(name: string, backend: string, floatType: FloatType): Tolerance {
  // ONNX Runtime's CPU Erf has a float32 kernel only: float64 erf (and exact gelu) runs through float32.
  // So do its GRU and LSTM.
  if (backend === 'ort' && floatType === 'float64' && ['erf', 'gelu', 'saturated', 'gru_packed_bidirectional', 'lstm_packed_bidirectional'].includes(name)) return DEFAULT.float32;
  return DEFAULT[floatType];
}

/** One case built lazily: its inputs, output and the gradients of sum(w * out) w.r.t. its float inputs. */
interface Built { inputs: Tensor[]; out: Tensor; grads: Tensor[] }

function build(rec: CaseRecord, floatType: FloatType): Built {
  const fn = CASES[rec.name];
  assert.ok(fn, `no zhuyi case for golden '${rec.name}' in tests/ops/cases.ts`);
  const inputs = rec.inputs.map((r) => fromRecord(r, floatType, rec.grads !== undefined));
  const out = fn(...inputs);
  const withGrad = inputs.filter((t) => t.requiresGrad);
  const grads = rec.grads && rec.w && withGrad.length ? z.grad(out.mul(fromRecord(rec.w, floatType)).sum(), withGrad) : [];
  return { inputs, out, grads };
}

async function check(rec: CaseRecord, { inputs, out, grads }: Built, tol: Tolerance, floatType: FloatType): Promise<void> {
  assert.deepEqual([...out.shape], rec.output.shape, `${rec.name}: output shape`);
  const expectedDType = rec.output.dtype === 'float64' ? floatType : rec.output.dtype;
  assert.equal(out.dtype, expectedDType, `${rec.name}: output dtype`);
  assertClose(await out.data(), values(rec.output), { ...tol, what: `${rec.name} output` });
  if (!rec.grads) return;
  let k = 0;
  for (const [i, expected] of rec.grads.entries()) {
    if (!inputs[i]!.requiresGrad) continue;
    const g = grads[k++]!;
    // PyTorch gives None for an input the output does not use; zhuyi gives zeros.
    if (expected === null) {
      assert.ok([...await g.data()].every((v) => v === 0), `${rec.name}: unused input ${i} has a nonzero gradient`);
      continue;
    }
    assert.deepEqual([...g.shape], expected.shape, `${rec.name}: shape of the gradient of input ${i}`);
    assertClose(await g.data(), values(expected), { ...tol, what: `${rec.name} grad of input ${i}` });
  }
}

for (const backend of backendsUnderTest()) {
  for (const floatType of ['float64', 'float32'] as const) {
    describe(`golden ops on ${backend} (${floatType})`, () => {
      const built = new Map<string, Built | Error>();
      const shared = { fallbacks: -1, runs: -1 };
      before(() => onBackend(backend, async () => {
        for (const rec of GOLDEN_OPS.cases) {
          try { built.set(rec.name, build(rec, floatType)); } catch (e) { built.set(rec.name, e as Error); }
        }
        const ok = [...built.values()].filter((b): b is Built => !(b instanceof Error)).map((b) => [b.out, ...b.grads]);
        const empty = (ts: Tensor[]): boolean => z.buildGraph(ts).values.some((v) => v.meta.shape.includes(0));
        const targets = ok.filter((ts) => !empty(ts)).flat();
        try {
          const before = z.ortStats();
          await z.realize(...targets);
          const after = z.ortStats();
          Object.assign(shared, { fallbacks: after.fallbacks - before.fallbacks, runs: after.runs - before.runs });
        } catch (e) {
          // The tensors stay lazy and each test realizes its own case, so the failure lands on its case.
          console.log(`# golden ops on ${backend} (${floatType}): one realize of all cases failed (${(e as Error).message}); realizing case by case`);
        }
      }));
      if (backend === 'ort') {
        test('the shared realize ran on ONNX Runtime, not on the reference fallback', () => {
          assert.equal(shared.fallbacks, 0, 'the shared realize fell back to the js kernels');
          assert.ok(shared.runs >= 1, `ONNX Runtime runs: ${shared.runs}`);
        });
      }
      for (const rec of GOLDEN_OPS.cases) {
        test(rec.name, () => onBackend(backend, async () => {
          const b = built.get(rec.name);
          if (b === undefined || b instanceof Error) throw b ?? new Error(`${rec.name}: not built`);
          await check(rec, b, tolerance(rec.name, backend, floatType), floatType);
        }));
      }
    });
  }
}

test('every golden case has a zhuyi counterpart and every counterpart a golden case', () => {
  const golden = new Set(GOLDEN_OPS.cases.map((c) => c.name));
  assert.deepEqual(Object.keys(CASES).filter((n) => !golden.has(n)), [], 'cases.ts names without a fixture (regenerate tests/golden/ops.json)');
  assert.deepEqual([...golden].filter((n) => !(n in CASES)), [], 'fixture cases without a zhuyi function in cases.ts');
});
