/**
 * Page module (bundled by tests/web/harness.ts): the op-golden cases of tests/ops/cases.ts, built
 * with zhuyi/browser and realized on its default backend (ort on onnxruntime-web), outputs and
 * gradients of sum(w * out) returned for the Node side to compare with PyTorch's values.
 */
import { env } from 'onnxruntime-web';
import * as z from '../../../src/browser.js';
import type { Tensor } from '../../../src/browser.js';
import { CASES } from '../../ops/cases.js';
import type { CaseRecord, TensorRecord } from '../../ops/fixture.js';

env.wasm.wasmPaths = new URL('/ort/', location.href).href;

export interface Computed { name: string; shape?: number[]; dtype?: string; data?: number[]; grads?: number[][]; gradShapes?: number[][]; error?: string }

function fromRecord(r: TensorRecord, floatType: 'float64' | 'float32', requiresGrad = false): Tensor {
  const dtype = r.dtype === 'float64' ? floatType : r.dtype;
  return z.tensor(r.data.map((v) => (typeof v === 'string' ? Number(v) : v)), { dtype, shape: r.shape, requiresGrad: requiresGrad && r.dtype === 'float64' });
}

export function backend(): string {
  return z.getBackend();
}

export async function runGoldens(records: CaseRecord[], floatType: 'float64' | 'float32'): Promise<{ computed: Computed[]; ort: unknown }> {
  const built = records.map((rec) => {
    try {
      const inputs = rec.inputs.map((r) => fromRecord(r, floatType, rec.grads !== undefined));
      const out = CASES[rec.name]!(...inputs);
      const withGrad = inputs.filter((t) => t.requiresGrad);
      const grads = rec.grads && rec.w && withGrad.length ? z.grad(out.mul(fromRecord(rec.w, floatType)).sum(), withGrad) : [];
      return { rec, out, grads };
    } catch (e) {
      return { rec, error: (e as Error).message };
    }
  });
  // One realize for all cases (one session), as tests/ops/golden.test.ts does, except the cases
  // with a zero-size tensor: the ort backend hands any graph holding one to the js backend, so they
  // realize apart and the rest really runs on ONNX Runtime. Case by case if the big realize fails.
  const zeroSize = (b: (typeof built)[number]): boolean => 'out' in b && [b.out!, ...b.grads!].some((t) => t.shape.includes(0)) || b.rec.inputs.some((r) => r.shape.includes(0));
  try {
    await z.realize(...built.flatMap((b) => ('out' in b && !zeroSize(b) ? [b.out!, ...b.grads!] : [])));
  } catch { /* each case realizes alone below */ }
  const computed: Computed[] = [];
  for (const b of built) {
    if (!('out' in b)) { computed.push({ name: b.rec.name, error: b.error }); continue; }
    try {
      computed.push({
        name: b.rec.name, shape: [...b.out!.shape], dtype: b.out!.dtype, data: Array.from(await b.out!.data()),
        grads: await Promise.all(b.grads!.map(async (g) => Array.from(await g.data()))), gradShapes: b.grads!.map((g) => [...g.shape]),
      });
    } catch (e) {
      computed.push({ name: b.rec.name, error: (e as Error).message });
    }
  }
  return { computed, ort: z.ortStats() };
}
