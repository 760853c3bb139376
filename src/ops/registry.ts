import type { DType, TypedArray } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { ZhuyiError } from '../tensor/errors.js';

/** Shape and dtype of a value, all an op's shape rule sees. */
export interface Meta {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** Plain-data attributes of a node (JSON-serialisable: they are part of graph cache keys). */
export type Attrs = Record<string, unknown>;

/** What a vjp gets: the node's inputs and output as lazy tensors, and its attributes. */
export interface VjpContext<A extends Attrs> {
  readonly inputs: readonly Tensor[];
  readonly out: Tensor;
  readonly attrs: A;
}

/**
 * Builds ONNX nodes for one zhuyi node. `inputs` are the ONNX value names of the node's inputs;
 * the lowering returns the name of the value holding the result. The builder type is owned by
 * the ort backend (backends/ort/builder.ts); ops only see this narrow interface.
 */
export interface OnnxBuilder {
  /** Adds a node and returns its output names (`outputs` of them, default 1). */
  node(opType: string, inputs: readonly string[], attrs?: Record<string, OnnxAttr>, outputs?: number, domain?: string): string[];
  /** An initializer with the given values; returns its name. Equal constants are shared. */
  constant(values: ArrayLike<number>, dtype: DType | 'int64', shape: readonly number[]): string;
  /** The opset version the model is built for. */
  readonly opset: number;
  /**
   * A 1-D int64 tensor holding `values`, sizes of this graph (an Expand or full shape). Where a
   * value is a symbolic batch or sequence size of the graph's inputs it is read from the input's
   * shape at run time, so one compiled model serves every size (see backends/ort/builder.ts).
   */
  sizes(values: readonly number[]): string;
  /** Reshape's target for `from` -> `to`, with the symbolic sizes computed from the input's shape. */
  reshapeTarget(from: readonly number[], to: readonly number[]): string;
  /** Slice's starts and ends inputs for `dims`; a slice to the end of a dimension stays one whatever its size. */
  sliceBounds(starts: readonly number[], ends: readonly number[], dims: readonly number[]): [string, string];
}

/** ONNX TensorProto.DataType codes: the one table of them (lowerings, the ort backend and export use it). */
export const ONNX_DTYPE = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float64: 11 } as const;

/** The ONNX TensorProto.DataType code of a zhuyi dtype (or int64, which ONNX wants for shapes and indices). */
export function onnxDTypeCode(dtype: DType | 'int64' | 'int8' | 'uint8'): number {
  return ONNX_DTYPE[dtype];
}

export type OnnxAttr = number | string | readonly number[] | readonly string[] | { float: number } | { floats: readonly number[] };

export interface OnnxNodeInfo<A extends Attrs> {
  readonly inputs: readonly string[];
  readonly inMetas: readonly Meta[];
  readonly out: Meta;
  readonly attrs: A;
}

export type OnnxLowering<A extends Attrs> = (b: OnnxBuilder, node: OnnxNodeInfo<A>) => string;

/**
 * One op: its shape rule, its reference kernel, its derivative and its ONNX lowering, together.
 * `vjp` returns one gradient per input (null where the input gets none, e.g. int indices);
 * it is written with public ops so gradient graphs are ordinary graphs any backend runs.
 */
export interface OpDef<A extends Attrs = Attrs> {
  readonly name: string;
  /** Validates inputs and attributes and gives the output's shape and dtype. Throws ZhuyiError naming the op. */
  readonly infer: (inputs: readonly Meta[], attrs: A) => Meta;
  /** Reference implementation on contiguous row-major buffers. */
  readonly kernel: (inputs: readonly TypedArray[], inMetas: readonly Meta[], attrs: A, out: Meta) => TypedArray;
  /** Gradient, or 'nondiff' for ops whose output carries no gradient (comparisons, argmax, casts to int). */
  readonly vjp: ((ctx: VjpContext<A>, grad: Tensor) => readonly (Tensor | null)[]) | 'nondiff';
  /** ONNX lowering: the nodes the ort backend and `zhuyi export` emit for this op. */
  onnx: OnnxLowering<A>;
}

const REGISTRY = new Map<string, OpDef<Attrs>>();

/** Registers an op. An op must come with a kernel and a vjp (or an explicit 'nondiff'). */
export function defineOp<A extends Attrs>(def: OpDef<A>): OpDef<A> {
  if (REGISTRY.has(def.name)) throw new ZhuyiError(`defineOp: op '${def.name}' is already registered`);
  if (typeof def.infer !== 'function' || typeof def.kernel !== 'function') {
    throw new ZhuyiError(`defineOp: op '${def.name}' lacks a shape rule or a kernel`);
  }
  if (typeof def.onnx !== 'function') throw new ZhuyiError(`defineOp: op '${def.name}' lacks an ONNX lowering`);
  if (def.vjp !== 'nondiff' && typeof def.vjp !== 'function') {
    throw new ZhuyiError(`defineOp: op '${def.name}' lacks a vjp (give one or mark it 'nondiff')`);
  }
  REGISTRY.set(def.name, def as unknown as OpDef<Attrs>);
  return def;
}

export function getOp(name: string): OpDef<Attrs> {
  const def = REGISTRY.get(name);
  if (!def) throw new ZhuyiError(`unknown op '${name}'`);
  return def;
}

export function listOps(): OpDef<Attrs>[] {
  return [...REGISTRY.values()];
}
