/** Batched matrix multiplication with broadcasting batch dims (both inputs at least 2-D; functional.ts handles 1-D). */
import { type TypedArray, arrayFor } from '../tensor/dtype.js';
import { DTypeError, ShapeError, fmtShape } from '../tensor/errors.js';
import { broadcastShapes, broadcastStrides, numel } from '../tensor/shape.js';
import * as F from './functional.js';
import { defineOp } from './registry.js';
import { stridedOffsets } from './strided.js';

/**
 * C[m, n] += A[m, k] B[k, n] on contiguous row-major blocks. Four rows of A at a time reuse each
 * loaded row of B four times; the inner loop runs over contiguous memory of B and C.
 */
export function gemm(a: TypedArray, aOff: number, b: TypedArray, bOff: number, c: TypedArray, cOff: number, M: number, K: number, N: number): void {
  const KB = 128; // k-block so the B panel (KB x N) stays in cache across the row blocks
  for (let k0 = 0; k0 < K; k0 += KB) {
    const k1 = Math.min(K, k0 + KB);
    let i = 0;
    for (; i + 4 <= M; i += 4) {
      const c0 = cOff + i * N, c1 = c0 + N, c2 = c1 + N, c3 = c2 + N;
      const a0 = aOff + i * K, a1 = a0 + K, a2 = a1 + K, a3 = a2 + K;
      for (let k = k0; k < k1; k++) {
        const x0 = a[a0 + k]!, x1 = a[a1 + k]!, x2 = a[a2 + k]!, x3 = a[a3 + k]!;
        const bk = bOff + k * N;
        for (let j = 0; j < N; j++) {
          const y = b[bk + j]!;
          c[c0 + j] += x0 * y;
          c[c1 + j] += x1 * y;
          c[c2 + j] += x2 * y;
          c[c3 + j] += x3 * y;
        }
      }
    }
    for (; i < M; i++) {
      const ci = cOff + i * N;
      const ai = aOff + i * K;
      for (let k = k0; k < k1; k++) {
        const x = a[ai + k]!;
        const bk = bOff + k * N;
        for (let j = 0; j < N; j++) c[ci + j] += x * b[bk + j]!;
      }
    }
  }
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
    F.sumTo(F.matmul(F.transpose(a!, -2, -1), g), b!.shape),
  ],
  onnx: (b, n) => b.node('MatMul', n.inputs)[0]!,
});
