/** Indexing ops: gather (torch.gather), indexSelect, scatterAdd and topk. Indices are int32. */
import { arrayFor, isFloat } from '../tensor/dtype.js';
import { ArgumentError, DTypeError, ShapeError, ZhuyiError, fmtShape } from '../tensor/errors.js';
import { numel, stridesOf } from '../tensor/shape.js';
import * as F from './functional.js';
import { type Attrs, type Meta, defineOp, onnxDTypeCode } from './registry.js';
import { aroundAxis, stridedOffsets } from './strided.js';

export interface AxisAttrs extends Attrs { axis: number }

class IndexError extends ZhuyiError {}
export { IndexError };

function checkIndexDType(op: string, m: Meta): void {
  if (m.dtype !== 'int32') throw new DTypeError(`${op}: index must be int32, got ${m.dtype}${fmtShape(m.shape)}`);
}

function checkIndex(op: string, i: number, size: number, axis: number): number {
  const k = i < 0 ? i + size : i;
  if (k < 0 || k >= size) throw new IndexError(`${op}: index ${i} out of range for dim ${axis} of size ${size}`);
  return k;
}

/** torch.gather: out[i][j][k] = x[i][index[i][j][k]][k] for axis 1; index has x's rank. */
defineOp<AxisAttrs>({
  name: 'gather',
  infer: ([x, idx], a) => {
    checkIndexDType('gather', idx!);
    const ok = idx!.shape.length === x!.shape.length && idx!.shape.every((d, i) => i === a.axis || d <= x!.shape[i]!);
    if (!ok) throw new ShapeError(`gather: index ${fmtShape(idx!.shape)} must have the rank of input ${fmtShape(x!.shape)} and no larger size outside dim ${a.axis}`);
    return { shape: idx!.shape, dtype: x!.dtype };
  },
  kernel: ([x, idx], [xm, im], a, out) => {
    const xs = stridesOf(xm!.shape);
    const off = stridedOffsets(im!.shape, xs.map((s, i) => (i === a.axis ? 0 : s)));
    const size = xm!.shape[a.axis]!;
    const step = xs[a.axis]!;
    const res = arrayFor(out.dtype, off.length);
    for (let i = 0; i < off.length; i++) res[i] = x![off[i]! + checkIndex('gather', idx![i]!, size, a.axis) * step]!;
    return res;
  },
  vjp: ({ inputs: [x, idx], attrs }, g) => [F.scatterAdd(F.constant(0, [...x!.shape], g.dtype), attrs.axis, idx!, g), null],
  onnx: (b, n) => b.node('GatherElements', n.inputs, { axis: n.attrs.axis })[0]!,
});

/** torch.index_select: picks whole slices along `axis` by a 1-D index (embedding lookup is this). */
defineOp<AxisAttrs>({
  name: 'indexSelect',
  infer: ([x, idx], a) => {
    checkIndexDType('indexSelect', idx!);
    if (idx!.shape.length !== 1) throw new ShapeError(`indexSelect: index must be 1-D, got ${fmtShape(idx!.shape)}`);
    const shape = [...x!.shape];
    shape[a.axis] = idx!.shape[0]!;
    return { shape, dtype: x!.dtype };
  },
  kernel: ([x, idx], [xm], a, out) => {
    const [outer, size, inner] = aroundAxis(xm!.shape, a.axis);
    const n = idx!.length;
    const res = arrayFor(out.dtype, numel(out.shape));
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < n; j++) {
        const k = checkIndex('indexSelect', idx![j]!, size, a.axis);
        const src = (o * size + k) * inner;
        res.set(x!.subarray(src, src + inner), (o * n + j) * inner);
      }
    }
    return res;
  },
  vjp: ({ inputs: [x, idx], attrs }, g) => {
    // Scatter-add each selected slice back: broadcast the 1-D index over g's shape along `axis`.
    const view = g.shape.map((_, i) => (i === attrs.axis ? idx!.shape[0]! : 1));
    const full = F.expand(F.reshape(idx!, view), [...g.shape]);
    return [F.scatterAdd(F.constant(0, [...x!.shape], g.dtype), attrs.axis, full, g), null];
  },
  onnx: (b, n) => b.node('Gather', n.inputs, { axis: n.attrs.axis })[0]!,
});

/** torch.scatter_add: out = self; out[index[i][j]][j] += src[i][j] (axis 0). index and src have one shape. */
defineOp<AxisAttrs>({
  name: 'scatterAdd',
  infer: ([self, idx, src], a) => {
    checkIndexDType('scatterAdd', idx!);
    // As for add: a bool sum is no bool (ONNX Runtime ORs, a Uint8Array counts past 1).
    if (self!.dtype === 'bool') throw new DTypeError('scatterAdd: expects a numeric tensor, got bool (cast to int32 or float first)');
    if (src!.dtype !== self!.dtype) throw new DTypeError(`scatterAdd: src dtype ${src!.dtype} differs from self dtype ${self!.dtype}`);
    const same = idx!.shape.length === src!.shape.length && idx!.shape.every((d, i) => d === src!.shape[i]);
    const fits = idx!.shape.length === self!.shape.length && idx!.shape.every((d, i) => i === a.axis || d <= self!.shape[i]!);
    if (!same || !fits) throw new ShapeError(`scatterAdd: index ${fmtShape(idx!.shape)} and src ${fmtShape(src!.shape)} must have one shape, of self's rank ${fmtShape(self!.shape)}, no larger outside dim ${a.axis}`);
    return self!;
  },
  kernel: ([self, idx, src], [sm, im], a) => {
    const res = self!.slice();
    const ss = stridesOf(sm!.shape);
    const off = stridedOffsets(im!.shape, ss.map((s, i) => (i === a.axis ? 0 : s)));
    const size = sm!.shape[a.axis]!;
    const step = ss[a.axis]!;
    for (let i = 0; i < off.length; i++) res[off[i]! + checkIndex('scatterAdd', idx![i]!, size, a.axis) * step]! += src![i]!;
    return res;
  },
  vjp: ({ inputs: [, idx], attrs }, g) => [g, null, F.gather(g, attrs.axis, idx!)],
  onnx: (b, n) => b.node('ScatterElements', n.inputs, { axis: n.attrs.axis, reduction: 'add' })[0]!,
});

export interface TopkAttrs extends Attrs { k: number; axis: number; largest: boolean; sorted: boolean }

/** Indices of the k largest (or smallest) values along `axis`; values come from gather (so they carry gradients). */
defineOp<TopkAttrs>({
  name: 'topk',
  infer: ([x], a) => {
    const size = x!.shape.length === 0 ? 1 : x!.shape[a.axis]!;
    if (!Number.isInteger(a.k) || a.k < 0 || a.k > size) throw new ArgumentError(`topk: k=${a.k} out of range for dim ${a.axis} of size ${size} in ${fmtShape(x!.shape)}`);
    const shape = [...x!.shape];
    if (shape.length > 0) shape[a.axis] = a.k;
    return { shape, dtype: 'int32' };
  },
  kernel: ([x], [m], a, out) => {
    const res = new Int32Array(numel(out.shape));
    if (m!.shape.length === 0) return res;
    const [outer, size, inner] = aroundAxis(m!.shape, a.axis);
    const order = Array.from({ length: size }, (_, i) => i);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * size * inner + j;
        const val = (k: number): number => x![base + k * inner]!;
        // NaN sorts as the largest value (PyTorch); ties keep index order.
        const key = (k: number): number => (Number.isNaN(val(k)) ? Infinity : val(k));
        order.sort((p, q) => {
          const d = a.largest ? key(q) - key(p) : key(p) - key(q);
          return d !== 0 && !Number.isNaN(d) ? d : p - q;
        });
        for (let t = 0; t < a.k; t++) res[(o * a.k + t) * inner + j] = order[t]!;
      }
    }
    return res;
  },
  vjp: 'nondiff',
  onnx: (b, n) => {
    let x = n.inputs[0]!;
    const dt = n.inMetas[0]!.dtype;
    if (n.inMetas[0]!.shape.length === 0) return b.constant([0], 'int32', []);
    // NaN ranks as +inf (ties by index), as in the js kernel; ONNX leaves NaN order unspecified.
    if (isFloat(dt)) x = b.node('Where', [b.node('IsNaN', [x])[0]!, b.constant([Infinity], dt, []), x])[0]!;
    // ONNX Runtime's TopK has no bool kernel: rank false < true as int32.
    if (dt === 'bool') x = b.node('Cast', [x], { to: onnxDTypeCode('int32') })[0]!;
    const [, idx] = b.node('TopK', [x, b.constant([n.attrs.k], 'int64', [1])], {
      axis: n.attrs.axis, largest: n.attrs.largest ? 1 : 0, sorted: n.attrs.sorted ? 1 : 0,
    }, 2);
    return b.node('Cast', [idx!], { to: onnxDTypeCode('int32') })[0]!;
  },
});
