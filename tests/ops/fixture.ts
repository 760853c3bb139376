/** Reads tests/golden/ops.json and turns its records into tensors. */
import * as z from '../../src/index.js';
import type { DType, Tensor } from '../../src/index.js';
import { loadGolden } from '../helpers.js';

export interface TensorRecord { shape: number[]; dtype: 'float64' | 'int32' | 'bool'; data: (number | string)[] }
export interface CaseRecord { name: string; inputs: TensorRecord[]; output: TensorRecord; w?: TensorRecord; grads?: (TensorRecord | null)[] }

export const GOLDEN_OPS = loadGolden<{ torch: string; cases: CaseRecord[] }>('ops.json');

export function values(r: TensorRecord): number[] {
  return r.data.map((v) => (typeof v === 'string' ? Number(v) : v));
}

/** Builds the tensor of a record; float inputs take `floatType` (the suite runs in float64 and float32). */
export function fromRecord(r: TensorRecord, floatType: DType = 'float64', requiresGrad = false): Tensor {
  const dtype: DType = r.dtype === 'float64' ? floatType : r.dtype;
  return z.tensor(values(r), { dtype, shape: r.shape, requiresGrad: requiresGrad && r.dtype === 'float64' });
}
