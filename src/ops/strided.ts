import type { Shape } from '../tensor/shape.js';
import { numel } from '../tensor/shape.js';

/**
 * Offsets of every element of an array of `shape` read through `strides` (row-major order of
 * `shape`), starting at `base`. The reference kernels express broadcasting, permutes, slices and
 * reductions as "read (or write) through these offsets": one readable mechanism, O(n) memory.
 */
export function stridedOffsets(shape: Shape, strides: readonly number[], base = 0): Int32Array {
  const n = numel(shape);
  const out = new Int32Array(n);
  const rank = shape.length;
  if (n === 0) return out;
  if (rank === 0) { out[0] = base; return out; }
  const inner = shape[rank - 1]!;
  const innerStride = strides[rank - 1]!;
  const counter = new Array<number>(rank).fill(0);
  let offset = base;
  for (let i = 0; i < n; i += inner) {
    for (let j = 0, o = offset; j < inner; j++, o += innerStride) out[i + j] = o;
    // Advance the counter over the outer dims (odometer).
    for (let d = rank - 2; d >= 0; d--) {
      counter[d]!++;
      offset += strides[d]!;
      if (counter[d]! < shape[d]!) break;
      offset -= strides[d]! * shape[d]!;
      counter[d] = 0;
    }
  }
  return out;
}

/** Splits a shape around `axis` into (outer, size, inner) for kernels that work along one axis. */
export function aroundAxis(shape: Shape, axis: number): [number, number, number] {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  return [outer, shape[axis]!, inner];
}
