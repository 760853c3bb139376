/**
 * Lowers a zhuyi Graph to an ONNX ModelProto. Each op's lowering lives beside the op in the
 * registry; this file owns naming, constant sharing, graph inputs/outputs and serialisation.
 */
import { getOp } from '../../ops/registry.js';
import type { OnnxAttr, OnnxBuilder } from '../../ops/registry.js';
import { onnxDTypeCode } from '../../ops/elementwise.js';
import type { DType } from '../../tensor/dtype.js';
import { ZhuyiError } from '../../tensor/errors.js';
import type { Graph } from '../../tensor/realize.js';
import { type AttrValue, type NodeSpec, type TensorSpec, type ValueInfoSpec, encodeModel } from './proto.js';

/**
 * Opset 18 (ONNX Runtime 1.30 supports up to 23): LayerNormalization (17), ScatterElements with
 * reduction=add (16), Reduce* taking axes as an input (18, so one constant serves every reduction).
 */
export const OPSET = 18;
/** IR version 8 goes with opset 18. */
const IR_VERSION = 8;

class Builder implements OnnxBuilder {
  readonly opset = OPSET;
  readonly nodes: NodeSpec[] = [];
  readonly initializers: TensorSpec[] = [];
  private readonly constants = new Map<string, string>();
  private counter = 0;

  fresh(prefix: string): string {
    return `${prefix}${this.counter++}`;
  }

  node(opType: string, inputs: readonly string[], attrs: Record<string, OnnxAttr> = {}, outputs = 1, domain = ''): string[] {
    const outs = Array.from({ length: outputs }, () => this.fresh('v'));
    const list = Object.entries(attrs).map(([name, v]) => [name, attribute(opType, name, v)] as const);
    this.nodes.push({ opType, domain, inputs: [...inputs], outputs: outs, name: this.fresh(`${opType}_`), attrs: list });
    return outs;
  }

  /** Initializers are shared by value: the many scalar 0, 1, 0.5 and axis lists of a gradient graph become one each. */
  constant(values: ArrayLike<number>, dtype: DType | 'int64', shape: readonly number[]): string {
    const key = `${dtype}|${shape.join(',')}|${Array.from(values, (x) => (Object.is(x, -0) ? '-0' : String(x))).join(',')}`;
    const known = this.constants.get(key);
    if (known) return known;
    const name = this.fresh('c');
    this.initializers.push({ name, dims: [...shape], dataType: onnxDTypeCode(dtype), raw: rawBytes(values, dtype) });
    this.constants.set(key, name);
    return name;
  }
}

function attribute(opType: string, name: string, v: OnnxAttr): AttrValue {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new ZhuyiError(`onnx ${opType} attribute '${name}': ${v} is not an integer; use {float: v}`);
    return { kind: 'int', value: v };
  }
  if (typeof v === 'string') return { kind: 'string', value: v };
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'number')) return { kind: 'ints', value: v as readonly number[] };
    return { kind: 'strings', value: v as readonly string[] };
  }
  if ('float' in (v as object)) return { kind: 'float', value: (v as { float: number }).float };
  return { kind: 'floats', value: (v as { floats: readonly number[] }).floats };
}

/** Little-endian raw_data of an initializer (typed arrays are little-endian on every platform ORT runs on). */
function rawBytes(values: ArrayLike<number>, dtype: DType | 'int64'): Uint8Array {
  switch (dtype) {
    case 'float32': return new Uint8Array(Float32Array.from(values).buffer);
    case 'float64': return new Uint8Array(Float64Array.from(values).buffer);
    case 'int32': return new Uint8Array(Int32Array.from(values).buffer);
    case 'bool': return Uint8Array.from(values, (x) => (x ? 1 : 0));
    case 'int64': return new Uint8Array(BigInt64Array.from(Array.from(values, (x) => BigInt(Math.trunc(x)))).buffer);
  }
}

function valueInfo(name: string, dtype: DType, shape: readonly number[]): ValueInfoSpec {
  return { name, elemType: onnxDTypeCode(dtype), dims: shape };
}

export interface LoweredModel {
  bytes: Uint8Array;
  /** Graph input name of each graph value index that is an input. */
  inputNames: Map<number, string>;
  outputNames: string[];
  nodeCount: number;
}

/** Lowers a graph: inputs become graph inputs in order, every op its lowering, outputs graph outputs. */
export function lowerGraph(graph: Graph): LoweredModel {
  const b = new Builder();
  const names: string[] = new Array(graph.values.length);
  const inputNames = new Map<number, string>();
  const inputs: ValueInfoSpec[] = [];
  graph.values.forEach((v, i) => {
    if (v.kind === 'input') {
      const name = `in${inputNames.size}`;
      inputNames.set(i, name);
      inputs.push(valueInfo(name, v.meta.dtype, v.meta.shape));
      names[i] = name;
      return;
    }
    const def = getOp(v.op);
    if (!def.onnx) throw new ZhuyiError(`ort backend: op '${v.op}' has no ONNX lowering`);
    names[i] = def.onnx(b, { inputs: v.inputs.map((j) => names[j]!), inMetas: v.inputs.map((j) => graph.values[j]!.meta), out: v.meta, attrs: v.attrs });
  });
  // Every output gets its own name (an output may repeat, or be a graph input or an initializer).
  // A node's result is renamed to the output name rather than copied by an Identity: ONNX Runtime's
  // Identity elimination with its MatMul+Add -> Gemm fusion left a dangling input ("Invalid model")
  // when the value also fed the fused Add, e.g. outputs exp(a) + b.T @ c and exp(a) (found by fuzzing).
  const produced = new Set(b.nodes.flatMap((node) => node.outputs));
  const rename = new Map<string, string>();
  const outputNames = graph.outputs.map((o, k) => {
    const name = `out${k}`;
    if (produced.has(names[o]!) && !rename.has(names[o]!)) rename.set(names[o]!, name);
    else b.nodes.push({ opType: 'Identity', domain: '', inputs: [names[o]!], outputs: [name], name: `Identity_out${k}`, attrs: [] });
    return name;
  });
  const renamed = (x: string): string => rename.get(x) ?? x;
  const nodes = b.nodes.map((node) => ({ ...node, inputs: node.inputs.map(renamed), outputs: node.outputs.map(renamed) }));
  const bytes = encodeModel({
    irVersion: IR_VERSION,
    opsets: [{ domain: '', version: OPSET }],
    producer: 'zhuyi',
    graphName: 'zhuyi',
    nodes,
    initializers: b.initializers,
    inputs,
    outputs: graph.outputs.map((o, k) => valueInfo(outputNames[k]!, graph.values[o]!.meta.dtype, graph.values[o]!.meta.shape)),
  });
  return { bytes, inputNames, outputNames, nodeCount: nodes.length };
}

/**
 * Structural key of a graph: op types, attributes, shapes, dtypes and topology, never input values.
 * Two graphs with the same key lower to the same model.
 */
export function graphKey(graph: Graph): string {
  const parts: string[] = [];
  for (const v of graph.values) {
    if (v.kind === 'input') parts.push(`I${v.meta.dtype}[${v.meta.shape.join(',')}]`);
    else parts.push(`${v.op}${JSON.stringify(v.attrs, exactNumbers)}${v.meta.dtype}[${v.meta.shape.join(',')}](${v.inputs.join(',')})`);
  }
  return `${parts.join(';')}=>${graph.outputs.join(',')}`;
}

/** JSON writes NaN, ±Infinity as null and -0 as 0; a cache key must tell them apart (mask fills are -inf). */
function exactNumbers(_: string, x: unknown): unknown {
  return typeof x === 'number' && (!Number.isFinite(x) || Object.is(x, -0)) ? `#${Object.is(x, -0) ? '-0' : x}` : x;
}
