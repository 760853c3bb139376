/** Composite ops with their own vjp and a fused ONNX lowering: softmax, logSoftmax, layerNorm; and trilu. */
import { type DType, arrayFor, isFloat } from '../tensor/dtype.js';
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../tensor/errors.js';
import { numel } from '../tensor/shape.js';
import * as F from './functional.js';
import { type Attrs, type Meta, type OnnxBuilder, defineOp, onnxDTypeCode } from './registry.js';
import { aroundAxis } from './strided.js';

export interface SoftmaxAttrs extends Attrs { axis: number }

function floatOnly(op: string, x: Meta): Meta {
  if (!isFloat(x.dtype)) throw new DTypeError(`${op}: expects a float tensor, got ${x.dtype}${fmtShape(x.shape)}`);
  return x;
}

/** Shared max-subtracted softmax; rows that are all -inf give NaN, as in PyTorch. */
function softmaxKernel(log: boolean) {
  return ([x]: readonly (Float32Array | Float64Array | Int32Array | Uint8Array)[], [m]: readonly Meta[], a: SoftmaxAttrs) => {
    const res = arrayFor(m!.dtype, x!.length);
    // A 0-d tensor is one row of one element (NaN and infinities give NaN, as in PyTorch).
    const [outer, size, inner] = m!.shape.length === 0 ? [1, 1, 1] : aroundAxis(m!.shape, a.axis);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * size * inner + j;
        let mx = -Infinity;
        for (let k = 0; k < size; k++) mx = Math.max(mx, x![base + k * inner]!);
        let s = 0;
        for (let k = 0; k < size; k++) s += Math.exp(x![base + k * inner]! - mx);
        const ls = Math.log(s);
        for (let k = 0; k < size; k++) {
          const v = x![base + k * inner]! - mx;
          res[base + k * inner] = log ? v - ls : Math.exp(v) / s;
        }
      }
    }
    return res;
  };
}

/** ONNX's Softmax needs rank >= 1: a 0-d input goes through shape [1]. */
function onnxSoftmax(b: OnnxBuilder, opType: 'Softmax' | 'LogSoftmax', x: string, rank: number, axis: number, dtype: DType): string {
  if (rank === 0) {
    const row = b.node('Reshape', [x, b.constant([1], 'int64', [1])])[0]!;
    return b.node('Reshape', [onnxSoftmax(b, opType, row, 1, 0, dtype), b.constant([], 'int64', [0])])[0]!;
  }
  const y = b.node(opType, [x], { axis })[0]!;
  if (opType === 'Softmax') return y;
  // ONNX Runtime's LogSoftmax gives finite values or -inf in a row holding NaN or +inf, where
  // PyTorch's x - max - log(sum(exp(x - max))) is NaN for the whole row: put the NaN back.
  const bad = b.node('Or', [b.node('IsNaN', [x])[0]!, b.node('IsInf', [x], { detect_negative: 0 })[0]!])[0]!;
  const axes = b.constant([axis], 'int64', [1]);
  const rowBad = b.node('ReduceMax', [b.node('Cast', [bad], { to: onnxDTypeCode('int32') })[0]!, axes], { keepdims: 1 })[0]!;
  return b.node('Where', [b.node('Cast', [rowBad], { to: onnxDTypeCode('bool') })[0]!, b.constant([NaN], dtype, []), y])[0]!;
}

defineOp<SoftmaxAttrs>({
  name: 'softmax',
  infer: ([x]) => floatOnly('softmax', x!),
  kernel: softmaxKernel(false),
  // dx = y * (g - sum(g * y))
  vjp: ({ out, attrs }, g) => [F.mul(out, F.sub(g, F.sum(F.mul(g, out), attrs.axis, true)))],
  onnx: (b, n) => onnxSoftmax(b, 'Softmax', n.inputs[0]!, n.inMetas[0]!.shape.length, n.attrs.axis, n.out.dtype),
});

defineOp<SoftmaxAttrs>({
  name: 'logSoftmax',
  infer: ([x]) => floatOnly('logSoftmax', x!),
  kernel: softmaxKernel(true),
  // dx = g - softmax * sum(g)
  vjp: ({ out, attrs }, g) => [F.sub(g, F.mul(F.exp(out), F.sum(g, attrs.axis, true)))],
  onnx: (b, n) => onnxSoftmax(b, 'LogSoftmax', n.inputs[0]!, n.inMetas[0]!.shape.length, n.attrs.axis, n.out.dtype),
});

/**
 * Cross-entropy per row of logits x (N, C) against class indices t (N,) in [0, C), with label
 * smoothing e: loss_i = -((1 - e) log p_i[t_i] + e/C sum_c log p_ic), p = softmax(x). One op, so
 * that its gradient is one expression, g_i (p_i - e/C) - (1 - e) g_i onehot(t_i), instead of the
 * autograd of logSoftmax + gather + sum (an expand, a scatter into zeros and an add of two (N, C)
 * gradients: about twice the memory traffic on a Transformer's output layer).
 */
export interface SoftmaxCrossEntropyAttrs extends Attrs { smoothing: number }

defineOp<SoftmaxCrossEntropyAttrs>({
  name: 'softmaxCrossEntropy',
  infer: ([x, t]) => {
    floatOnly('softmaxCrossEntropy', x!);
    if (t!.dtype !== 'int32') throw new DTypeError(`softmaxCrossEntropy: targets must be int32, got ${t!.dtype}`);
    if (x!.shape.length !== 2 || t!.shape.length !== 1 || t!.shape[0] !== x!.shape[0]) {
      throw new ShapeError(`softmaxCrossEntropy: expects logits (N, C) and targets (N,), got ${fmtShape(x!.shape)} and ${fmtShape(t!.shape)}`);
    }
    return { shape: [x!.shape[0]!], dtype: x!.dtype };
  },
  kernel: ([x, t], [m], a, out) => {
    const [n, c] = m!.shape as [number, number];
    const logp = softmaxKernel(true)([x!], [m!], { axis: 1 });
    const res = arrayFor(out.dtype, n);
    for (let i = 0; i < n; i++) {
      const k = t![i]!;
      if (!(k >= 0 && k < c)) throw new ArgumentError(`softmaxCrossEntropy: target ${k} out of range for ${c} classes (row ${i})`);
      let sum = 0;
      for (let j = 0; j < c; j++) sum += logp[i * c + j]!;
      res[i] = -((1 - a.smoothing) * logp[i * c + k]! + (a.smoothing / c) * sum);
    }
    return res;
  },
  vjp: ({ inputs: [x, t], attrs }, g) => {
    const C = x!.shape[1]!;
    const col = F.unsqueeze(g, 1);
    const spread = F.mul(attrs.smoothing > 0 ? F.sub(F.softmax(x!, 1), attrs.smoothing / C) : F.softmax(x!, 1), col);
    return [F.scatterAdd(spread, 1, F.unsqueeze(t!, 1), F.mul(col, attrs.smoothing - 1)), null];
  },
  onnx: (b, n) => {
    const axis1 = b.constant([1], 'int64', [1]);
    const logp = b.node('LogSoftmax', [n.inputs[0]!], { axis: 1 })[0]!;
    const picked = b.node('GatherElements', [logp, b.node('Unsqueeze', [n.inputs[1]!, axis1])[0]!], { axis: 1 })[0]!;
    const e = n.attrs.smoothing;
    const dt = n.out.dtype;
    let total = b.node('Mul', [picked, b.constant([e - 1], dt, [])])[0]!;
    if (e > 0) {
      const all = b.node('ReduceSum', [logp, axis1], { keepdims: 1 })[0]!;
      total = b.node('Sub', [total, b.node('Mul', [all, b.constant([e / n.inMetas[0]!.shape[1]!], dt, [])])[0]!])[0]!;
    }
    return b.node('Squeeze', [total, axis1])[0]!;
  },
});

/** Layer normalisation over the last `dims` axes: (x - mean) / sqrt(var + eps) * weight + bias (biased variance). */
export interface LayerNormAttrs extends Attrs { dims: number; eps: number }

defineOp<LayerNormAttrs>({
  name: 'layerNorm',
  infer: ([x, w, b], a) => {
    floatOnly('layerNorm', x!);
    const norm = x!.shape.slice(x!.shape.length - a.dims);
    const fits = (m: Meta): boolean => m.dtype === x!.dtype && m.shape.length === a.dims && m.shape.every((d, i) => d === norm[i]);
    if (a.dims < 1 || a.dims > x!.shape.length) throw new ArgumentError(`layerNorm: cannot normalise the last ${a.dims} dims of ${fmtShape(x!.shape)}`);
    if (!fits(w!) || !fits(b!)) throw new ShapeError(`layerNorm: weight ${fmtShape(w!.shape)} and bias ${fmtShape(b!.shape)} must have the normalised shape ${fmtShape(norm)} and dtype ${x!.dtype}`);
    return x!;
  },
  kernel: ([x, w, b], [m], a) => {
    const n = numel(m!.shape.slice(m!.shape.length - a.dims));
    const rows = n === 0 ? 0 : x!.length / n;
    const res = arrayFor(m!.dtype, x!.length);
    for (let r = 0; r < rows; r++) {
      const o = r * n;
      let mean = 0;
      for (let i = 0; i < n; i++) mean += x![o + i]!;
      mean /= n;
      let v = 0;
      for (let i = 0; i < n; i++) { const d = x![o + i]! - mean; v += d * d; }
      const rstd = 1 / Math.sqrt(v / n + a.eps);
      for (let i = 0; i < n; i++) res[o + i] = (x![o + i]! - mean) * rstd * w![i]! + b![i]!;
    }
    return res;
  },
  vjp: ({ inputs: [x, w, b], attrs }, g) => {
    const axes = Array.from({ length: attrs.dims }, (_, i) => x!.shape.length - attrs.dims + i);
    const lead = Array.from({ length: x!.shape.length - attrs.dims }, (_, i) => i);
    const mean = F.mean(x!, axes, true);
    const centered = F.sub(x!, mean);
    const rstd = F.rsqrt(F.add(F.mean(F.mul(centered, centered), axes, true), attrs.eps));
    const xhat = F.mul(centered, rstd);
    // dxhat = g * w;  dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
    const dxhat = F.mul(g, w!);
    const dx = F.mul(rstd, F.sub(F.sub(dxhat, F.mean(dxhat, axes, true)), F.mul(xhat, F.mean(F.mul(dxhat, xhat), axes, true))));
    const dw = F.sum(F.mul(g, xhat), lead, false);
    const db = F.sum(g, lead, false);
    return [dx, F.reshape(dw, [...w!.shape]), F.reshape(db, [...b!.shape])];
  },
  onnx: (b, n) => b.node('LayerNormalization', n.inputs, { axis: -n.attrs.dims, epsilon: { float: n.attrs.eps } })[0]!,
});

/** Lower (upper=false) or upper triangle of the last two dims, from diagonal k; the rest is zero. */
export interface TriluAttrs extends Attrs { k: number; upper: boolean }

defineOp<TriluAttrs>({
  name: 'trilu',
  infer: ([x], a) => {
    if (x!.shape.length < 2) throw new ShapeError(`${a.upper ? 'triu' : 'tril'}: expects at least 2 dims, got ${fmtShape(x!.shape)}`);
    return x!;
  },
  kernel: ([x], [m], a) => {
    const s = m!.shape;
    const R = s[s.length - 2]!, C = s[s.length - 1]!;
    const res = arrayFor(m!.dtype, x!.length);
    for (let base = 0; base < x!.length; base += R * C) {
      for (let i = 0; i < R; i++) {
        for (let j = 0; j < C; j++) {
          const keep = a.upper ? j - i >= a.k : j - i <= a.k;
          if (keep) res[base + i * C + j] = x![base + i * C + j]!;
        }
      }
    }
    return res;
  },
  vjp: ({ attrs }, g) => [F.trilu(g, attrs.k, attrs.upper)],
  onnx: (b, n) => b.node('Trilu', [n.inputs[0]!, b.constant([n.attrs.k], 'int64', [])], { upper: n.attrs.upper ? 1 : 0 })[0]!,
});
