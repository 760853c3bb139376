/**
 * Random well-typed op programs for differential fuzzing (js backend vs ort backend).
 *
 * A program is plain JSON: a list of nodes in topological order, each an input (dtype, shape,
 * values) or one public-API call over earlier nodes, and the nodes that are its outputs. The same
 * `build` turns a program into lazy tensors on any backend, so a saved program replays exactly.
 *
 * The generator proposes calls at random and keeps those the library accepts: a call that throws a
 * ZhuyiError while the graph is built is backend-independent (shape rules run before any backend),
 * so it is simply dropped. What is left runs on both backends and must agree.
 */
import * as z from '../../src/index.js';
import type { DType, Tensor } from '../../src/index.js';

export type InputNode = { kind: 'input'; dtype: DType; shape: number[]; data: number[] };
export type OpNode = { kind: 'op'; op: string; args: number[]; attrs: Record<string, unknown> };
export type Node = InputNode | OpNode;
export interface Program { nodes: Node[]; outputs: number[] }

// ---- seeded randomness ------------------------------------------------------------------------------

/** mulberry32: small, seedable, the same sequence everywhere. */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0; }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number { return lo + Math.floor(this.next() * (hi - lo + 1)); }
  chance(p: number): boolean { return this.next() < p; }
  pick<T>(xs: readonly T[]): T { return xs[Math.floor(this.next() * xs.length)]!; }
  weighted<T extends string>(table: Readonly<Record<T, number>>): T {
    const entries = Object.entries(table) as [T, number][];
    let r = this.next() * entries.reduce((s, [, w]) => s + w, 0);
    for (const [k, w] of entries) { r -= w; if (r < 0) return k; }
    return entries[entries.length - 1]![0];
  }
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) { const j = this.int(0, i); [xs[i], xs[j]] = [xs[j]!, xs[i]!]; }
    return xs;
  }
}

// ---- the calls a program may make ----------------------------------------------------------------

type Attrs = Record<string, unknown>;
type Call = (xs: Tensor[], a: Attrs) => Tensor;

const num = (a: Attrs, k: string): number => a[k] as number;
const dims = (a: Attrs, k: string): number[] => a[k] as number[];

const UNARY = ['neg', 'exp', 'log', 'sqrt', 'rsqrt', 'reciprocal', 'tanh', 'sigmoid', 'relu', 'erf', 'abs', 'sign', 'sin', 'cos', 'logicalNot'] as const;
const BINARY = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr'] as const;
const SCALAR_FNS = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'lt', 'ge'] as const;
const COMPARISONS = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

const unaryCalls = Object.fromEntries(UNARY.map((name) => [name, ([x]: Tensor[]) => (z[name] as (t: Tensor) => Tensor)(x!)]));
const binaryCalls = Object.fromEntries(BINARY.map((name) => [name, ([x, y]: Tensor[]) => (z[name] as (a: Tensor, b: Tensor) => Tensor)(x!, y!)]));

export const CALLS: Record<string, Call> = {
  ...unaryCalls,
  ...binaryCalls,
  gelu: ([x], a) => z.gelu(x!, a.approximate as 'none' | 'tanh'),
  scalar: ([x], a) => {
    const f = z[a.fn as (typeof SCALAR_FNS)[number]] as (p: Tensor | number, q: Tensor | number) => Tensor;
    return a.left ? f(num(a, 'value'), x!) : f(x!, num(a, 'value'));
  },
  where: ([c, x, y]) => z.where(c!, x!, y!),
  whereScalar: ([c, x], a) => z.where(c!, x!, num(a, 'value')),
  clamp: ([x], a) => z.clamp(x!, a.min as number | null, a.max as number | null),
  maskedFill: ([x, m], a) => z.maskedFill(x!, m!, num(a, 'value')),
  sum: ([x], a) => z.sum(x!, a.dim as number[] | null, a.keepdim as boolean),
  mean: ([x], a) => z.mean(x!, a.dim as number[] | null, a.keepdim as boolean),
  amax: ([x], a) => z.amax(x!, a.dim as number[] | null, a.keepdim as boolean),
  amin: ([x], a) => z.amin(x!, a.dim as number[] | null, a.keepdim as boolean),
  maxDim: ([x], a) => z.max(x!, num(a, 'dim'), a.keepdim as boolean).values,
  minDim: ([x], a) => z.min(x!, num(a, 'dim'), a.keepdim as boolean).values,
  argmax: ([x], a) => (a.dim === null ? z.argmax(x!) : z.argmax(x!, num(a, 'dim'), a.keepdim as boolean)),
  argmin: ([x], a) => (a.dim === null ? z.argmin(x!) : z.argmin(x!, num(a, 'dim'), a.keepdim as boolean)),
  topk: ([x], a) => { const r = z.topk(x!, num(a, 'k'), num(a, 'dim'), a.largest as boolean); return a.part === 'values' ? r.values : r.indices; },
  softmax: ([x], a) => z.softmax(x!, num(a, 'dim')),
  logSoftmax: ([x], a) => z.logSoftmax(x!, num(a, 'dim')),
  reshape: ([x], a) => z.reshape(x!, dims(a, 'shape')),
  flatten: ([x], a) => z.flatten(x!, num(a, 'start'), num(a, 'end')),
  squeeze: ([x], a) => z.squeeze(x!, a.dim as number | undefined),
  unsqueeze: ([x], a) => z.unsqueeze(x!, num(a, 'dim')),
  permute: ([x], a) => z.permute(x!, dims(a, 'dims')),
  transpose: ([x], a) => z.transpose(x!, num(a, 'dim0'), num(a, 'dim1')),
  expand: ([x], a) => z.expand(x!, dims(a, 'shape')),
  slice: ([x], a) => z.slice(x!, num(a, 'dim'), a.start as number | null, a.end as number | null),
  chunk: ([x], a) => z.chunk(x!, num(a, 'chunks'), num(a, 'dim'))[num(a, 'part')] ?? x!,
  cat: (xs, a) => z.cat(xs, num(a, 'dim')),
  stack: (xs, a) => z.stack(xs, num(a, 'dim')),
  pad: ([x], a) => z.pad(x!, dims(a, 'padding'), num(a, 'value')),
  gather: ([x, i], a) => z.gather(x!, num(a, 'dim'), i!),
  indexSelect: ([x, i], a) => z.indexSelect(x!, num(a, 'dim'), i!),
  scatterAdd: ([x, i, s], a) => z.scatterAdd(x!, num(a, 'dim'), i!, s!),
  matmul: ([x, y]) => z.matmul(x!, y!),
  cast: ([x], a) => z.cast(x!, a.dtype as DType),
  tril: ([x], a) => z.tril(x!, num(a, 'diagonal')),
  triu: ([x], a) => z.triu(x!, num(a, 'diagonal')),
  oneHot: ([i], a) => z.oneHot(i!, num(a, 'classes')),
  detach: ([x]) => z.detach(x!),
};

/** The lazy tensors of a program: its outputs, and gradients of a fixed weighted sum of its float outputs w.r.t. its float inputs. */
export interface Built { outputs: Tensor[]; grads: Tensor[]; floatInputs: number[]; dtypes: Set<DType> }

export function build(p: Program): Built {
  const ts: Tensor[] = [];
  const floatInputs: number[] = [];
  p.nodes.forEach((n, i) => {
    if (n.kind === 'input') {
      const requiresGrad = n.dtype === 'float32' || n.dtype === 'float64';
      if (requiresGrad) floatInputs.push(i);
      ts.push(z.tensor(n.data, { dtype: n.dtype, shape: n.shape, requiresGrad }));
      return;
    }
    const call = CALLS[n.op];
    if (!call) throw new Error(`fuzz: unknown call '${n.op}'`);
    ts.push(call(n.args.map((j) => ts[j]!), n.attrs));
  });
  const outputs = p.outputs.map((o) => ts[o]!);
  let loss: Tensor | null = null;
  outputs.forEach((o, k) => {
    if (!o.requiresGrad) return;
    const w = z.tensor(weights(k, o.size), { dtype: o.dtype, shape: o.shape });
    const term = z.cast(z.sum(z.mul(o, w)), 'float64');
    loss = loss ? z.add(loss, term) : term;
  });
  const grads = loss ? z.grad(loss, floatInputs.map((i) => ts[i]!)) : [];
  return { outputs, grads, floatInputs, dtypes: new Set(ts.map((t) => t.dtype)) };
}

/** Fixed weights of output k: quarters in [-2, 2], the same on every backend and every replay. */
function weights(k: number, n: number): number[] {
  const r = new Rng(1000 + k);
  return Array.from({ length: n }, () => r.int(-8, 8) / 4);
}

// ---- generation -------------------------------------------------------------------------------------

/**
 * Per generated value: its tensor, and whether both backends compute it bit for bit. Inputs are
 * quarters, and +, -, *, /, sqrt, max, movement and casts are correctly rounded in js and in ONNX
 * Runtime; exp, sums, matmul and friends are not. Only bit-exact values feed comparisons, argmax,
 * topk, sign and casts to int/bool: a last-bit difference there would be a false alarm.
 */
interface Value { t: Tensor; exact: boolean }

const EXACT_OPS = new Set(['neg', 'abs', 'relu', 'add', 'sub', 'mul', 'div', 'sqrt', 'maximum', 'minimum', 'where', 'whereScalar', 'clamp', 'maskedFill',
  'amax', 'amin', 'maxDim', 'minDim', 'reshape', 'flatten', 'squeeze', 'unsqueeze', 'permute', 'transpose', 'expand', 'slice', 'chunk', 'cat', 'stack',
  'pad', 'gather', 'indexSelect', 'cast', 'tril', 'triu', 'oneHot', 'detach', 'logicalNot', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr', 'argmax', 'argmin', 'topk']);
const EXACT_SCALAR_FNS = new Set(['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'eq', 'lt', 'ge']);
/** Calls whose result is discrete in their inputs: only bit-exact inputs. */
const DISCRETE = new Set(['sign', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'argmax', 'argmin', 'topk', 'logicalNot', 'logicalAnd', 'logicalOr']);

const KINDS = {
  unary: 14, gelu: 2, binary: 16, scalar: 6, where: 5, clamp: 2, maskedFill: 2, reduce: 8, extremeDim: 3, arg: 3, topk: 2, softmax: 4,
  reshape: 4, flatten: 2, squeeze: 2, unsqueeze: 2, permute: 4, transpose: 2, expand: 3, slice: 5, chunk: 1, cat: 3, stack: 2, pad: 3,
  gather: 4, indexSelect: 3, scatterAdd: 4, matmul: 5, cast: 5, trilu: 1, oneHot: 1, detach: 1,
} as const;
type Kind = keyof typeof KINDS;

const DTYPE_WEIGHTS = { float32: 5, float64: 2, int32: 2, bool: 1.5 } as const;

export interface GenOptions { maxOps?: number; maxSize?: number }

class Gen {
  readonly nodes: Node[] = [];
  readonly values: Value[] = [];
  constructor(readonly r: Rng, readonly maxSize: number) {}

  randomShape(maxRank = 4): number[] {
    const rank = this.r.weighted({ 0: 1, 1: 3, 2: 4, 3: 3, 4: 1 } as Record<string, number>);
    const shape: number[] = [];
    for (let i = 0; i < Math.min(Number(rank), maxRank); i++) shape.push(this.dimSize(1, 4));
    while (shape.reduce((a, b) => a * b, 1) > this.maxSize) shape[shape.indexOf(Math.max(...shape))]! -= 1;
    return shape;
  }

  /** A dim size in [lo, hi], now and then 0 (zero-size graphs run on js in the ort backend, so keep them few). */
  dimSize(lo: number, hi: number): number {
    return this.r.chance(0.025) ? 0 : this.r.int(lo, hi);
  }

  /** Integer powers beyond int32 are undefined in ONNX Runtime (PyTorch wraps): keep int bases and exponents small. */
  smallInts(i: number, lo: number, hi: number): number {
    const t = this.values[i]!.t;
    return t.dtype === 'int32' || t.dtype === 'bool' ? this.add({ kind: 'op', op: 'clamp', args: [i], attrs: { min: lo, max: hi } }) : i;
  }

  randomData(dtype: DType, n: number): number[] {
    return Array.from({ length: n }, () => {
      if (dtype === 'bool') return this.r.int(0, 1);
      if (dtype === 'int32') return this.r.int(-4, 4);
      // No huge finite values: with 1e30 in a sum, the result is whatever the summation order leaves
      // (float64 gradients 0 vs -0.5 between backends), and cos(1e30) tests argument reduction only.
      if (this.r.chance(0.03)) return this.r.pick([NaN, Infinity, -Infinity, -0]);
      return this.r.int(-12, 12) / 4;
    });
  }

  input(dtype: DType, shape: number[], data?: number[]): number {
    const n = shape.reduce((a, b) => a * b, 1);
    const node: InputNode = { kind: 'input', dtype, shape, data: data ?? this.randomData(dtype, n) };
    this.nodes.push(node);
    const requiresGrad = dtype === 'float32' || dtype === 'float64';
    this.values.push({ t: z.tensor(node.data, { dtype, shape, requiresGrad }), exact: true });
    return this.nodes.length - 1;
  }

  /** An index tensor for `size` positions: mostly the edges (first, last, negative last), some middles. */
  indices(shape: number[], size: number): number {
    if (size === 0) throw new z.ArgumentError('fuzz: no valid index into an empty dim');
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Array.from({ length: n }, () => this.r.pick([0, size - 1, -1, -size, this.r.int(0, Math.max(0, size - 1))]));
    return this.input('int32', shape, data);
  }

  /** A recent value most of the time (chains), any value otherwise; optionally only bit-exact ones. */
  pickValue(filter: (v: Value) => boolean = () => true): number | null {
    const ok = this.values.map((v, i) => [v, i] as const).filter(([v]) => filter(v)).map(([, i]) => i);
    if (ok.length === 0) return null;
    if (this.r.chance(0.6)) return ok[ok.length - 1 - Math.min(ok.length - 1, this.r.int(0, 1))]!;
    return this.r.pick(ok);
  }

  /** A value whose shape broadcasts against `shape` (existing if one fits, else a new input). */
  partner(shape: readonly number[], dtype: DType, exact: boolean): number {
    const want = shape.slice(this.r.int(0, shape.length)).map((d) => (this.r.chance(0.3) ? 1 : d));
    if (this.r.chance(0.15) && want.length < 4) want.unshift(this.r.int(1, 2));
    const same = this.values.map((v, i) => [v, i] as const)
      .filter(([v]) => v.t.dtype === dtype && (v.exact || !exact) && v.t.shape.join() === want.join());
    if (same.length > 0 && this.r.chance(0.6)) return this.r.pick(same)[1];
    return this.input(dtype, want);
  }

  /** Tries one random call; returns whether it was added. */
  step(): boolean {
    const mark = this.nodes.length;
    const kind = this.r.weighted(KINDS) as Kind;
    let spec: OpNode | null;
    try {
      spec = this.propose(kind);
      if (spec === null) { this.rollback(mark); return false; }
      const t = CALLS[spec.op]!(spec.args.map((j) => this.values[j]!.t), spec.attrs);
      if (t.size > this.maxSize * 2) { this.rollback(mark); return false; }
      this.push(spec, t);
      return true;
    } catch (e) {
      if (!(e instanceof z.ZhuyiError)) throw e;
      this.rollback(mark);
      return false;
    }
  }

  /** Appends an accepted call and its tensor; a value is bit-exact when its inputs are and the call keeps exactness. */
  push(spec: OpNode, t: Tensor): number {
    const argsExact = spec.args.every((j) => this.values[j]!.exact);
    const keeps = EXACT_OPS.has(spec.op) || t.dtype === 'int32' || t.dtype === 'bool'
      || (spec.op === 'scalar' && EXACT_SCALAR_FNS.has(spec.attrs.fn as string));
    this.nodes.push(spec);
    this.values.push({ t, exact: argsExact && keeps });
    return this.nodes.length - 1;
  }

  /** Applies and appends a helper call inside a proposal (rolled back with it if the proposal fails). */
  add(spec: OpNode): number {
    return this.push(spec, CALLS[spec.op]!(spec.args.map((j) => this.values[j]!.t), spec.attrs));
  }

  rollback(mark: number): void {
    this.nodes.length = mark;
    this.values.length = mark;
  }

  attrsDims(ndim: number): number[] | null {
    if (ndim === 0 || this.r.chance(0.25)) return null;
    const all = Array.from({ length: ndim }, (_, i) => i);
    const chosen = this.r.shuffle(all).slice(0, this.r.int(1, ndim));
    return chosen.map((d) => (this.r.chance(0.3) ? d - ndim : d));
  }

  propose(kind: Kind): OpNode | null {
    const r = this.r;
    const op = (name: string, args: number[], attrs: Attrs = {}): OpNode => ({ kind: 'op', op: name, args, attrs });
    const anyVal = (): number | null => this.pickValue();
    const exactVal = (): number | null => this.pickValue((v) => v.exact);
    const v = (i: number): Tensor => this.values[i]!.t;
    const axis = (t: Tensor): number => { const d = r.int(0, Math.max(0, t.ndim - 1)); return r.chance(0.3) ? d - t.ndim : d; };
    // gather's and scatterAdd's index: 1 to 4 along the axis, at most x's size elsewhere (PyTorch's rule).
    const indexAlong = (t: Tensor): { dim: number; shape: number[]; idx: number } => {
      const dim = axis(t);
      const ax = (dim + t.ndim) % t.ndim;
      const shape = t.shape.map((d, i) => (i === ax ? r.int(1, 4) : r.int(Math.min(1, d), d)));
      return { dim, shape, idx: this.indices(shape, t.shape[ax]!) };
    };
    switch (kind) {
      case 'unary': {
        const name = r.pick(UNARY);
        const x = DISCRETE.has(name) ? exactVal() : anyVal();
        return x === null ? null : op(name, [x]);
      }
      case 'gelu': { const x = anyVal(); return x === null ? null : op('gelu', [x], { approximate: r.pick(['none', 'tanh']) }); }
      case 'binary': {
        const name = r.pick(BINARY);
        const discrete = DISCRETE.has(name);
        const x = discrete ? exactVal() : anyVal();
        if (x === null) return null;
        const dtype = r.chance(0.8) ? v(x).dtype : r.weighted(DTYPE_WEIGHTS);
        const y = this.partner(v(x).shape, dtype, discrete || name === 'pow');
        // pow of a negative base jumps between a number and NaN as the exponent crosses an integer: the exponent must be bit-exact.
        const [first, second] = name === 'pow' && !this.values[x]!.exact ? [x, y] : r.chance(0.5) ? [x, y] : [y, x];
        if (name === 'pow' && !isFloatValue(v(first)) && !isFloatValue(v(second))) return op(name, [this.smallInts(first, -3, 3), this.smallInts(second, -3, 9)]);
        return op(name, [first, second]);
      }
      case 'scalar': {
        const fn = r.pick(SCALAR_FNS);
        const left = r.chance(0.3);
        const x = COMPARISONS.has(fn) || (fn === 'pow' && left) ? exactVal() : anyVal();
        if (x === null) return null;
        // Dividing by a constant whose reciprocal is inexact (3, -2.5) or infinite (0) is left out: ONNX Runtime's
        // MatMulScaleFusion folds it into a matmul as a float alpha (tests/fuzz/known/).
        const value = r.pick(fn === 'div' && !left ? [1, 2, -1, 0.5, 4] : [0, 1, 2, -1, 0.5, -2.5, 3]);
        return op('scalar', [fn === 'pow' ? this.smallInts(x, -3, left ? 9 : 3) : x], { fn, value, left });
      }
      case 'where': {
        const c = this.pickValue((u) => u.exact && u.t.dtype === 'bool');
        if (c === null) return null;
        const x = anyVal()!;
        if (r.chance(0.3)) return op('whereScalar', [c, x], { value: r.pick([0, 1, -Infinity, 2.5]) });
        const y = this.partner(v(x).shape, r.chance(0.8) ? v(x).dtype : r.weighted(DTYPE_WEIGHTS), false);
        return op('where', [c, x, y]);
      }
      case 'clamp': {
        const x = anyVal()!;
        const lo = r.chance(0.7) ? r.pick([-1, 0, -0.5]) : null;
        return op('clamp', [x], { min: lo, max: lo === null || r.chance(0.5) ? r.pick([1, 0.5, 2]) : null });
      }
      case 'maskedFill': {
        const m = this.pickValue((u) => u.exact && u.t.dtype === 'bool');
        const x = anyVal()!;
        return m === null ? null : op('maskedFill', [x, m], { value: r.pick([0, -1e9, -Infinity, 1.5]) });
      }
      case 'reduce': {
        const x = anyVal()!;
        return op(r.pick(['sum', 'sum', 'mean', 'amax', 'amin']), [x], { dim: this.attrsDims(v(x).ndim), keepdim: r.chance(0.5) });
      }
      case 'extremeDim': {
        const x = exactVal();
        return x === null ? null : op(r.pick(['maxDim', 'minDim']), [x], { dim: axis(v(x)), keepdim: r.chance(0.5) });
      }
      case 'arg': {
        const x = exactVal();
        if (x === null) return null;
        return op(r.pick(['argmax', 'argmin']), [x], { dim: r.chance(0.2) ? null : axis(v(x)), keepdim: r.chance(0.5) });
      }
      case 'topk': {
        const x = exactVal();
        if (x === null) return null;
        const dim = axis(v(x));
        const size = v(x).ndim === 0 ? 1 : v(x).shape[(dim + v(x).ndim) % v(x).ndim]!;
        return op('topk', [x], { k: r.chance(0.05) ? 0 : r.int(Math.min(1, size), size), dim, largest: r.chance(0.5), part: r.pick(['values', 'indices']) });
      }
      case 'softmax': { const x = anyVal()!; return op(r.pick(['softmax', 'logSoftmax']), [x], { dim: axis(v(x)) }); }
      case 'reshape': {
        const x = anyVal()!;
        const shape = this.factor(v(x).size);
        if (shape.length > 0 && r.chance(0.3)) shape[r.int(0, shape.length - 1)] = -1;
        return op('reshape', [x], { shape });
      }
      case 'flatten': { const x = anyVal()!; const t = v(x); const s = r.int(0, Math.max(0, t.ndim - 1)); return op('flatten', [x], { start: s, end: r.int(s, Math.max(s, t.ndim - 1)) }); }
      case 'squeeze': { const x = anyVal()!; return op('squeeze', [x], r.chance(0.5) ? {} : { dim: axis(v(x)) }); }
      case 'unsqueeze': { const x = anyVal()!; return op('unsqueeze', [x], { dim: r.int(-v(x).ndim - 1, v(x).ndim) }); }
      case 'permute': { const x = anyVal()!; return op('permute', [x], { dims: r.shuffle(Array.from({ length: v(x).ndim }, (_, i) => i)) }); }
      case 'transpose': { const x = anyVal()!; return op('transpose', [x], { dim0: axis(v(x)), dim1: axis(v(x)) }); }
      case 'expand': {
        const x = anyVal()!;
        const shape = v(x).shape.map((d) => (d === 1 && r.chance(0.7) ? this.dimSize(1, 3) : r.chance(0.3) ? -1 : d));
        if (r.chance(0.4)) shape.unshift(r.int(1, 3));
        return op('expand', [x], { shape });
      }
      case 'slice': {
        const x = anyVal()!;
        const t = v(x);
        if (t.ndim === 0) return null;
        const dim = axis(t);
        const size = t.shape[(dim + t.ndim) % t.ndim]!;
        if (r.chance(0.1) || size === 0) {
          // Anything Python accepts: out-of-range bounds clamp, start >= end is empty.
          const bound = (): number | null => (r.chance(0.2) ? null : r.int(-size - 1, size + 1));
          return op('slice', [x], { dim, start: bound(), end: bound() });
        }
        const start = r.int(0, size - 1);
        const end = r.int(start + 1, size);
        return op('slice', [x], {
          dim,
          start: start === 0 && r.chance(0.3) ? null : r.chance(0.3) ? start - size : start,
          end: end === size && r.chance(0.3) ? null : r.chance(0.3) ? end - size : end,
        });
      }
      case 'chunk': { const x = anyVal()!; if (v(x).ndim === 0) return null; return op('chunk', [x], { chunks: r.int(1, 3), dim: axis(v(x)), part: r.int(0, 2) }); }
      case 'cat':
      case 'stack': {
        const x = anyVal()!;
        const t = v(x);
        const n = r.int(1, 3);
        const dim = kind === 'cat' ? axis(t) : r.int(-t.ndim - 1, t.ndim);
        const args = [x];
        for (let k = 1; k < n; k++) {
          const shape = [...t.shape];
          if (kind === 'cat' && t.ndim > 0) shape[(dim + t.ndim) % t.ndim] = this.dimSize(1, 3);
          args.push(r.chance(0.3) ? x : this.input(r.chance(0.8) ? t.dtype : r.weighted(DTYPE_WEIGHTS), shape));
        }
        return op(kind, args, { dim });
      }
      case 'pad': {
        const x = anyVal()!;
        const pairs = r.int(0, v(x).ndim);
        return op('pad', [x], { padding: Array.from({ length: 2 * pairs }, () => r.int(0, 2)), value: r.pick([0, 1, -1.5]) });
      }
      case 'gather': {
        const x = anyVal()!;
        const t = v(x);
        if (t.ndim === 0) return null;
        const { dim, idx } = indexAlong(t);
        return op('gather', [x, idx], { dim });
      }
      case 'indexSelect': {
        const x = anyVal()!;
        const t = v(x);
        if (t.ndim === 0) return null;
        const dim = axis(t);
        return op('indexSelect', [x, this.indices([this.dimSize(1, 4)], t.shape[(dim + t.ndim) % t.ndim]!)], { dim });
      }
      case 'scatterAdd': {
        const x = anyVal()!;
        const t = v(x);
        if (t.ndim === 0) return null;
        const { dim, shape, idx } = indexAlong(t);
        return op('scatterAdd', [x, idx, this.input(t.dtype === 'bool' ? 'float32' : t.dtype, shape)], { dim });
      }
      case 'matmul': {
        const x = anyVal()!;
        const t = v(x);
        if (t.ndim === 0) return null;
        const k = t.shape[t.ndim - 1]!;
        const rank = r.int(1, 3);
        const shape = rank === 1 ? [k] : [...(rank === 3 ? [r.chance(0.5) ? 1 : r.int(1, 2)] : []), k, this.dimSize(1, 3)];
        const y = this.input(r.chance(0.85) ? t.dtype : r.weighted(DTYPE_WEIGHTS), shape);
        return r.chance(0.8) ? op('matmul', [x, y]) : op('matmul', [this.input(t.dtype, [r.int(1, 3), t.shape[0]!]), x]);
      }
      case 'cast': {
        const dtype = r.weighted(DTYPE_WEIGHTS);
        const x = dtype === 'int32' || dtype === 'bool' ? exactVal() : anyVal();
        if (x === null) return null;
        // Float -> int of NaN, inf or out-of-range values is undefined in C++ (and so in PyTorch and ONNX Runtime):
        // clamp and zero NaN first.
        if (dtype === 'int32' && (v(x).dtype === 'float32' || v(x).dtype === 'float64')) {
          const clamped = this.add(op('clamp', [x], { min: -100, max: 100 }));
          const isNumber = this.add(op('eq', [clamped, clamped]));
          return op('cast', [this.add(op('whereScalar', [isNumber, clamped], { value: 0 }))], { dtype });
        }
        return op('cast', [x], { dtype });
      }
      case 'trilu': { const x = anyVal()!; return op(r.pick(['tril', 'triu']), [x], { diagonal: r.int(-2, 2) }); }
      case 'oneHot': {
        const n = r.int(1, 4);
        const data = Array.from({ length: this.dimSize(1, 5) }, () => r.int(0, n - 1));
        return op('oneHot', [this.input('int32', r.chance(0.5) ? [data.length] : [1, data.length], data)], { classes: n });
      }
      case 'detach': { const x = anyVal()!; return op('detach', [x]); }
    }
  }

  /** A random shape with `n` elements (rank 0 when n is 1 sometimes). */
  factor(n: number): number[] {
    if (n === 0) return this.r.pick([[0], [2, 0], [0, 3, 1]]);
    const shape: number[] = [];
    let rest = n;
    while (rest > 1 && shape.length < 3) {
      const divisors = Array.from({ length: rest }, (_, i) => i + 1).filter((d) => rest % d === 0 && d > 1);
      const d = this.r.pick(divisors);
      shape.push(d);
      rest /= d;
    }
    if (rest > 1) shape.push(rest);
    if (this.r.chance(0.3)) shape.splice(this.r.int(0, shape.length), 0, 1);
    return this.r.shuffle(shape);
  }
}

function isFloatValue(t: Tensor): boolean {
  return t.dtype === 'float32' || t.dtype === 'float64';
}

/** One random program: 1-3 inputs, then up to `maxOps` accepted calls; the outputs are the values nothing else reads. */
export function generate(seed: number, { maxOps = 8, maxSize = 48 }: GenOptions = {}): Program {
  const r = new Rng(seed);
  const g = new Gen(r, maxSize);
  const inputs = r.int(1, 2);
  for (let i = 0; i < inputs; i++) g.input(r.weighted(DTYPE_WEIGHTS), g.randomShape());
  const target = r.int(1, maxOps);
  let ops = 0;
  for (let attempt = 0; ops < target && attempt < target * 6; attempt++) if (g.step()) ops++;
  return { nodes: g.nodes, outputs: sinks(g.nodes) };
}

/** Nodes no op reads (inputs included only when nothing reads them and they are not indices). */
export function sinks(nodes: readonly Node[]): number[] {
  const read = new Set(nodes.flatMap((n) => (n.kind === 'op' ? n.args : [])));
  return nodes.flatMap((n, i) => (!read.has(i) && n.kind === 'op' ? [i] : []));
}
