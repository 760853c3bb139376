/**
 * A small writer of ONNX inference graphs with symbolic axes, for `zhuyi export`. The ort backend's
 * lowering (src/backends/ort/builder.ts) works on concrete shapes, so export emits each
 * architecture's graph by hand from its module tree: this file gives it named values, weights as
 * initializers under their state-dict names, and the few composite pieces every model uses
 * (linear layers, layer norm, masks from lengths). Shapes stay symbolic: reshapes use 0 (keep) and
 * -1 (infer), and positions come from Shape.
 */
import { type AttrValue, type NodeSpec, type TensorSpec, type ValueInfoSpec, encodeModel } from '../backends/ort/proto.js';
import { ArgumentError } from '../tensor/errors.js';

/** TensorProto.DataType codes of the types export uses. */
export const ONNX_FLOAT = 1;
export const ONNX_BOOL = 9;
export const ONNX_INT32 = 6;
export const ONNX_INT64 = 7;
export const ONNX_INT8 = 3;

export type Dim = number | string;
export type Attr = number | string | readonly number[] | { float: number } | { floats: readonly number[] };

/** Opsets export can write: 17 brings LayerNormalization; ORT 1.30 runs up to 23. */
export const MIN_OPSET = 17;
export const MAX_OPSET = 21;
export const DEFAULT_OPSET = 17;

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

  /**
   * Removes graph outputs made by `output` (and their Identity nodes): the same graph with fewer
   * outputs, e.g. without the attention probabilities a consumer does not read.
   */
  dropOutputs(names: ReadonlySet<string>): void {
    for (let i = this.outputs.length - 1; i >= 0; i--) if (names.has(this.outputs[i]!.name)) this.outputs.splice(i, 1);
    for (let i = this.nodes.length - 1; i >= 0; i--) if (this.nodes[i]!.opType === 'Identity' && names.has(this.nodes[i]!.outputs[0]!)) this.nodes.splice(i, 1);
  }

  /**
   * Weight-only int8 quantization, for a smaller file: every float32 matrix initializer of at least
   * `minSize` values becomes int8 with one symmetric scale per row (max |w| / 127) and a
   * DequantizeLinear (axis 0) that gives the float matrix back under its old name, so the graph's
   * other nodes are unchanged. Activations stay float32. Error per weight <= scale / 2.
   */
  quantizeWeights(minSize = 1024): number {
    let count = 0;
    const dequantize: NodeSpec[] = [];
    for (let i = 0; i < this.initializers.length; i++) {
      const t = this.initializers[i]!;
      if (t.dataType !== ONNX_FLOAT || t.dims.length !== 2 || t.dims[0]! * t.dims[1]! < minSize) continue;
      const [rows, cols] = [t.dims[0]!, t.dims[1]!];
      const w = new Float32Array(t.raw.slice().buffer);
      const q = new Int8Array(rows * cols);
      const scales = new Float32Array(rows);
      for (let r = 0; r < rows; r++) {
        let max = 0;
        for (let c = 0; c < cols; c++) max = Math.max(max, Math.abs(w[r * cols + c]!));
        const scale = max > 0 ? max / 127 : 1;
        scales[r] = scale;
        for (let c = 0; c < cols; c++) q[r * cols + c] = Math.max(-127, Math.min(127, Math.round(w[r * cols + c]! / scale)));
      }
      const qName = this.claim(`${t.name}_quantized`);
      const sName = this.claim(`${t.name}_scale`);
      const zName = this.claim(`${t.name}_zero_point`);
      this.initializers[i] = { name: qName, dims: [rows, cols], dataType: ONNX_INT8, raw: new Uint8Array(q.buffer) };
      this.initializers.push({ name: sName, dims: [rows], dataType: ONNX_FLOAT, raw: new Uint8Array(scales.buffer) });
      this.initializers.push({ name: zName, dims: [rows], dataType: ONNX_INT8, raw: new Uint8Array(rows) });
      dequantize.push({ opType: 'DequantizeLinear', domain: '', inputs: [qName, sName, zName], outputs: [t.name], name: this.fresh('dequantize'), attrs: [['axis', attribute(0)] as const] });
      count++;
    }
    // Graph nodes are in topological order: the dequantized weights come first.
    this.nodes.unshift(...dequantize);
    return count;
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
    this.initializers.push({ name: this.claim(name), dims: [...dims], dataType: ONNX_FLOAT, raw: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
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
    this.initializers.push({ name, dims: [...dims], dataType: type === 'int64' ? ONNX_INT64 : ONNX_FLOAT, raw });
    this.constants.set(key, name);
    return name;
  }

  /** A float32 scalar constant. */
  scalar(x: number): string {
    return this.constant([x], [], 'float32');
  }

  // ---- composite pieces ---------------------------------------------------------------------------

  /** x (..., In) @ W^T + b for a PyTorch Linear weight (Out, In); ORT folds the Transpose of the initializer. */
  linear(x: string, w: string, b: string | null, hint = 'linear'): string {
    const y = this.op('MatMul', [x, this.op('Transpose', [w], { perm: [1, 0] }, `${w}_T`)], {}, hint);
    return b ? this.op('Add', [y, b], {}, hint) : y;
  }

  layerNorm(x: string, weight: string, bias: string, eps: number): string {
    return this.op('LayerNormalization', [x, weight, bias], { axis: -1, epsilon: { float: eps } }, 'layer_norm');
  }

  /** Size of axis `axis` of x as an int64 scalar. */
  dimScalar(x: string, axis: number): string {
    const d = this.op('Shape', [x], { start: axis, end: axis + 1 }, 'dim'); // (1,)
    return this.op('Squeeze', [d, this.constant([0])], {}, 'dim');
  }

  /** 0, 1, ..., n-1 (int64) for an int64 scalar n. */
  range(n: string): string {
    return this.op('Range', [this.constant([0], [], 'int64'), n, this.constant([1], [], 'int64')], {}, 'positions');
  }

  /** Bool (B, S), true at padded positions s >= length: lengths (B,) int64, S an int64 scalar. */
  paddingMask(lengths: string, S: string): string {
    const positions = this.op('Unsqueeze', [this.range(S), this.constant([0])]); // (S) -> (1, S)
    const lens = this.op('Unsqueeze', [lengths, this.constant([1])]); // (B) -> (B, 1)
    return this.op('GreaterOrEqual', [positions, lens], {}, 'padding_mask');
  }

  /** scores with -inf where the bool mask (broadcastable) is true: PyTorch's masked_fill(mask, -inf). */
  maskFill(scores: string, mask: string): string {
    return this.op('Where', [mask, this.scalar(-Infinity), scores], {}, 'masked_scores');
  }

  /** Serialises the model. */
  encode(opset: number, producer: string, docName = this.name): Uint8Array {
    if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) throw new ArgumentError(`export: opset must be an integer from ${MIN_OPSET} to ${MAX_OPSET}, got ${opset}`);
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
