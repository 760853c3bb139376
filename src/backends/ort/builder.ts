/**
 * Lowers a zhuyi Graph to an ONNX ModelProto. Each op's lowering lives beside the op in the
 * registry; this file owns naming, constant sharing, graph inputs/outputs and serialisation.
 */
import onnxProto from 'onnx-proto';
import { getOp } from '../../ops/registry.js';
import type { OnnxAttr, OnnxBuilder } from '../../ops/registry.js';
import { onnxDTypeCode } from '../../ops/elementwise.js';
import type { DType } from '../../tensor/dtype.js';
import { ZhuyiError } from '../../tensor/errors.js';
import type { Graph } from '../../tensor/realize.js';

const { onnx } = onnxProto;

/** Opset 18: LayerNormalization (17), ScatterElements reduction=add (16), reductions with axes as inputs (18). */
export const OPSET = 18;

type NodeProto = InstanceType<typeof onnx.NodeProto>;
type TensorProto = InstanceType<typeof onnx.TensorProto>;

class Builder implements OnnxBuilder {
  readonly opset = OPSET;
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly constants = new Map<string, string>();
  private counter = 0;

  fresh(prefix: string): string {
    return `${prefix}${this.counter++}`;
  }

  node(opType: string, inputs: readonly string[], attrs: Record<string, OnnxAttr> = {}, outputs = 1, domain = ''): string[] {
    const outs = Array.from({ length: outputs }, () => this.fresh('v'));
    this.nodes.push(onnx.NodeProto.create({
      opType,
      domain,
      input: [...inputs],
      output: outs,
      name: this.fresh(`${opType}_`),
      attribute: Object.entries(attrs).map(([name, v]) => attribute(name, v)),
    }));
    return outs;
  }

  constant(values: ArrayLike<number>, dtype: DType | 'int64', shape: readonly number[]): string {
    const key = `${dtype}|${shape.join(',')}|${Array.prototype.join.call(values, ',')}`;
    const known = this.constants.get(key);
    if (known) return known;
    const name = this.fresh('c');
    this.initializers.push(tensorProto(name, values, dtype, shape));
    this.constants.set(key, name);
    return name;
  }
}

function attribute(name: string, v: OnnxAttr): InstanceType<typeof onnx.AttributeProto> {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new ZhuyiError(`onnx attribute '${name}': ${v} is not an integer; use {float: v}`);
    return onnx.AttributeProto.create({ name, type: T.INT, i: v });
  }
  if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'number')) return onnx.AttributeProto.create({ name, type: T.INTS, ints: v as number[] });
    return onnx.AttributeProto.create({ name, type: T.STRINGS, strings: (v as string[]).map((s) => new TextEncoder().encode(s)) });
  }
  if ('float' in (v as object)) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: (v as { float: number }).float });
  return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: [...(v as { floats: readonly number[] }).floats] });
}

function tensorProto(name: string, values: ArrayLike<number>, dtype: DType | 'int64', shape: readonly number[]): TensorProto {
  const n = values.length;
  let raw: Uint8Array;
  switch (dtype) {
    case 'float32': raw = new Uint8Array(Float32Array.from(values).buffer); break;
    case 'float64': raw = new Uint8Array(Float64Array.from(values).buffer); break;
    case 'int32': raw = new Uint8Array(Int32Array.from(values).buffer); break;
    case 'bool': raw = Uint8Array.from(values, (x) => (x ? 1 : 0)); break;
    case 'int64': raw = new Uint8Array(BigInt64Array.from(Array.from({ length: n }, (_, i) => BigInt(Math.trunc(values[i]!)))).buffer); break;
  }
  return onnx.TensorProto.create({ name, dims: [...shape], dataType: onnxDTypeCode(dtype), rawData: raw });
}

function valueInfo(name: string, dtype: DType, shape: readonly number[]): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: onnxDTypeCode(dtype), shape: { dim: shape.map((d) => ({ dimValue: d })) } } },
  });
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
  const inputs: ReturnType<typeof valueInfo>[] = [];
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
  const outputNames = graph.outputs.map((o, k) => {
    const name = `out${k}`;
    b.nodes.push(onnx.NodeProto.create({ opType: 'Identity', input: [names[o]!], output: [name], name: `Identity_out${k}` }));
    return name;
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'zhuyi',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: 'zhuyi',
      node: b.nodes,
      initializer: b.initializers,
      input: inputs,
      output: graph.outputs.map((o, k) => valueInfo(outputNames[k]!, graph.values[o]!.meta.dtype, graph.values[o]!.meta.shape)),
    },
  });
  return { bytes: onnx.ModelProto.encode(model).finish(), inputNames, outputNames, nodeCount: b.nodes.length };
}

/**
 * Structural key of a graph: op types, attributes, shapes, dtypes and topology, never input values.
 * Two graphs with the same key lower to the same model.
 */
export function graphKey(graph: Graph): string {
  const parts: string[] = [];
  for (const v of graph.values) {
    if (v.kind === 'input') parts.push(`I${v.meta.dtype}[${v.meta.shape.join(',')}]`);
    else parts.push(`${v.op}${JSON.stringify(v.attrs)}${v.meta.dtype}[${v.meta.shape.join(',')}](${v.inputs.join(',')})`);
  }
  return `${parts.join(';')}=>${graph.outputs.join(',')}`;
}
