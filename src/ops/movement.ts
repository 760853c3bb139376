/** Movement ops: reshape, permute, expand, slice, concat, pad. They move values, never change them. */
import { arrayFor, castScalar } from '../tensor/dtype.js';
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../tensor/errors.js';
import { broadcastStrides, numel, stridesOf } from '../tensor/shape.js';
import * as F from './functional.js';
import { type Attrs, defineOp } from './registry.js';
import { stridedOffsets } from './strided.js';

export interface ReshapeAttrs extends Attrs { shape: number[] }

defineOp<ReshapeAttrs>({
  name: 'reshape',
  infer: ([x], a) => {
    if (numel(a.shape) !== numel(x!.shape)) throw new ShapeError(`reshape: cannot reshape ${fmtShape(x!.shape)} (${numel(x!.shape)} elements) into ${fmtShape(a.shape)}`);
    return { shape: a.shape, dtype: x!.dtype };
  },
  kernel: ([x]) => x!.slice(),
  vjp: ({ inputs: [x] }, g) => [F.reshape(g, [...x!.shape])],
  onnx: (b, n) => b.node('Reshape', [n.inputs[0]!, b.reshapeTarget(n.inMetas[0]!.shape, n.attrs.shape)])[0]!,
});

export interface PermuteAttrs extends Attrs { perm: number[] }

defineOp<PermuteAttrs>({
  name: 'permute',
  infer: ([x], a) => {
    const r = x!.shape.length;
    const sorted = [...a.perm].sort((p, q) => p - q);
    if (a.perm.length !== r || sorted.some((v, i) => v !== i)) {
      throw new ArgumentError(`permute: ${JSON.stringify(a.perm)} is not a permutation of the ${r} dims of ${fmtShape(x!.shape)}`);
    }
    return { shape: a.perm.map((p) => x!.shape[p]!), dtype: x!.dtype };
  },
  kernel: ([x], [m], a, out) => {
    const st = stridesOf(m!.shape);
    const off = stridedOffsets(out.shape, a.perm.map((p) => st[p]!));
    const res = arrayFor(out.dtype, off.length);
    for (let i = 0; i < off.length; i++) res[i] = x![off[i]!]!;
    return res;
  },
  vjp: ({ attrs }, g) => {
    const inv = new Array<number>(attrs.perm.length);
    attrs.perm.forEach((p, i) => { inv[p] = i; });
    return [F.permute(g, inv)];
  },
  onnx: (b, n) => b.node('Transpose', n.inputs, { perm: n.attrs.perm })[0]!,
});

export interface ExpandAttrs extends Attrs { shape: number[] }

defineOp<ExpandAttrs>({
  name: 'expand',
  infer: ([x], a) => {
    const xs = x!.shape;
    const lead = a.shape.length - xs.length;
    const ok = lead >= 0 && xs.every((d, i) => d === a.shape[i + lead] || d === 1);
    if (!ok) throw new ShapeError(`expand: cannot expand ${fmtShape(xs)} to ${fmtShape(a.shape)} (only size-1 dims expand; new dims go in front)`);
    return { shape: a.shape, dtype: x!.dtype };
  },
  kernel: ([x], [m], _, out) => {
    const off = stridedOffsets(out.shape, broadcastStrides(m!.shape, out.shape));
    const res = arrayFor(out.dtype, off.length);
    for (let i = 0; i < off.length; i++) res[i] = x![off[i]!]!;
    return res;
  },
  vjp: ({ inputs: [x] }, g) => [F.sumTo(g, x!.shape)],
  onnx: (b, n) => b.node('Expand', [n.inputs[0]!, b.sizes(n.attrs.shape)])[0]!,
});

/** Contiguous slice: per axis [start, end) with step 1 (negative indices resolved by the front end). */
export interface SliceAttrs extends Attrs { starts: number[]; ends: number[] }

defineOp<SliceAttrs>({
  name: 'slice',
  infer: ([x], a) => {
    const xs = x!.shape;
    if (a.starts.length !== xs.length || a.ends.length !== xs.length) throw new ArgumentError(`slice: need a start and an end per dim of ${fmtShape(xs)}`);
    xs.forEach((d, i) => {
      const s = a.starts[i]!;
      const e = a.ends[i]!;
      if (!(Number.isInteger(s) && Number.isInteger(e) && s >= 0 && s <= e && e <= d)) {
        throw new ArgumentError(`slice: range [${s}, ${e}) out of bounds for dim ${i} of ${fmtShape(xs)}`);
      }
    });
    return { shape: xs.map((_, i) => a.ends[i]! - a.starts[i]!), dtype: x!.dtype };
  },
  kernel: ([x], [m], a, out) => {
    const st = stridesOf(m!.shape);
    const base = a.starts.reduce((acc, s, i) => acc + s * st[i]!, 0);
    const off = stridedOffsets(out.shape, st, base);
    const res = arrayFor(out.dtype, off.length);
    for (let i = 0; i < off.length; i++) res[i] = x![off[i]!]!;
    return res;
  },
  vjp: ({ inputs: [x], attrs }, g) => [F.padAxes(g, attrs.starts, attrs.ends.map((e, i) => x!.shape[i]! - e), 0)],
  onnx: (b, n) => {
    const r = n.attrs.starts.length;
    if (r === 0) return b.node('Identity', n.inputs)[0]!;
    return b.node('Slice', [n.inputs[0]!, ...b.sliceBounds(n.attrs.starts, n.attrs.ends, n.inMetas[0]!.shape)])[0]!;
  },
});

export interface ConcatAttrs extends Attrs { axis: number }

defineOp<ConcatAttrs>({
  name: 'concat',
  infer: (xs, a) => {
    if (xs.length === 0) throw new ArgumentError('cat: expects a non-empty list of tensors');
    const first = xs[0]!;
    if (first.shape.length === 0) throw new ShapeError('cat: zero-dimensional tensors cannot be concatenated');
    let total = 0;
    for (const x of xs) {
      if (x.dtype !== first.dtype) throw new DTypeError(`cat: dtypes differ: ${first.dtype} and ${x.dtype}`);
      const same = x.shape.length === first.shape.length && x.shape.every((d, i) => i === a.axis || d === first.shape[i]);
      if (!same) throw new ShapeError(`cat: sizes must match except in dim ${a.axis}: ${xs.map((t) => fmtShape(t.shape)).join(', ')}`);
      total += x.shape[a.axis]!;
    }
    const shape = [...first.shape];
    shape[a.axis] = total;
    return { shape, dtype: first.dtype };
  },
  kernel: (xs, ms, a, out) => {
    const res = arrayFor(out.dtype, numel(out.shape));
    let inner = 1;
    for (let i = a.axis + 1; i < out.shape.length; i++) inner *= out.shape[i]!;
    let outer = 1;
    for (let i = 0; i < a.axis; i++) outer *= out.shape[i]!;
    const rowOut = out.shape[a.axis]! * inner;
    let col = 0;
    xs.forEach((x, k) => {
      const row = ms[k]!.shape[a.axis]! * inner;
      for (let o = 0; o < outer; o++) res.set(x.subarray(o * row, (o + 1) * row), o * rowOut + col);
      col += row;
    });
    return res;
  },
  vjp: ({ inputs, attrs }, g) => {
    let start = 0;
    return inputs.map((x) => {
      const len = x.shape[attrs.axis]!;
      const piece = F.narrow(g, attrs.axis, start, len);
      start += len;
      return piece;
    });
  },
  onnx: (b, n) => b.node('Concat', n.inputs, { axis: n.attrs.axis })[0]!,
});

/** Constant padding: `before[i]` and `after[i]` values of `value` around dim i. */
export interface PadAttrs extends Attrs { before: number[]; after: number[]; value: number }

defineOp<PadAttrs>({
  name: 'pad',
  infer: ([x], a) => {
    const xs = x!.shape;
    if (a.before.length !== xs.length || a.after.length !== xs.length) throw new ArgumentError(`pad: need before/after per dim of ${fmtShape(xs)}`);
    if ([...a.before, ...a.after].some((p) => !Number.isInteger(p) || p < 0)) throw new ArgumentError(`pad: pads must be non-negative integers, got ${JSON.stringify([a.before, a.after])}`);
    return { shape: xs.map((d, i) => d + a.before[i]! + a.after[i]!), dtype: x!.dtype };
  },
  kernel: ([x], [m], a, out) => {
    // The fill value as the dtype stores it: -1.5 pads a bool tensor with true, not with byte 255.
    const res = arrayFor(out.dtype, numel(out.shape)).fill(castScalar(a.value, out.dtype));
    const st = stridesOf(out.shape);
    const base = a.before.reduce((acc, p, i) => acc + p * st[i]!, 0);
    const off = stridedOffsets(m!.shape, st, base);
    for (let i = 0; i < off.length; i++) res[off[i]!] = x![i]!;
    return res;
  },
  vjp: ({ inputs: [x], attrs }, g) => [F.sliceAxes(g, attrs.before, attrs.before.map((p, i) => p + x!.shape[i]!))],
  onnx: (b, n) => {
    const r = n.attrs.before.length;
    if (r === 0) return b.node('Identity', n.inputs)[0]!;
    const pads = b.constant([...n.attrs.before, ...n.attrs.after], 'int64', [2 * r]);
    const value = b.constant([castScalar(n.attrs.value, n.out.dtype)], n.out.dtype, []);
    return b.node('Pad', [n.inputs[0]!, pads, value], { mode: 'constant' })[0]!;
  },
});
