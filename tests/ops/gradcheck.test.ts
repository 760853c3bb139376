/**
 * Finite-difference gradient checks (float64, central differences) for every golden case with
 * gradients, on the js backend: this checks each vjp as mathematics, independent of PyTorch. The
 * vjps run on every backend in golden.test.ts (compared with PyTorch's gradients there).
 */
import { describe, test } from 'node:test';
import * as z from '../../src/index.js';
import { gradcheck } from '../helpers.js';
import { CASES, GRADCHECK_OPTIONS, NO_FINITE_DIFFERENCES } from './cases.js';
import { GOLDEN_OPS, fromRecord } from './fixture.js';
import { onBackend } from './backends.js';

describe('gradcheck (js backend, float64)', () => {
  for (const rec of GOLDEN_OPS.cases) {
    if (!rec.grads) continue;
    const skip = NO_FINITE_DIFFERENCES.get(rec.name) ?? false;
    test(rec.name, { skip }, () => onBackend('js', async () => {
      const inputs = rec.inputs.map((r) => fromRecord(r, 'float64'));
      const floatIdx = inputs.map((t, i) => (t.dtype === 'float64' ? i : -1)).filter((i) => i >= 0);
      // Differentiate w.r.t. the float inputs; integer and bool inputs stay fixed.
      const f = (...xs: z.Tensor[]): z.Tensor => {
        const all = [...inputs];
        floatIdx.forEach((i, k) => { all[i] = xs[k]!; });
        return CASES[rec.name]!(...all);
      };
      await gradcheck(f, floatIdx.map((i) => inputs[i]!), { ...GRADCHECK_OPTIONS[rec.name], what: rec.name });
    }));
  }
});
