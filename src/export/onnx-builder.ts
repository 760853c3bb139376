/**
 * A small writer of ONNX graphs by hand: named values, weights as initializers. Only the RNN
 * encoders use it (translate-rnn.ts: ONNX's GRU / LSTM keep the source length symbolic, which a
 * trace of zhuyi's JavaScript time loop cannot); everything else is traced (trace.ts).
 */
import { type AttrValue, type NodeSpec, type TensorSpec, type ValueInfoSpec, encodeModel } from '../backends/ort/proto.js';
import { ONNX_DTYPE } from '../ops/registry.js';
import { ArgumentError } from '../tensor/errors.js';
import { checkOpset } from './trace.js';

export type Dim = number | string;
export type Attr = number | string | readonly number[] | { float: number } | { floats: readonly number[] };

/** The IR version that goes with an opset (onnx/onnx Versioning.md). */
function irVersion(opset: number): number {
  return opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
}

function attribute(v: Attr): AttrValue {
  if (typeof v === 'number') return { kind: 'int', value: v };
  if (typeof v === 'string') return { kind: 'string', value: v };
  if (Array.isArray(v)) return { kind: 'ints', value: v as readonly number[] };
  if ('float' in (v as object)) return { kind: 'float', value: (v as { float: number }).float };
  return { kind: 'floats', value: (v as { floats: readonly number[] }).floats };
}

export class GraphBuilder {
  private readonly nodes: NodeSpec[] = [];
  private readonly initializers: TensorSpec[] = [];
  private readonly inputs: ValueInfoSpec[] = [];
  private readonly outputs: ValueInfoSpec[] = [];
  private readonly constants = new Map<string, string>();
  private readonly weightNames = new Map<object, string>();
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  private fresh(prefix: string): string {
    let n: string;
    do n = `${prefix}_${this.counter++}`; while (this.used.has(n));
    this.used.add(n);
    return n;
  }

  private claim(name: string): string {
    if (this.used.has(name)) throw new ArgumentError(`export ${this.name}: the value name '${name}' is used twice`);
    this.used.add(name);
    return name;
  }

  input(name: string, elemType: number, dims: readonly Dim[]): string {
    this.inputs.push({ name: this.claim(name), elemType, dims });
    return name;
  }

  /** Makes `value` a graph output called `name` (through an Identity, so any value can be named). */
  output(name: string, value: string, elemType: number, dims: readonly Dim[]): void {
    this.nodes.push({ opType: 'Identity', domain: '', inputs: [value], outputs: [this.claim(name)], name: `out_${name}`, attrs: [] });
    this.outputs.push({ name, elemType, dims });
  }

  /** One node; returns its outputs' names. `hint` names them for readability in viewers (Netron). */
  node(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, outputs = 1, hint = opType.toLowerCase()): string[] {
    const outs = Array.from({ length: outputs }, () => this.fresh(hint));
    this.nodes.push({ opType, domain: '', inputs: [...inputs], outputs: outs, name: this.fresh(`${opType}`), attrs: Object.entries(attrs).map(([k, v]) => [k, attribute(v)] as const) });
    return outs;
  }

  /** A single-output node. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, hint?: string): string {
    return this.node(opType, inputs, attrs, 1, hint)[0]!;
  }

  /** A float32 initializer named `name` (a state-dict key); the same array object registers once. */
  weight(name: string, data: Float32Array, dims: readonly number[]): string {
    const known = this.weightNames.get(data);
    if (known) return known;
    if (data.length !== dims.reduce((a, b) => a * b, 1)) throw new ArgumentError(`export ${this.name}: weight '${name}' has ${data.length} values for shape [${dims.join(', ')}]`);
    this.initializers.push({ name: this.claim(name), dims: [...dims], dataType: ONNX_DTYPE.float32, raw: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    this.weightNames.set(data, name);
    return name;
  }

  /** A shared constant: int64 (default) or float32 values with a shape ([] for a scalar). */
  constant(values: readonly number[], dims: readonly number[] = [values.length], type: 'int64' | 'float32' = 'int64'): string {
    const key = `${type}|${dims.join(',')}|${values.map((x) => (Object.is(x, -0) ? '-0' : String(x))).join(',')}`;
    const known = this.constants.get(key);
    if (known) return known;
    const name = this.fresh(type === 'int64' ? 'const_i' : 'const_f');
    const raw = type === 'int64'
      ? new Uint8Array(BigInt64Array.from(values, (x) => BigInt(x)).buffer)
      : new Uint8Array(Float32Array.from(values).buffer);
    this.initializers.push({ name, dims: [...dims], dataType: type === 'int64' ? ONNX_DTYPE.int64 : ONNX_DTYPE.float32, raw });
    this.constants.set(key, name);
    return name;
  }

  // ---- composite pieces ---------------------------------------------------------------------------

  /** x (..., In) @ W^T + b for a PyTorch Linear weight (Out, In); ORT folds the Transpose of the initializer. */
  linear(x: string, w: string, b: string | null, hint = 'linear'): string {
    const y = this.op('MatMul', [x, this.op('Transpose', [w], { perm: [1, 0] }, `${w}_T`)], {}, hint);
    return b ? this.op('Add', [y, b], {}, hint) : y;
  }

  /** Serialises the model. */
  encode(opset: number, producer: string, docName = this.name): Uint8Array {
    checkOpset(opset);
    return encodeModel({
      irVersion: irVersion(opset),
      opsets: [{ domain: '', version: opset }],
      producer,
      graphName: docName,
      nodes: this.nodes,
      initializers: this.initializers,
      inputs: this.inputs,
      outputs: this.outputs,
    });
  }
}
