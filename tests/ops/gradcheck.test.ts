/**
 * Finite-difference gradient checks (float64, central differences) for every golden case with
 * gradients, on every backend under test: each vjp checked as mathematics, independent of PyTorch
 * (golden.test.ts compares the same gradients with PyTorch's).
 */
import { describe, test } from 'node:test';
import * as z from '../../src/index.js';
import { gradcheck } from '../helpers.js';
import { CASES, GRADCHECK_OPTIONS, NO_FINITE_DIFFERENCES } from './cases.js';
import { GOLDEN_OPS, fromRecord } from './fixture.js';
import { backendsUnderTest, onBackend } from './backends.js';

/**
 * ONNX Runtime runs float64 Erf through float32 (it has no float64 kernel), which makes erf and exact
 * gelu staircases at a 1e-6 step; a 1e-3 step with float32-sized tolerances still catches a wrong vjp.
 */
const ORT_FLOAT32_ERF: Readonly<Record<string, { eps: number; atol: number; rtol: number }>> = {
  erf: { eps: 1e-3, atol: 5e-4, rtol: 1e-3 },
  gelu: { eps: 1e-3, atol: 5e-4, rtol: 1e-3 },
  saturated: { eps: 1e-3, atol: 5e-4, rtol: 1e-3 },
};

for (const backend of backendsUnderTest()) {
  describe(`gradcheck (${backend} backend, float64)`, () => {
    for (const rec of GOLDEN_OPS.cases) {
      if (!rec.grads) continue;
      const skip = NO_FINITE_DIFFERENCES.get(rec.name) ?? false;
      test(rec.name, { skip }, () => onBackend(backend, async () => {
        const inputs = rec.inputs.map((r) => fromRecord(r, 'float64'));
        const floatIdx = inputs.map((t, i) => (t.dtype === 'float64' ? i : -1)).filter((i) => i >= 0);
        // Differentiate w.r.t. the float inputs; integer and bool inputs stay fixed.
        const f = (...xs: z.Tensor[]): z.Tensor => {
          const all = [...inputs];
          floatIdx.forEach((i, k) => { all[i] = xs[k]!; });
          return CASES[rec.name]!(...all);
        };
        await gradcheck(f, floatIdx.map((i) => inputs[i]!), { ...GRADCHECK_OPTIONS[rec.name], ...(backend === 'ort' ? ORT_FLOAT32_ERF[rec.name] : undefined), what: rec.name });
      }));
    }
  });
}
