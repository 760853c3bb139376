/**
 * The front end of every op: validates arguments, resolves negative dims and PyTorch's argument
 * forms, promotes dtypes, and builds graph nodes through `apply`. Tensor methods call these.
 */
import { type DType, isFloat, promote, promoteScalar } from '../tensor/dtype.js';
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../tensor/errors.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';
import { type Shape, normAxes, normAxis, numel, sameShape } from '../tensor/shape.js';
import { Tensor, apply } from '../tensor/tensor.js';

export interface ValuesIndices { values: Tensor; indices: Tensor }
type Operand = Tensor | number;

// ---- constants, casts, dtype plumbing -----------------------------------------------------------

/** A lazy constant inside a graph (no buffer is allocated until a backend needs it). */
export function constant(value: number, shape: readonly number[] = [], dtype: DType = 'float32'): Tensor {
  return apply('full', [], { shape: [...shape], value, dtype });
}

export function cast(x: Tensor, dtype: DType): Tensor {
  return x.dtype === dtype ? x : apply('cast', [x], { dtype });
}

function toFloat(x: Tensor): Tensor {
  return isFloat(x.dtype) ? x : cast(x, 'float32');
}

/** Turns a number into a constant and brings both operands to one dtype (PyTorch promotion). */
function operands(a: Operand, b: Operand): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number') return [constant(a), constant(b)];
  if (typeof b === 'number') {
    const ta = a as Tensor;
    const dt = promoteScalar(ta.dtype, b);
    return [cast(ta, dt), constant(b, [], dt)];
  }
  if (typeof a === 'number') {
    const dt = promoteScalar(b.dtype, a);
    return [constant(a, [], dt), cast(b, dt)];
  }
  const dt = promote(a.dtype, b.dtype);
  return [cast(a, dt), cast(b, dt)];
}

/** Bool operands of arithmetic become int32 (PyTorch would keep bool for some ops; zhuyi is uniform). */
function arith(a: Operand, b: Operand): [Tensor, Tensor] {
  const [x, y] = operands(a, b);
  return x.dtype === 'bool' ? [cast(x, 'int32'), cast(y, 'int32')] : [x, y];
}

export function clone(x: Tensor): Tensor {
  return apply('reshape', [x], { shape: [...x.shape] });
}

export function detach(x: Tensor): Tensor {
  if (x.buffer !== null) return Tensor.fromBuffer(x.buffer, x.shape);
  return new Tensor(x.meta, x.op, x.inputs, x.attrs, null, false);
}

// ---- binary arithmetic ------------------------------------------------------------------------

export function add(a: Operand, b: Operand, alpha?: number): Tensor {
  const [x, y] = arith(a, alpha === undefined || alpha === 1 ? b : mul(b, alpha));
  return apply('add', [x, y]);
}
export function sub(a: Operand, b: Operand, alpha?: number): Tensor {
  const [x, y] = arith(a, alpha === undefined || alpha === 1 ? b : mul(b, alpha));
  return apply('sub', [x, y]);
}
/** b - a, for vjps written as `1 - y`. */
export function rsub(a: Tensor, b: number): Tensor {
  return sub(b, a);
}
export function mul(a: Operand, b: Operand): Tensor { return apply('mul', arith(a, b)); }
/** True division: integer operands give float32, as in PyTorch. */
export function div(a: Operand, b: Operand): Tensor {
  const [x, y] = arith(a, b);
  return apply('div', [toFloat(x), toFloat(y)]);
}
export function pow(a: Operand, b: Operand): Tensor {
  if (typeof b === 'number' && typeof a !== 'number') {
    // Common exponents written as multiplications: exact, and their gradients need no log.
    if (b === 1) return a;
    if (b === 2) return mul(a, a);
  }
  return apply('pow', arith(a, b));
}
export function maximum(a: Operand, b: Operand): Tensor { return apply('maximum', arith(a, b)); }
export function minimum(a: Operand, b: Operand): Tensor { return apply('minimum', arith(a, b)); }

// ---- comparisons and logic ----------------------------------------------------------------------

export function eq(a: Operand, b: Operand): Tensor { return apply('eq', operands(a, b)); }
export function ne(a: Operand, b: Operand): Tensor { return apply('ne', operands(a, b)); }
export function lt(a: Operand, b: Operand): Tensor { return apply('lt', operands(a, b)); }
export function le(a: Operand, b: Operand): Tensor { return apply('le', operands(a, b)); }
export function gt(a: Operand, b: Operand): Tensor { return apply('gt', operands(a, b)); }
export function ge(a: Operand, b: Operand): Tensor { return apply('ge', operands(a, b)); }
export function logicalAnd(a: Tensor, b: Tensor): Tensor { return apply('logicalAnd', [cast(a, 'bool'), cast(b, 'bool')]); }
export function logicalOr(a: Tensor, b: Tensor): Tensor { return apply('logicalOr', [cast(a, 'bool'), cast(b, 'bool')]); }
export function logicalNot(a: Tensor): Tensor { return apply('logicalNot', [cast(a, 'bool')]); }

// ---- unary --------------------------------------------------------------------------------------

export function neg(x: Tensor): Tensor { return apply('neg', [x.dtype === 'bool' ? cast(x, 'int32') : x]); }
export function exp(x: Tensor): Tensor { return apply('exp', [toFloat(x)]); }
export function log(x: Tensor): Tensor { return apply('log', [toFloat(x)]); }
export function sqrt(x: Tensor): Tensor { return apply('sqrt', [toFloat(x)]); }
export function rsqrt(x: Tensor): Tensor { return reciprocal(sqrt(x)); }
export function reciprocal(x: Tensor): Tensor { return apply('reciprocal', [toFloat(x)]); }
export function tanh(x: Tensor): Tensor { return apply('tanh', [toFloat(x)]); }
export function sigmoid(x: Tensor): Tensor { return apply('sigmoid', [toFloat(x)]); }
export function relu(x: Tensor): Tensor { return apply('relu', [x]); }
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  if (approximate !== 'none' && approximate !== 'tanh') throw new ArgumentError(`gelu: approximate must be 'none' or 'tanh', got '${String(approximate)}'`);
  return apply('gelu', [toFloat(x)], { approximate });
}
export function erf(x: Tensor): Tensor { return apply('erf', [toFloat(x)]); }
export function abs(x: Tensor): Tensor { return apply('abs', [x]); }
export function sign(x: Tensor): Tensor { return apply('sign', [x]); }
export function sin(x: Tensor): Tensor { return apply('sin', [toFloat(x)]); }
export function cos(x: Tensor): Tensor { return apply('cos', [toFloat(x)]); }

/** Clamps into [min, max]; the gradient passes where min <= x <= max (PyTorch's rule, boundaries included). */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  if (min == null && max == null) throw new ArgumentError('clamp: at least one of min and max must be given');
  let y = x;
  if (min != null) y = where(lt(y, min), min, y);
  if (max != null) y = where(gt(y, max), max, y);
  return y;
}

export function where(condition: Tensor, a: Operand, b: Operand): Tensor {
  const [x, y] = operands(a, b);
  return apply('where', [cast(condition, 'bool'), x, y]);
}

/** x with `value` where `mask` is true (mask broadcasts to x). */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  const out = where(mask, constant(value, [], promoteScalar(x.dtype, value)), x);
  if (!sameShape(out.shape, x.shape)) throw new ShapeError(`maskedFill: mask ${fmtShape(mask.shape)} must broadcast to input ${fmtShape(x.shape)}`);
  return out;
}

// ---- reductions ---------------------------------------------------------------------------------

type Dims = number | readonly number[] | null | undefined;

export function sum(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  const axes = normAxes('sum', dim ?? undefined, x.ndim);
  return apply('sum', [x.dtype === 'bool' ? cast(x, 'int32') : x], { axes, keepdim });
}

export function mean(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  const axes = normAxes('mean', dim ?? undefined, x.ndim);
  const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
  return div(sum(toFloat(x), axes, keepdim), count);
}

export function amax(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  return apply('amax', [x], { axes: normAxes('amax', dim ?? undefined, x.ndim), keepdim });
}
export function amin(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  return apply('amin', [x], { axes: normAxes('amin', dim ?? undefined, x.ndim), keepdim });
}

function extreme(name: 'max' | 'min', x: Tensor, dim?: number, keepdim = false): Tensor | ValuesIndices {
  if (dim === undefined) return name === 'max' ? amax(x) : amin(x);
  const axis = normAxis(name, dim, x.ndim);
  const indices = (name === 'max' ? argmax : argmin)(x, axis, true);
  // Values come from the indices so the gradient goes to the chosen element only (PyTorch's max(dim)).
  const values = x.ndim === 0 ? x : gather(x, axis, indices);
  return keepdim || x.ndim === 0 ? { values, indices } : { values: squeeze(values, axis), indices: squeeze(indices, axis) };
}
export function max(x: Tensor): Tensor;
export function max(x: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
export function max(x: Tensor, dim?: number, keepdim = false): Tensor | ValuesIndices { return extreme('max', x, dim, keepdim); }
export function min(x: Tensor): Tensor;
export function min(x: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
export function min(x: Tensor, dim?: number, keepdim = false): Tensor | ValuesIndices { return extreme('min', x, dim, keepdim); }

function argExtreme(name: 'argmax' | 'argmin', x: Tensor, dim?: number, keepdim = false): Tensor {
  if (dim === undefined) {
    const flat = reshape(x, [x.size]);
    const r = apply(name, [flat], { axis: 0, keepdim: false });
    return keepdim ? reshape(r, x.shape.map(() => 1)) : r;
  }
  return apply(name, [x], { axis: normAxis(name, dim, x.ndim), keepdim });
}
export function argmax(x: Tensor, dim?: number, keepdim = false): Tensor { return argExtreme('argmax', x, dim, keepdim); }
export function argmin(x: Tensor, dim?: number, keepdim = false): Tensor { return argExtreme('argmin', x, dim, keepdim); }

export function topk(x: Tensor, k: number, dim = -1, largest = true, sorted = true): ValuesIndices {
  const axis = x.ndim === 0 ? 0 : normAxis('topk', dim, x.ndim);
  const indices = apply('topk', [x], { k, axis, largest, sorted });
  return { values: x.ndim === 0 ? x : gather(x, axis, indices), indices };
}

export function softmax(x: Tensor, dim: number): Tensor {
  return apply('softmax', [toFloat(x)], { axis: normAxis('softmax', dim, x.ndim) });
}
/** Per-row cross-entropy of logits (N, C) against int32 classes (N,) with label smoothing; see ops/nn.ts. */
export function softmaxCrossEntropy(x: Tensor, target: Tensor, smoothing = 0): Tensor {
  return apply('softmaxCrossEntropy', [toFloat(x), asIndex('softmaxCrossEntropy', target)], { smoothing });
}

export function logSoftmax(x: Tensor, dim: number): Tensor {
  return apply('logSoftmax', [toFloat(x)], { axis: normAxis('logSoftmax', dim, x.ndim) });
}

// ---- shapes -------------------------------------------------------------------------------------

/** Resolves one -1 in a requested shape. */
function resolveShape(op: string, x: Tensor, shape: readonly number[]): number[] {
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1) throw new ArgumentError(`${op}: only one dimension can be -1, got ${fmtShape(shape)}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < -1) throw new ArgumentError(`${op}: invalid size in ${fmtShape(shape)}`);
  }
  if (unknown === 0) return [...shape];
  const known = shape.reduce((n, d) => (d === -1 ? n : n * d), 1);
  if (known === 0 || x.size % known !== 0) throw new ShapeError(`${op}: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(shape)}`);
  return shape.map((d) => (d === -1 ? x.size / known : d));
}

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const s = resolveShape('reshape', x, shape);
  return sameShape(s, x.shape) ? x : apply('reshape', [x], { shape: s });
}

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normAxis('flatten', startDim, x.ndim);
  const e = normAxis('flatten', endDim, x.ndim);
  if (s > e) throw new ArgumentError(`flatten: startDim ${startDim} comes after endDim ${endDim}`);
  const merged = x.shape.slice(s, e + 1).reduce((n, d) => n * d, 1);
  return reshape(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
}

/** Removes size-1 dims (all, or the given ones; a given dim whose size is not 1 is left alone, as in PyTorch). */
export function squeeze(x: Tensor, dim?: number | readonly number[]): Tensor {
  const axes = dim === undefined ? x.shape.map((_, i) => i) : normAxes('squeeze', dim, x.ndim);
  return reshape(x, x.shape.filter((d, i) => !(d === 1 && axes.includes(i))));
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  const axis = normAxis('unsqueeze', dim, x.ndim + 1);
  const s = [...x.shape];
  s.splice(axis, 0, 1);
  return reshape(x, s);
}

export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.ndim) throw new ArgumentError(`permute: ${JSON.stringify(dims)} does not name the ${x.ndim} dims of ${fmtShape(x.shape)}`);
  const perm = dims.map((d) => normAxis('permute', d, x.ndim));
  return perm.every((p, i) => p === i) ? x : apply('permute', [x], { perm });
}

export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = normAxis('transpose', dim0, x.ndim);
  const b = normAxis('transpose', dim1, x.ndim);
  const perm = x.shape.map((_, i) => i);
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

/** PyTorch's expand: -1 keeps a dim; new dims may be added in front. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - x.ndim;
  if (lead < 0) throw new ShapeError(`expand: target ${fmtShape(shape)} has fewer dims than input ${fmtShape(x.shape)}`);
  const s = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead]! : d));
  if (s.some((d) => d < 0)) throw new ShapeError(`expand: -1 is not allowed for new leading dims: ${fmtShape(shape)}`);
  return sameShape(s, x.shape) ? x : apply('expand', [x], { shape: s });
}
export const broadcastTo = expand;

/** Gradient helper: sums `g` down to `shape` over the dims broadcasting added or stretched. */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  return reshape(axes.length ? sum(g, axes, true) : g, [...shape]);
}

/** Python-style slice along one dim: x[..., start:end, ...] (negative and out-of-range bounds clamp). */
export function slice(x: Tensor, dim: number, start?: number | null, end?: number | null): Tensor {
  const axis = normAxis('slice', dim, x.ndim);
  const size = x.shape[axis]!;
  const clampIdx = (v: number): number => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
  const s = clampIdx(start ?? 0);
  const e = Math.max(s, clampIdx(end ?? size));
  return sliceAxes(x, x.shape.map((_, i) => (i === axis ? s : 0)), x.shape.map((d, i) => (i === axis ? e : d)));
}

/** Slice with explicit per-dim [start, end) bounds. */
export function sliceAxes(x: Tensor, starts: readonly number[], ends: readonly number[]): Tensor {
  if (starts.every((s) => s === 0) && ends.every((e, i) => e === x.shape[i])) return x;
  return apply('slice', [x], { starts: [...starts], ends: [...ends] });
}

export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const axis = normAxis('narrow', dim, x.ndim);
  const size = x.shape[axis]!;
  const s = start < 0 ? start + size : start;
  if (s < 0 || length < 0 || s + length > size) throw new ArgumentError(`narrow: start ${start} + length ${length} exceeds dim ${dim} of size ${size} in ${fmtShape(x.shape)}`);
  return slice(x, axis, s, s + length);
}

export function split(x: Tensor, splitSizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  const axis = normAxis('split', dim, x.ndim);
  const size = x.shape[axis]!;
  let sizes: number[];
  if (typeof splitSizeOrSections === 'number') {
    if (!(splitSizeOrSections > 0)) throw new ArgumentError(`split: split size must be positive, got ${splitSizeOrSections}`);
    sizes = [];
    for (let s = 0; s < size; s += splitSizeOrSections) sizes.push(Math.min(splitSizeOrSections, size - s));
  } else {
    sizes = [...splitSizeOrSections];
    if (sizes.reduce((a, b) => a + b, 0) !== size) throw new ArgumentError(`split: sections ${JSON.stringify(sizes)} do not sum to dim ${dim} of size ${size}`);
  }
  let start = 0;
  return sizes.map((n) => { const t = narrow(x, axis, start, n); start += n; return t; });
}

export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  if (!(chunks > 0)) throw new ArgumentError(`chunk: chunks must be positive, got ${chunks}`);
  const size = x.shape[normAxis('chunk', dim, x.ndim)]!;
  return split(x, Math.max(1, Math.ceil(size / chunks)), dim);
}

export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new ArgumentError('cat: expects a non-empty list of tensors');
  const dt = tensors.map((t) => t.dtype).reduce(promote);
  const axis = normAxis('cat', dim, tensors[0]!.ndim);
  if (tensors.length === 1) return cast(tensors[0]!, dt);
  return apply('concat', tensors.map((t) => cast(t, dt)), { axis });
}

export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new ArgumentError('stack: expects a non-empty list of tensors');
  const first = tensors[0]!;
  for (const t of tensors) {
    if (!sameShape(t.shape, first.shape)) throw new ShapeError(`stack: all tensors must have one shape, got ${tensors.map((u) => fmtShape(u.shape)).join(', ')}`);
  }
  const axis = normAxis('stack', dim, first.ndim + 1);
  return cat(tensors.map((t) => unsqueeze(t, axis)), axis);
}

/** torch.nn.functional.pad (constant mode): `pad` lists (before, after) pairs starting from the LAST dim. */
export function pad(x: Tensor, padding: readonly number[], value = 0): Tensor {
  if (padding.length % 2 !== 0 || padding.length / 2 > x.ndim) throw new ArgumentError(`pad: padding ${JSON.stringify(padding)} must hold (before, after) pairs for at most ${x.ndim} dims`);
  const before = x.shape.map(() => 0);
  const after = x.shape.map(() => 0);
  for (let p = 0; p < padding.length / 2; p++) {
    before[x.ndim - 1 - p] = padding[2 * p]!;
    after[x.ndim - 1 - p] = padding[2 * p + 1]!;
  }
  return padAxes(x, before, after, value);
}

export function padAxes(x: Tensor, before: readonly number[], after: readonly number[], value = 0): Tensor {
  if (before.every((p) => p === 0) && after.every((p) => p === 0)) return x;
  return apply('pad', [x], { before: [...before], after: [...after], value });
}

// ---- indexing -----------------------------------------------------------------------------------

function asIndex(op: string, index: Tensor): Tensor {
  if (index.dtype === 'int32') return index;
  if (index.dtype === 'bool' || isFloat(index.dtype)) throw new DTypeError(`${op}: index must be an integer tensor, got ${index.dtype}`);
  return cast(index, 'int32');
}

export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  return apply('gather', [x, asIndex('gather', index)], { axis: normAxis('gather', dim, x.ndim) });
}

export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  const idx = index.ndim === 0 ? reshape(index, [1]) : index;
  return apply('indexSelect', [x, asIndex('indexSelect', idx)], { axis: normAxis('indexSelect', dim, x.ndim) });
}

export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  return apply('scatterAdd', [x, asIndex('scatterAdd', index), cast(src, x.dtype)], { axis: normAxis('scatterAdd', dim, x.ndim) });
}

/** One-hot encoding (int32). `numClasses` is required unless the index tensor is realized. */
export function oneHot(index: Tensor, numClasses = -1): Tensor {
  let n = numClasses;
  if (n < 0) {
    if (index.buffer === null) throw new ArgumentError('oneHot: give numClasses, or realize the index first (its maximum sets the count)');
    n = 0;
    for (const v of index.buffer) n = Math.max(n, v + 1);
  }
  const classes = Tensor.fromBuffer(Int32Array.from({ length: n }, (_, i) => i), [n]);
  return cast(eq(unsqueeze(asIndex('oneHot', index), -1), classes), 'int32');
}

export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) throw new ShapeError(`matmul: both arguments need at least 1 dim, got ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`);
  const [x, y] = operands(a, b);
  // 1-D operands as in torch.matmul: a vector is a row on the left, a column on the right, then dropped.
  const left = x.ndim === 1 ? unsqueeze(x, 0) : x;
  const right = y.ndim === 1 ? unsqueeze(y, -1) : y;
  if (left.shape[left.ndim - 1] !== right.shape[right.ndim - 2]) throw new ShapeError(`matmul: inner dimensions differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`);
  let out = apply('matmul', [left, right]);
  if (y.ndim === 1) out = squeeze(out, -1);
  if (x.ndim === 1) out = squeeze(out, y.ndim === 1 ? -1 : -2);
  return out;
}

export function trilu(x: Tensor, k: number, upper: boolean): Tensor {
  return apply('trilu', [x], { k, upper });
}
export function tril(x: Tensor, diagonal = 0): Tensor { return trilu(x, diagonal, false); }
export function triu(x: Tensor, diagonal = 0): Tensor { return trilu(x, diagonal, true); }

// ---- nn functions ---------------------------------------------------------------------------------

/** Layer norm over the trailing `normalizedShape` dims; weight and bias default to 1 and 0. */
export function layerNorm(x: Tensor, normalizedShape: number | readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const norm = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  const tail = x.shape.slice(x.ndim - norm.length);
  if (norm.length > x.ndim || !sameShape(tail, norm)) throw new ShapeError(`layerNorm: normalizedShape ${fmtShape(norm)} does not match the trailing dims of ${fmtShape(x.shape)}`);
  const xf = toFloat(x);
  const w = weight ?? constant(1, norm, xf.dtype);
  const b = bias ?? constant(0, norm, xf.dtype);
  return apply('layerNorm', [xf, w, b], { dims: norm.length, eps });
}

/**
 * Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1-p). The
 * mask is drawn from zhuyi's seeded generator and enters the graph as an input, so every backend
 * sees the same mask.
 */
export function dropout(x: Tensor, p = 0.5, training = true, generator: Generator = defaultGenerator): Tensor {
  if (!(p >= 0 && p <= 1)) throw new ArgumentError(`dropout: probability must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  if (p === 1) return mul(x, 0);
  // A multiply by a float mask (0 or 1/(1-p)), not a select: ONNX Runtime's Where is about 10x
  // slower than Mul on the same shape, and NaN stays NaN as in PyTorch (mask * x).
  const scale = 1 / (1 - p);
  if (x.dtype !== 'float64') return mul(x, Tensor.fromBuffer(generator.dropoutMask(numel(x.shape), p, scale), x.shape));
  // float64 keeps the exact scale, which a Float32Array mask would round.
  return mul(x, mul(cast(Tensor.fromBuffer(generator.dropoutMask(numel(x.shape), p), x.shape), 'float64'), scale));
}
