/** Reductions over a set of axes (sum, amax, amin) and along one axis (argmax, argmin). */
import { type DType, arrayFor, isFloat } from '../tensor/dtype.js';
import { ArgumentError, DTypeError, fmtShape } from '../tensor/errors.js';
import { numel, stridesOf } from '../tensor/shape.js';
import * as F from './functional.js';
import { type Attrs, type Meta, type OnnxBuilder, type OnnxNodeInfo, defineOp, onnxDTypeCode } from './registry.js';
import { aroundAxis, stridedOffsets } from './strided.js';

export interface ReduceAttrs extends Attrs { axes: number[]; keepdim: boolean }

function reducedShape(shape: readonly number[], axes: readonly number[], keepdim: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdim) out.push(1);
  });
  return out;
}

/** Offsets into the reduced output for each input element (stride 0 on reduced axes). */
function outputOffsets(inShape: readonly number[], axes: readonly number[]): Int32Array {
  const keep = inShape.map((d, i) => (axes.includes(i) ? 1 : d));
  const st = stridesOf(keep).map((s, i) => (axes.includes(i) ? 0 : s));
  return stridedOffsets(inShape, st);
}

function inferReduce(name: string, x: Meta, a: ReduceAttrs, dtype: DType): Meta {
  for (const ax of a.axes) {
    if (!Number.isInteger(ax) || ax < 0 || ax >= Math.max(x.shape.length, 1)) throw new ArgumentError(`${name}: axis ${ax} out of range for shape ${fmtShape(x.shape)}`);
    if (name !== 'sum' && x.shape.length > 0 && x.shape[ax] === 0) throw new ArgumentError(`${name}: cannot reduce an empty axis ${ax} of shape ${fmtShape(x.shape)}`);
  }
  return { shape: reducedShape(x.shape, a.axes, a.keepdim), dtype };
}

/** ONNX reductions take axes as an input from opset 18 (ReduceSum from 13). */
function onnxReduce(opType: string) {
  return (b: OnnxBuilder, n: OnnxNodeInfo<ReduceAttrs>): string => {
    const rank = n.inMetas[0]!.shape.length;
    if (rank === 0) return b.node('Identity', n.inputs)[0]!;
    const keepdims = n.attrs.keepdim ? 1 : 0;
    const axes = b.constant(n.attrs.axes, 'int64', [n.attrs.axes.length]);
    const reduce = (x: string, op = opType): string => b.node(op, [x, axes], { keepdims })[0]!;
    const result = reduce(n.inputs[0]!);
    if (opType === 'ReduceSum' || !isFloat(n.out.dtype)) return result;
    // ONNX Runtime's ReduceMax/ReduceMin skip NaN; PyTorch propagates it. Put NaN back where a reduced slice had one.
    // "Any NaN in the slice" is a max of the indicator, for amin too.
    const hadNaN = reduce(b.node('Cast', [b.node('IsNaN', [n.inputs[0]!])[0]!], { to: onnxDTypeCode(n.out.dtype) })[0]!, 'ReduceMax');
    const nan = b.constant([NaN], n.out.dtype, []);
    return b.node('Where', [b.node('Greater', [hadNaN, b.constant([0], n.out.dtype, [])])[0]!, nan, result])[0]!;
  };
}

defineOp<ReduceAttrs>({
  name: 'sum',
  infer: ([x], a) => {
    if (x!.dtype === 'bool') throw new DTypeError('sum: cast bool tensors to int32 or float first');
    return inferReduce('sum', x!, a, x!.dtype);
  },
  kernel: ([x], [m], a, out) => {
    const res = arrayFor(out.dtype, numel(out.shape));
    if (a.axes.length === m!.shape.length) {
      let s = 0;
      for (let i = 0; i < x!.length; i++) s += x![i]!;
      res[0] = s;
      return res;
    }
    // Accumulate in float64 for float32 inputs (PyTorch accumulates pairwise; this keeps the reference tighter than both).
    const acc = isFloat(out.dtype) ? new Float64Array(res.length) : res;
    const off = outputOffsets(m!.shape, a.axes);
    for (let i = 0; i < x!.length; i++) acc[off[i]!]! += x![i]!;
    if (acc !== res) res.set(acc);
    return res;
  },
  vjp: ({ inputs: [x], attrs }, g) => [F.expand(attrs.keepdim ? g : F.reshape(g, reducedShape(x!.shape, attrs.axes, true)), [...x!.shape])],
  onnx: onnxReduce('ReduceSum'),
});

function defineExtreme(name: 'amax' | 'amin', better: (a: number, b: number) => boolean, onnxOp: string): void {
  defineOp<ReduceAttrs>({
    name,
    infer: ([x], a) => {
      if (x!.dtype === 'bool') throw new DTypeError(`${name}: expects a numeric tensor, got bool`);
      return inferReduce(name, x!, a, x!.dtype);
    },
    kernel: ([x], [m], a, out) => {
      const res = arrayFor(out.dtype, numel(out.shape)).fill(name === 'amax' ? -Infinity : Infinity);
      const seen = new Uint8Array(res.length);
      const off = outputOffsets(m!.shape, a.axes);
      for (let i = 0; i < x!.length; i++) {
        const o = off[i]!;
        const v = x![i]!;
        // NaN propagates, as in PyTorch.
        if (!seen[o] || better(v, res[o]!) || Number.isNaN(v)) { if (!Number.isNaN(res[o]!)) res[o] = v; seen[o] = 1; }
      }
      return res;
    },
    // The gradient is shared evenly among tied extremes (PyTorch's amax/amin rule).
    vjp: ({ inputs: [x], out, attrs }, g) => {
      const keep = reducedShape(x!.shape, attrs.axes, true);
      const hit = F.cast(F.eq(x!, F.reshape(out, keep)), x!.dtype);
      const count = F.sum(hit, attrs.axes, true);
      return [F.div(F.mul(hit, F.reshape(g, keep)), count)];
    },
    onnx: onnxReduce(onnxOp),
  });
}
defineExtreme('amax', (a, b) => a > b, 'ReduceMax');
defineExtreme('amin', (a, b) => a < b, 'ReduceMin');

export interface ArgAttrs extends Attrs { axis: number; keepdim: boolean }

function defineArg(name: 'argmax' | 'argmin', better: (a: number, b: number) => boolean, onnxOp: string): void {
  defineOp<ArgAttrs>({
    name,
    infer: ([x], a) => {
      if (x!.shape.length > 0 && x!.shape[a.axis] === 0) throw new ArgumentError(`${name}: cannot reduce an empty axis of shape ${fmtShape(x!.shape)}`);
      return { shape: reducedShape(x!.shape, [a.axis], a.keepdim), dtype: 'int32' };
    },
    kernel: ([x], [m], a, out) => {
      const res = new Int32Array(numel(out.shape));
      if (m!.shape.length === 0) return res;
      const [outer, size, inner] = aroundAxis(m!.shape, a.axis);
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < inner; j++) {
          const base = o * size * inner + j;
          let best = 0;
          let bv = x![base]!;
          for (let k = 1; k < size; k++) {
            const v = x![base + k * inner]!;
            // First occurrence wins ties; NaN counts as the extreme (PyTorch).
            if (!Number.isNaN(bv) && (better(v, bv) || Number.isNaN(v))) { best = k; bv = v; }
          }
          res[o * inner + j] = best;
        }
      }
      return res;
    },
    vjp: 'nondiff',
    onnx: (b, n) => {
      if (n.inMetas[0]!.shape.length === 0) return b.constant([0], 'int32', []);
      const attrs = { axis: n.attrs.axis, keepdims: n.attrs.keepdim ? 1 : 0, select_last_index: 0 };
      // ONNX Runtime's ArgMax/ArgMin have no bool kernel: rank false < true as int32.
      const x = n.inMetas[0]!.dtype === 'bool' ? b.node('Cast', n.inputs, { to: onnxDTypeCode('int32') })[0]! : n.inputs[0]!;
      let idx = b.node(onnxOp, [x], attrs)[0]!;
      if (isFloat(n.inMetas[0]!.dtype)) {
        // The first NaN wins (PyTorch); ONNX leaves NaN order unspecified. Pick it explicitly.
        const isNan = b.node('Cast', [b.node('IsNaN', n.inputs)[0]!], { to: onnxDTypeCode('int32') })[0]!;
        const axes = b.constant([n.attrs.axis], 'int64', [1]);
        const has = b.node('Cast', [b.node('ReduceMax', [isNan, axes], { keepdims: attrs.keepdims })[0]!], { to: onnxDTypeCode('bool') })[0]!;
        idx = b.node('Where', [has, b.node('ArgMax', [isNan], attrs)[0]!, idx])[0]!;
      }
      return b.node('Cast', [idx], { to: onnxDTypeCode('int32') })[0]!;
    },
  });
}
defineArg('argmax', (a, b) => a > b, 'ArgMax');
defineArg('argmin', (a, b) => a < b, 'ArgMin');
