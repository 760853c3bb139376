/**
 * Every golden case from PyTorch, forward and backward, on every backend, in float64 (tight
 * tolerances) and float32 (the dtype models use).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as z from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { CASES } from './cases.js';
import { GOLDEN_OPS, fromRecord, values } from './fixture.js';
import { backendsUnderTest } from './backends.js';

const TOL = {
  float64: { atol: 1e-9, rtol: 1e-7 },
  // float32 has ~7 significant digits; sums of a few products lose a little more.
  float32: { atol: 2e-5, rtol: 2e-5 },
};

for (const backend of backendsUnderTest()) {
  for (const floatType of ['float64', 'float32'] as const) {
    describe(`golden ops on ${backend} (${floatType})`, () => {
      for (const rec of GOLDEN_OPS.cases) {
        test(rec.name, async () => {
          const fn = CASES[rec.name];
          assert.ok(fn, `no zhuyi case for golden '${rec.name}' in tests/ops/cases.ts`);
          const prev = z.getBackend();
          z.setBackend(backend);
          try {
            const inputs = rec.inputs.map((r) => fromRecord(r, floatType, rec.grads !== undefined));
            const out = fn(...inputs);
            assert.deepEqual([...out.shape], rec.output.shape, `${rec.name}: output shape`);
            const expectedDType = rec.output.dtype === 'float64' ? floatType : rec.output.dtype;
            assert.equal(out.dtype, expectedDType, `${rec.name}: output dtype`);
            // ONNX Runtime's CPU Erf exists for float32 only; float64 erf runs through float32 there.
            const viaFloat32 = backend === 'ort' && floatType === 'float64' && ['erf', 'gelu'].includes(rec.name);
            const tol = viaFloat32 ? TOL.float32 : TOL[floatType];
            assertClose(await out.data(), values(rec.output), { ...tol, what: `${rec.name} output` });
            if (rec.grads && rec.w) {
              const w = fromRecord(rec.w, floatType);
              const withGrad = inputs.filter((t) => t.requiresGrad);
              const grads = z.grad(out.mul(w).sum(), withGrad);
              let k = 0;
              for (const g of rec.grads) {
                if (g === null) continue;
                assertClose(await grads[k++]!.data(), values(g), { ...tol, what: `${rec.name} grad of input ${k - 1}` });
              }
            }
          } finally {
            z.setBackend(prev);
          }
        });
      }
    });
  }
}
