/** Batched matrix multiplication with broadcasting batch dims (both inputs at least 2-D; functional.ts handles 1-D). */
import { type TypedArray, arrayFor } from '../tensor/dtype.js';
import { DTypeError, ShapeError, fmtShape } from '../tensor/errors.js';
import { broadcastShapes, broadcastStrides, numel } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import * as F from './functional.js';
import { defineOp } from './registry.js';
import { stridedOffsets } from './strided.js';

/**
 * C[m, n] = A[m, k] B[k, n] on contiguous row-major blocks. A and B are packed into panels of four
 * rows / four columns (k-major), then a 4x4 micro-kernel keeps sixteen accumulators in registers:
 * eight loads feed sixteen multiply-adds, and C is written once per block. Accumulation is in
 * double precision (JavaScript numbers), rounded once on store.
 */
export function gemm(a: TypedArray, aOff: number, b: TypedArray, bOff: number, c: TypedArray, cOff: number, M: number, K: number, N: number): void {
  const mb = Math.ceil(M / 4), nb = Math.ceil(N / 4);
  const ap = new Float64Array(mb * K * 4);
  const bp = new Float64Array(nb * K * 4);
  for (let i = 0; i < M; i++) {
    const base = (i >> 2) * K * 4 + (i & 3);
    const row = aOff + i * K;
    for (let k = 0; k < K; k++) ap[base + k * 4] = a[row + k]!;
  }
  for (let k = 0; k < K; k++) {
    const row = bOff + k * N;
    for (let j = 0; j < N; j++) bp[(j >> 2) * K * 4 + k * 4 + (j & 3)] = b[row + j]!;
  }
  for (let ib = 0; ib < mb; ib++) {
    const pa = ib * K * 4;
    for (let jb = 0; jb < nb; jb++) {
      const pb = jb * K * 4;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let k = 0; k < K; k++) {
        const x = pa + k * 4, y = pb + k * 4;
        const a0 = ap[x]!, a1 = ap[x + 1]!, a2 = ap[x + 2]!, a3 = ap[x + 3]!;
        const b0 = bp[y]!, b1 = bp[y + 1]!, b2 = bp[y + 2]!, b3 = bp[y + 3]!;
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
      }
      const i0 = ib * 4, j0 = jb * 4;
      if (i0 + 4 <= M && j0 + 4 <= N) {
        let o = cOff + i0 * N + j0;
        c[o] = c00; c[o + 1] = c01; c[o + 2] = c02; c[o + 3] = c03; o += N;
        c[o] = c10; c[o + 1] = c11; c[o + 2] = c12; c[o + 3] = c13; o += N;
        c[o] = c20; c[o + 1] = c21; c[o + 2] = c22; c[o + 3] = c23; o += N;
        c[o] = c30; c[o + 1] = c31; c[o + 2] = c32; c[o + 3] = c33;
        continue;
      }
      // Edge block: write only the rows and columns inside C.
      const block = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
      for (let r = 0; r < Math.min(4, M - i0); r++) {
        const o = cOff + (i0 + r) * N + j0;
        for (let t = 0; t < Math.min(4, N - j0); t++) c[o + t] = block[r * 4 + t]!;
      }
    }
  }
}

/** (..., K) -> (rows, K); the row count is spelled out, since -1 cannot be resolved when K is 0. */
function rows(x: Tensor): Tensor {
  const k = x.shape[x.ndim - 1]!;
  return F.reshape(x, [numel(x.shape.slice(0, -1)), k]);
}

defineOp({
  name: 'matmul',
  infer: ([a, b]) => {
    if (a!.dtype !== b!.dtype) throw new DTypeError(`matmul: dtypes differ: ${a!.dtype} and ${b!.dtype}`);
    if (a!.dtype === 'bool') throw new DTypeError('matmul: expects numeric tensors, got bool');
    const as = a!.shape, bs = b!.shape;
    if (as.length < 2 || bs.length < 2) throw new ShapeError(`matmul: op expects tensors of rank >= 2, got ${fmtShape(as)} @ ${fmtShape(bs)}`);
    if (as[as.length - 1] !== bs[bs.length - 2]) throw new ShapeError(`matmul: inner dimensions differ: ${fmtShape(as)} @ ${fmtShape(bs)}`);
    const batch = broadcastShapes('matmul', as.slice(0, -2), bs.slice(0, -2));
    return { shape: [...batch, as[as.length - 2]!, bs[bs.length - 1]!], dtype: a!.dtype };
  },
  kernel: ([a, b], [am, bm], _, out) => {
    const as = am!.shape, bs = bm!.shape;
    const M = as[as.length - 2]!, K = as[as.length - 1]!, N = bs[bs.length - 1]!;
    const batch = out.shape.slice(0, -2);
    const c = arrayFor(out.dtype, numel(out.shape));
    const aBatch = stridedOffsets(batch, broadcastStrides(as.slice(0, -2), batch));
    const bBatch = stridedOffsets(batch, broadcastStrides(bs.slice(0, -2), batch));
    for (let t = 0; t < aBatch.length; t++) gemm(a!, aBatch[t]! * M * K, b!, bBatch[t]! * K * N, c, t * M * N, M, K, N);
    return c;
  },
  vjp: ({ inputs: [a, b] }, g) => [
    F.sumTo(F.matmul(g, F.transpose(b!, -2, -1)), a!.shape),
    b!.ndim === 2 && a!.ndim > 2
      // A shared weight (x[..., K] @ W[K, N], every Linear layer): one GEMM over the flattened rows,
      // instead of a batch of per-slice products summed afterwards (batch x more memory and work).
      ? F.matmul(F.transpose(rows(a!), 0, 1), rows(g))
      : F.sumTo(F.matmul(F.transpose(a!, -2, -1), g), b!.shape),
  ],
  onnx: (b, n) => b.node('MatMul', n.inputs)[0]!,
});
