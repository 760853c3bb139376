import type { Attrs, Meta } from '../ops/registry.js';
import { getOp } from '../ops/registry.js';
import * as F from '../ops/functional.js';
import { backward } from '../autograd/grad.js';
// Every op registers itself when its module loads; importing them here makes any deep import work.
import '../ops/index.js';
import { type DType, type TypedArray, assertDType, castArray, dtypeOfArray } from './dtype.js';
import { ArgumentError, ShapeError, ZhuyiError, fmtShape } from './errors.js';
import { isGradEnabled } from './grad-mode.js';
import { type Shape, checkShape, numel, varargs } from './shape.js';
import { realize } from './realize.js';
import { checkOptions } from './options.js';

let nextId = 1;

export type NestedArray = number | boolean | readonly NestedArray[];
export type SizeArgs = (number | readonly number[])[];

/**
 * A lazy n-dimensional array. Ops return new tensors at once and compute nothing; `await t.data()`,
 * `await t.item()`, `await t.tolist()` or `await realize(a, b, ...)` run the graph on the active backend.
 *
 * A tensor is either realized (it holds `buffer`, a contiguous row-major typed array) or a node
 * (`op` applied to `inputs`). Realizing a node stores its buffer and, unless autograd still needs its
 * history, drops its op and inputs so graphs never grow across training steps.
 *
 * Leaves are PyTorch's: a tensor is a leaf unless an op made it from an input that requires grad
 * (PyTorch's `grad_fn is not None`). `randn([3]).mul(0.5)` is a leaf, realized or not, so
 * `requiresGrad_()` makes it a tensor that gradients stop at, exactly as in PyTorch.
 */
export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** The op that made this tensor, or null for a leaf (created from data or by a user). */
  op: string | null;
  inputs: readonly Tensor[];
  readonly attrs: Attrs;
  /** The values once realized. Backends read realized tensors as graph inputs. */
  buffer: TypedArray | null;
  /** Whether gradients flow to this tensor (set on leaves by the user; derived on nodes). */
  requiresGrad: boolean;
  /** Accumulated gradient after `backward()`; lazy like everything else. */
  grad: Tensor | null = null;
  /** Made by an op from inputs that require grad: autograd walks through it (PyTorch's grad_fn). */
  readonly #hasHistory: boolean;

  constructor(meta: Meta, op: string | null, inputs: readonly Tensor[], attrs: Attrs, buffer: TypedArray | null, requiresGrad: boolean) {
    this.shape = Object.freeze([...meta.shape]);
    this.dtype = meta.dtype;
    this.op = op;
    this.inputs = inputs;
    this.attrs = attrs;
    this.buffer = buffer;
    this.requiresGrad = requiresGrad;
    this.#hasHistory = op !== null && requiresGrad;
  }

  /** Creates a realized leaf from a buffer (not copied). */
  static fromBuffer(buffer: TypedArray, shape: Shape, requiresGrad = false): Tensor {
    const s = checkShape('tensor', shape);
    if (numel(s) !== buffer.length) {
      throw new ShapeError(`tensor: ${buffer.length} values do not fill shape ${fmtShape(s)} (${numel(s)} elements)`);
    }
    return new Tensor({ shape: s, dtype: dtypeOfArray(buffer) }, null, [], {}, buffer, requiresGrad);
  }

  get ndim(): number { return this.shape.length; }
  /** Number of elements (PyTorch's `numel()`). */
  get size(): number { return numel(this.shape); }
  numel(): number { return numel(this.shape); }
  /** `t.dim()` as in PyTorch; `t.ndim` too. */
  dim(): number { return this.shape.length; }
  /** True unless an op made this tensor from inputs that require grad (PyTorch's `is_leaf`). */
  get isLeaf(): boolean { return !this.#hasHistory; }
  get isRealized(): boolean { return this.buffer !== null; }
  get meta(): Meta { return { shape: this.shape, dtype: this.dtype }; }

  /** Stores the result of a realize; a leaf drops its op and inputs (only autograd needs a history). */
  setRealized(buffer: TypedArray): void {
    if (buffer.length !== this.size) throw new ZhuyiError(`realize: backend returned ${buffer.length} values for a tensor of shape ${fmtShape(this.shape)}`);
    this.buffer = buffer;
    if (this.isLeaf) this.becomeLeafData();
  }

  /** A leaf that was computed keeps nothing of how: its values are all there is. */
  private becomeLeafData(): void {
    this.op = null;
    this.inputs = [];
  }

  /** Replaces a leaf's values (used by optimizers: `p.assign(newValue)`); shape and dtype must match. */
  assign(value: Tensor): this {
    if (!this.isLeaf) throw new ZhuyiError(`assign: only leaf tensors can be assigned, got ${this} (made from tensors that require grad; use detach())`);
    if (value.dtype !== this.dtype || value.size !== this.size) {
      throw new ShapeError(`assign: value ${value.dtype}${fmtShape(value.shape)} does not fit ${this.dtype}${fmtShape(this.shape)}`);
    }
    if (value.buffer === null) throw new ZhuyiError('assign: realize the value first (await realize(value))');
    this.buffer = value.buffer;
    this.becomeLeafData();
    return this;
  }

  // ---- realisation ------------------------------------------------------------------------------

  /** The values as a typed array (Float32Array, Float64Array, Int32Array or Uint8Array for bool). */
  async data(): Promise<TypedArray> {
    await realize(this);
    return this.buffer!;
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new ShapeError(`item: only one-element tensors convert to a number, got shape ${fmtShape(this.shape)}`);
    return (await this.data())[0]!;
  }

  /** Nested arrays (booleans for bool tensors), like PyTorch's `tolist()`. */
  async tolist(): Promise<NestedArray> {
    const d = await this.data();
    const isBool = this.dtype === 'bool';
    const build = (dim: number, offset: number): [NestedArray, number] => {
      if (dim === this.shape.length) return [isBool ? d[offset] !== 0 : d[offset]!, offset + 1];
      const arr: NestedArray[] = [];
      for (let i = 0; i < this.shape[dim]!; i++) {
        const [v, next] = build(dim + 1, offset);
        arr.push(v);
        offset = next;
      }
      return [arr, offset];
    };
    return build(0, 0)[0];
  }

  toString(): string {
    return `Tensor(${this.dtype}${fmtShape(this.shape)}${this.op ? `, op=${this.op}` : ''}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  // ---- autograd -----------------------------------------------------------------------------------

  /** Accumulates d(this)/d(leaf) into `leaf.grad` for every leaf with `requiresGrad` (lazily). */
  backward(gradient?: Tensor): void {
    backward(this, gradient);
  }

  /** A tensor with the same values and no autograd history. */
  detach(): Tensor {
    return F.detach(this);
  }

  /**
   * Sets whether gradients flow to this leaf (PyTorch's `requires_grad_`). A non-leaf already requires
   * grad; turning that off throws PyTorch's error, as does asking it of a non-float tensor.
   */
  requiresGrad_(flag = true): this {
    if (!this.isLeaf) {
      if (flag) return this;
      throw new ZhuyiError(
        `requiresGrad_: you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use varNoGrad = var.detach(). (got ${this})`,
      );
    }
    if (flag && this.dtype !== 'float32' && this.dtype !== 'float64') {
      throw new ArgumentError(`requiresGrad_: only Tensors of floating point dtype can require gradients, got ${this.dtype}`);
    }
    this.requiresGrad = flag;
    return this;
  }

  // ---- ops as methods (PyTorch names); implementations live in ops/functional.ts ----------------

  to(dtype: DType): Tensor { return F.cast(this, assertDType(dtype, 'to')); }
  float(): Tensor { return F.cast(this, 'float32'); }
  int(): Tensor { return F.cast(this, 'int32'); }
  bool(): Tensor { return F.cast(this, 'bool'); }
  clone(): Tensor { return F.clone(this); }

  add(other: Tensor | number, alpha?: number): Tensor { return F.add(this, other, alpha); }
  sub(other: Tensor | number, alpha?: number): Tensor { return F.sub(this, other, alpha); }
  mul(other: Tensor | number): Tensor { return F.mul(this, other); }
  div(other: Tensor | number): Tensor { return F.div(this, other); }
  pow(exponent: Tensor | number): Tensor { return F.pow(this, exponent); }
  maximum(other: Tensor | number): Tensor { return F.maximum(this, other); }
  minimum(other: Tensor | number): Tensor { return F.minimum(this, other); }
  eq(other: Tensor | number): Tensor { return F.eq(this, other); }
  ne(other: Tensor | number): Tensor { return F.ne(this, other); }
  lt(other: Tensor | number): Tensor { return F.lt(this, other); }
  le(other: Tensor | number): Tensor { return F.le(this, other); }
  gt(other: Tensor | number): Tensor { return F.gt(this, other); }
  ge(other: Tensor | number): Tensor { return F.ge(this, other); }
  logicalAnd(other: Tensor): Tensor { return F.logicalAnd(this, other); }
  logicalOr(other: Tensor): Tensor { return F.logicalOr(this, other); }
  logicalNot(): Tensor { return F.logicalNot(this); }

  neg(): Tensor { return F.neg(this); }
  exp(): Tensor { return F.exp(this); }
  log(): Tensor { return F.log(this); }
  sqrt(): Tensor { return F.sqrt(this); }
  rsqrt(): Tensor { return F.rsqrt(this); }
  reciprocal(): Tensor { return F.reciprocal(this); }
  tanh(): Tensor { return F.tanh(this); }
  sigmoid(): Tensor { return F.sigmoid(this); }
  relu(): Tensor { return F.relu(this); }
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor { return F.gelu(this, approximate); }
  erf(): Tensor { return F.erf(this); }
  abs(): Tensor { return F.abs(this); }
  sin(): Tensor { return F.sin(this); }
  cos(): Tensor { return F.cos(this); }
  clamp(min?: number | null, max?: number | null): Tensor { return F.clamp(this, min, max); }
  where(condition: Tensor, other: Tensor | number): Tensor { return F.where(condition, this, other); }
  maskedFill(mask: Tensor, value: number): Tensor { return F.maskedFill(this, mask, value); }

  sum(dim?: number | readonly number[] | null, keepdim = false): Tensor { return F.sum(this, dim, keepdim); }
  mean(dim?: number | readonly number[] | null, keepdim = false): Tensor { return F.mean(this, dim, keepdim); }
  amax(dim?: number | readonly number[] | null, keepdim = false): Tensor { return F.amax(this, dim, keepdim); }
  amin(dim?: number | readonly number[] | null, keepdim = false): Tensor { return F.amin(this, dim, keepdim); }
  max(): Tensor;
  max(dim: number, keepdim?: boolean): F.ValuesIndices;
  max(dim?: number, keepdim = false): Tensor | F.ValuesIndices { return dim === undefined ? F.max(this) : F.max(this, dim, keepdim); }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): F.ValuesIndices;
  min(dim?: number, keepdim = false): Tensor | F.ValuesIndices { return dim === undefined ? F.min(this) : F.min(this, dim, keepdim); }
  argmax(dim?: number, keepdim = false): Tensor { return F.argmax(this, dim, keepdim); }
  argmin(dim?: number, keepdim = false): Tensor { return F.argmin(this, dim, keepdim); }
  topk(k: number, dim = -1, largest = true, sorted = true): F.ValuesIndices { return F.topk(this, k, dim, largest, sorted); }
  softmax(dim: number): Tensor { return F.softmax(this, dim); }
  logSoftmax(dim: number): Tensor { return F.logSoftmax(this, dim); }

  reshape(...shape: SizeArgs): Tensor { return F.reshape(this, varargs(shape)); }
  view(...shape: SizeArgs): Tensor { return F.reshape(this, varargs(shape)); }
  flatten(startDim = 0, endDim = -1): Tensor { return F.flatten(this, startDim, endDim); }
  squeeze(dim?: number | readonly number[]): Tensor { return F.squeeze(this, dim); }
  unsqueeze(dim: number): Tensor { return F.unsqueeze(this, dim); }
  permute(...dims: SizeArgs): Tensor { return F.permute(this, varargs(dims)); }
  transpose(dim0: number, dim1: number): Tensor { return F.transpose(this, dim0, dim1); }
  /** Transpose of a 2-D tensor (PyTorch's `.t()`); `mT` swaps the last two dims. */
  t(): Tensor {
    if (this.ndim > 2) throw new ShapeError(`t: expects a tensor of at most 2 dims, got ${fmtShape(this.shape)}; use transpose or mT`);
    return this.ndim < 2 ? this : F.transpose(this, 0, 1);
  }
  get mT(): Tensor { return F.transpose(this, -2, -1); }
  expand(...shape: SizeArgs): Tensor { return F.expand(this, varargs(shape)); }
  expandAs(other: Tensor): Tensor { return F.expand(this, [...other.shape]); }
  broadcastTo(...shape: SizeArgs): Tensor { return F.expand(this, varargs(shape)); }
  slice(dim: number, start?: number | null, end?: number | null): Tensor { return F.slice(this, dim, start, end); }
  narrow(dim: number, start: number, length: number): Tensor { return F.narrow(this, dim, start, length); }
  split(splitSizeOrSections: number | readonly number[], dim = 0): Tensor[] { return F.split(this, splitSizeOrSections, dim); }
  chunk(chunks: number, dim = 0): Tensor[] { return F.chunk(this, chunks, dim); }
  pad(pad: readonly number[], value = 0): Tensor { return F.pad(this, pad, value); }
  gather(dim: number, index: Tensor): Tensor { return F.gather(this, dim, index); }
  indexSelect(dim: number, index: Tensor): Tensor { return F.indexSelect(this, dim, index); }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor { return F.scatterAdd(this, dim, index, src); }
  matmul(other: Tensor): Tensor { return F.matmul(this, other); }
  tril(diagonal = 0): Tensor { return F.tril(this, diagonal); }
  triu(diagonal = 0): Tensor { return F.triu(this, diagonal); }
  oneHot(numClasses = -1): Tensor { return F.oneHot(this, numClasses); }
}

/** Makes the node for one registered op: validates through the op's shape rule, computes nothing. */
export function apply(opName: string, inputs: readonly Tensor[], attrs: Attrs = {}): Tensor {
  const def = getOp(opName);
  const meta = def.infer(inputs.map((t) => t.meta), attrs);
  const requiresGrad = def.vjp !== 'nondiff' && isGradEnabled() && inputs.some((t) => t.requiresGrad);
  return new Tensor(meta, opName, inputs, attrs, null, requiresGrad);
}

export interface TensorOptions {
  dtype?: DType;
  shape?: readonly number[];
  requiresGrad?: boolean;
}

/** Creates a realized tensor from a number, nested arrays or a typed array (copied). JS numbers default to float32. */
export function tensor(data: NestedArray | ArrayLike<number> | TypedArray, options: TensorOptions = {}): Tensor {
  options = checkOptions('tensor', options, { dtype: 1, shape: 1, requiresGrad: 1 });
  let flat: ArrayLike<number | boolean>;
  let shape: number[];
  let inferred: DType;
  if (ArrayBuffer.isView(data)) {
    flat = data as TypedArray;
    shape = [flat.length];
    inferred = dtypeOfArray(data as TypedArray);
  } else {
    shape = [];
    const values: (number | boolean)[] = [];
    inferNested(data as NestedArray, 0, shape, values);
    flat = values;
    inferred = values.length > 0 && values.every((v) => typeof v === 'boolean') ? 'bool' : 'float32';
  }
  if (options.shape) {
    const s = checkShape('tensor', options.shape);
    if (numel(s) !== flat.length) throw new ShapeError(`tensor: ${flat.length} values do not fill shape ${fmtShape(s)} (${numel(s)} elements)`);
    shape = s;
  }
  const dtype = options.dtype ? assertDType(options.dtype, 'tensor') : inferred;
  if (options.requiresGrad && dtype !== 'float32' && dtype !== 'float64') {
    throw new ArgumentError(`tensor: only floating-point tensors can require gradients, got dtype ${dtype}`);
  }
  return Tensor.fromBuffer(castArray(flat, dtype), shape, options.requiresGrad ?? false);
}

function inferNested(x: NestedArray, depth: number, shape: number[], out: (number | boolean)[]): void {
  if (Array.isArray(x)) {
    if (shape.length === depth) shape.push(x.length);
    else if (shape[depth] !== x.length) {
      throw new ShapeError(`tensor: ragged nested array: expected length ${shape[depth]} at depth ${depth}, got ${x.length}`);
    }
    for (const v of x) inferNested(v as NestedArray, depth + 1, shape, out);
  } else if (typeof x === 'number' || typeof x === 'boolean') {
    if (shape.length !== depth) throw new ShapeError(`tensor: ragged nested array: a number at depth ${depth}, arrays expected`);
    out.push(x);
  } else {
    throw new ArgumentError(`tensor: expected numbers, booleans or arrays of them, got ${typeof x}`);
  }
}


