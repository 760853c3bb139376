/** Finite-difference gradient checks (float64, central differences) for every golden case with gradients. */
import { describe, test } from 'node:test';
import * as z from '../../src/index.js';
import { gradcheck } from '../helpers.js';
import { CASES } from './cases.js';
import { GOLDEN_OPS, fromRecord } from './fixture.js';

describe('gradcheck (js backend, float64)', () => {
  for (const rec of GOLDEN_OPS.cases) {
    if (!rec.grads) continue;
    // At a tie the function has a kink: finite differences measure neither side's derivative. The
    // tie-splitting rule itself is checked against PyTorch's gradients in golden.test.ts.
    const skip = ['maximum_ties', 'amax_ties', 'max_all_ties'].includes(rec.name) ? 'a tie is a kink; checked against PyTorch in golden.test.ts' : false;
    test(rec.name, { skip }, async () => {
      const prev = z.getBackend();
      z.setBackend('js');
      try {
        const inputs = rec.inputs.map((r) => fromRecord(r, 'float64'));
        const floatIdx = inputs.map((t, i) => (t.dtype === 'float64' ? i : -1)).filter((i) => i >= 0);
        // Differentiate w.r.t. the float inputs; integer and bool inputs stay fixed.
        const f = (...xs: z.Tensor[]): z.Tensor => {
          const all = [...inputs];
          floatIdx.forEach((i, k) => { all[i] = xs[k]!; });
          return CASES[rec.name]!(...all);
        };
        await gradcheck(f, floatIdx.map((i) => inputs[i]!), { what: rec.name });
      } finally {
        z.setBackend(prev);
      }
    });
  }
});
