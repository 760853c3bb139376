/**
 * Export by tracing: a model's own `forward` (or a decoder step) runs on example inputs in no-grad
 * mode, and the lazy graph it leaves behind is lowered through the op registry's ONNX lowerings
 * (src/backends/ort/builder.ts lowerForExport), the same lowering training runs on. No model's math
 * is written a second time here.
 *
 * Batch and sequence sizes are symbols (ONNX dim_params, named as transformers.js and Optimum name
 * them: batch_size, sequence_length, ...). The lowering recognises a symbolic size by its example
 * value, so `exampleSizes` picks values that no weight, buffer or config number of the model has.
 */
import { type ExportInput, type ExportedGraph, lowerForExport } from '../backends/ort/builder.js';
import { type NodeSpec, encodeModel, irVersion } from '../backends/ort/proto.js';
import type { Module } from '../nn/module.js';
import { ONNX_DTYPE } from '../ops/registry.js';
import { buildGraph } from '../tensor/realize.js';
import { Tensor } from '../tensor/tensor.js';
import { ZhuyiError } from '../tensor/errors.js';
import type { GraphInfo, TensorInfo } from './manifest.js';

export class ExportError extends ZhuyiError {}

/** Opsets export writes: 18 brings reductions with axes as an input (the lowerings use them); ORT 1.30 runs up to 23. */
export const MIN_OPSET = 18;
export const MAX_OPSET = 21;
export const DEFAULT_OPSET = 18;
/** The producer_name of every exported graph and the manifest's `producer`. */
export const PRODUCER = 'zhuyi';

export function checkOpset(opset: number): void {
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) throw new ExportError(`export: opset must be an integer from ${MIN_OPSET} to ${MAX_OPSET}, got ${opset}`);
}

/**
 * `count` distinct example sizes (primes from 3 up) that are none of the model's own sizes: no
 * dimension of a weight or buffer and no number of its config, so a size of the trace equal to one
 * of them is a batch or sequence size and nothing else. `limit` caps them (max positions); `free`
 * may refuse more (a size whose successor is a model size).
 */
export function exampleSizes(model: Module, count: number, limit = Infinity, config: object = {}, free: (n: number, taken: ReadonlySet<number>) => boolean = () => true): number[] {
  const taken = new Set<number>();
  for (const [, t] of [...Object.entries(model.stateDict()), ...model.namedBuffers()]) for (const n of t.shape) taken.add(n);
  for (const v of Object.values(config)) if (typeof v === 'number') taken.add(v);
  const sizes: number[] = [];
  for (let n = 3; sizes.length < count; n++) {
    if (n > limit) throw new ExportError(`export: no ${count} example sizes up to ${limit} differ from the model's own sizes`);
    let prime = true;
    for (let d = 2; d * d <= n; d++) if (n % d === 0) prime = false;
    if (prime && !taken.has(n) && !sizes.some((s) => taken.has(s * n)) && free(n, taken)) sizes.push(n);
  }
  return sizes;
}

export interface TraceInput {
  name: string;
  /** The example value, a realized tensor the traced code reads. */
  tensor: Tensor;
  /** A dim_param name per axis, or null for a fixed size. */
  axes: (string | null)[];
  doc: string;
}

export interface TraceOutput {
  name: string;
  /** The traced (lazy) result. */
  tensor: Tensor;
  doc: string;
  /** Its axes as declared, where the lowering's own labels fall short (a size one more than a symbol). */
  axes?: (string | number)[];
}

/** An example input of a trace: `shape` filled with `value` (or value(i) at flat index i). */
export function example(name: string, shape: number[], axes: (string | null)[], doc: string, dtype: 'int32' | 'float32' = 'float32', value: number | ((i: number) => number) = 0): TraceInput {
  const n = shape.reduce((a, b) => a * b, 1);
  const at = typeof value === 'number' ? () => value : value;
  const data = dtype === 'int32' ? Int32Array.from({ length: n }, (_, i) => at(i)) : Float32Array.from({ length: n }, (_, i) => at(i));
  return { name, tensor: Tensor.fromBuffer(data, shape), axes, doc };
}

/** A traced, lowered graph: encode it (at any supported opset), drop outputs, quantize its weights. */
export class TracedGraph {
  constructor(private readonly g: ExportedGraph, readonly inputs: TensorInfo[], readonly outputs: TensorInfo[], readonly name: string) {}

  encode(opset = DEFAULT_OPSET, producer = PRODUCER): Uint8Array {
    checkOpset(opset);
    return encodeModel({
      irVersion: irVersion(opset),
      opsets: [{ domain: '', version: opset }, ...this.g.domains.map((domain) => ({ domain, version: 1 }))],
      producer,
      graphName: this.name,
      nodes: this.g.nodes,
      initializers: this.g.initializers,
      inputs: this.g.inputs,
      outputs: this.g.outputs,
    });
  }

  /** The manifest's entry for the graph written to `file`. */
  info(file: string): GraphInfo {
    return { file, inputs: this.inputs, outputs: this.outputs };
  }

  /** The same graph without the named outputs (e.g. the attentions a consumer does not read). */
  without(names: ReadonlySet<string>): TracedGraph {
    const g = { ...this.g, nodes: this.g.nodes.filter((n) => !(n.opType === 'Identity' && names.has(n.outputs[0]!))), outputs: this.g.outputs.filter((o) => !names.has(o.name)) };
    return new TracedGraph(g, this.inputs, this.outputs.filter((o) => !names.has(o.name)), this.name);
  }

  /**
   * Weight-only int8 quantization, for a smaller file: every float32 matrix initializer of at least
   * `minSize` values becomes int8 with one symmetric scale per row (max |w| / 127) and a
   * DequantizeLinear (axis 0) that gives the float matrix back under its old name, so the graph's
   * other nodes are unchanged. Activations stay float32. Error per weight <= scale / 2.
   */
  quantized(minSize = 1024): { graph: TracedGraph; count: number } {
    const initializers = [...this.g.initializers];
    const dequantize: NodeSpec[] = [];
    for (let i = 0; i < initializers.length; i++) {
      const t = initializers[i]!;
      if (t.dataType !== ONNX_DTYPE.float32 || t.dims.length !== 2 || t.dims[0]! * t.dims[1]! < minSize) continue;
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
      const [qName, sName, zName] = [`${t.name}_quantized`, `${t.name}_scale`, `${t.name}_zero_point`];
      initializers[i] = { name: qName, dims: [rows, cols], dataType: ONNX_DTYPE.int8, raw: new Uint8Array(q.buffer) };
      initializers.push({ name: sName, dims: [rows], dataType: ONNX_DTYPE.float32, raw: new Uint8Array(scales.buffer) }, { name: zName, dims: [rows], dataType: ONNX_DTYPE.int8, raw: new Uint8Array(rows) });
      dequantize.push({ opType: 'DequantizeLinear', domain: '', inputs: [qName, sName, zName], outputs: [t.name], name: `dequantize_${t.name}`, attrs: [['axis', { kind: 'int', value: 0 }]] });
    }
    // Nodes are in topological order: the dequantized weights come first.
    const g = { ...this.g, initializers, nodes: [...dequantize, ...this.g.nodes] };
    return { graph: new TracedGraph(g, this.inputs, this.outputs, this.name), count: dequantize.length };
  }
}

/**
 * Lowers what `outputs` computed from `inputs` (lazy tensors built by the model's own code) into
 * one ONNX graph. Leaves other than the inputs are initializers, named by their key in `model`'s
 * state dict where they have one. An output's axes are the dim_params its sizes derive from.
 */
export function trace(name: string, model: Module, inputs: readonly TraceInput[], outputs: readonly TraceOutput[]): TracedGraph {
  for (const o of outputs) if (o.tensor.buffer !== null && o.tensor.op === null) throw new ExportError(`export ${name}: output '${o.name}' is not computed from the inputs`);
  const graph = buildGraph(outputs.map((o) => o.tensor));
  const weightNames = new Map<unknown, string>();
  for (const [key, t] of [...Object.entries(model.stateDict()), ...model.namedBuffers()]) if (t.buffer && !weightNames.has(t.buffer)) weightNames.set(t.buffer, key);
  const exportInputs: ExportInput[] = inputs.map((x) => {
    if (x.tensor.buffer === null) throw new ExportError(`export ${name}: example input '${x.name}' must be a realized tensor`);
    const index = graph.values.findIndex((v) => v.kind === 'input' && v.buffer === x.tensor.buffer);
    return { name: x.name, index: index < 0 ? undefined : index, dtype: x.tensor.dtype, shape: x.tensor.shape, axes: x.axes };
  });
  const lowered = lowerForExport(graph, exportInputs, outputs.map((o) => o.name), weightNames);
  outputs.forEach((o, k) => { if (o.axes) lowered.outputs[k]!.dims = o.axes; });
  const info = (n: string, t: Tensor, doc: string, axes: readonly (string | number)[]): TensorInfo => ({ name: n, dtype: t.dtype === 'int32' ? 'int64' : t.dtype === 'bool' ? 'bool' : 'float32', axes: [...axes], doc });
  return new TracedGraph(
    lowered,
    inputs.map((x) => info(x.name, x.tensor, x.doc, x.tensor.shape.map((n, k) => x.axes[k] ?? n))),
    outputs.map((o, k) => info(o.name, o.tensor, o.doc, o.axes ?? lowered.outputs[k]!.dims)),
    name,
  );
}
