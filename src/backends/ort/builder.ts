/**
 * Lowers a zhuyi Graph to an ONNX ModelProto. Each op's lowering lives beside the op in the
 * registry; this file owns naming, constant sharing, graph inputs/outputs and serialisation.
 */
import { getOp } from '../../ops/registry.js';
import type { OnnxAttr, OnnxBuilder } from '../../ops/registry.js';
import { onnxDTypeCode } from '../../ops/registry.js';
import type { DType } from '../../tensor/dtype.js';
import { ZhuyiError, fmtShape } from '../../tensor/errors.js';
import type { Graph } from '../../tensor/realize.js';
import { type AttrValue, type NodeSpec, type TensorSpec, type ValueInfoSpec, encodeModel, irVersion } from './proto.js';

/**
 * Opset 18 (ONNX Runtime 1.30 supports up to 23): LayerNormalization (17), ScatterElements with
 * reduction=add (16), Reduce* taking axes as an input (18, so one constant serves every reduction).
 */
export const OPSET = 18;
/** ONNX Runtime's contrib operators (Gelu, ...), used where the CPU provider has a fused kernel. */
export const MS_DOMAIN = 'com.microsoft';

/** A batch or sequence size of the graph, read from a graph input's shape at run time. */
interface SizeSymbol { readonly name: string; readonly value: number; readonly input: string; readonly axis: number }

/** One factor list of a size: symbols multiplied, times a constant. */
interface SizeTerm { readonly symbols: readonly SizeSymbol[]; readonly constant: number }

/** Slice ends at or past a dimension's end: "to the end" whatever the size (ONNX clamps). */
const TO_THE_END = 2 ** 53 - 1;

/** The size a term stands for in this graph. */
function termValue(t: SizeTerm): number {
  return t.symbols.reduce((p, s) => p * s.value, t.constant);
}

class Builder implements OnnxBuilder {
  readonly opset = OPSET;
  readonly nodes: NodeSpec[] = [];
  readonly initializers: TensorSpec[] = [];
  private readonly constants = new Map<string, string>();
  private readonly runtimeSizes = new Map<string, string>();
  private counter = 0;

  /** The size labels of the node being lowered: its inputs' and its output's (see labelGraph). */
  current: { inputs: readonly (readonly SizeTerm[])[]; out: readonly SizeTerm[]; parameters: readonly boolean[] } = { inputs: [], out: [], parameters: [] };

  /** The symbolic sizes, one per distinct value (empty: every size is a constant). */
  constructor(private readonly symbols: readonly SizeSymbol[] = []) {}

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

  /** The symbol a size equals, if any (sizes 0 and 1 never are: they broadcast). */
  symbolOf(n: number): SizeSymbol | undefined {
    return n > 1 ? this.symbols.find((s) => s.value === n) : undefined;
  }

  /** A size as the symbol it equals, else a constant. */
  exactTerm(n: number): SizeTerm {
    const s = this.symbolOf(n);
    return s ? { symbols: [s], constant: 1 } : { symbols: [], constant: n };
  }

  /** A size as symbols times a constant: one symbol, or a product of two different ones (B*T after a reshape), else a constant. */
  term(n: number, among: readonly SizeSymbol[] = this.symbols): SizeTerm {
    if (n > 1) {
      const one = among.find((s) => s.value === n);
      if (one) return { symbols: [one], constant: 1 };
      for (const a of among) {
        for (const b of among) if (b.value > a.value && a.value * b.value === n) return { symbols: [a, b], constant: 1 };
      }
    }
    return { symbols: [], constant: n };
  }

  /** A [1] int64 value: the term's size at run time. */
  private runtime(t: SizeTerm): string {
    const key = `${t.symbols.map((s) => s.name).join('*')}*${t.constant}`;
    const known = this.runtimeSizes.get(key);
    if (known) return known;
    let v = t.symbols.length === 0 ? this.constant([t.constant], 'int64', [1]) : this.dim(t.symbols[0]!);
    for (const s of t.symbols.slice(1)) v = this.node('Mul', [v, this.dim(s)])[0]!;
    if (t.symbols.length > 0 && t.constant !== 1) v = this.node('Mul', [v, this.constant([t.constant], 'int64', [1])])[0]!;
    this.runtimeSizes.set(key, v);
    return v;
  }

  private dim(s: SizeSymbol): string {
    const key = `dim:${s.name}`;
    const known = this.runtimeSizes.get(key);
    if (known) return known;
    const v = this.node('Shape', [s.input], { start: s.axis, end: s.axis + 1 })[0]!;
    this.runtimeSizes.set(key, v);
    return v;
  }

  /** Concatenates terms into a 1-D int64 tensor; all-constant lists stay one initializer. */
  private list(terms: readonly SizeTerm[]): string {
    if (terms.every((t) => t.symbols.length === 0)) return this.constant(terms.map((t) => t.constant), 'int64', [terms.length]);
    const pieces: string[] = [];
    let run: number[] = [];
    const flush = (): void => {
      if (run.length) pieces.push(this.constant(run, 'int64', [run.length]));
      run = [];
    };
    for (const t of terms) {
      if (t.symbols.length === 0) { run.push(t.constant); continue; }
      flush();
      pieces.push(this.runtime(t));
    }
    flush();
    return pieces.length === 1 ? pieces[0]! : this.node('Concat', pieces, { axis: 0 })[0]!;
  }

  sizes(values: readonly number[]): string {
    const out = this.current.out;
    const labelled = out.length === values.length && out.every((t, k) => termValue(t) === values[k]);
    return this.list(labelled ? out : values.map((n) => this.exactTerm(n)));
  }

  /**
   * Reshape merges or splits runs of adjacent dimensions. An output dimension that is a whole run
   * of input dimensions is their product (symbolic where they are); one of several split from a
   * run is a symbol where its size is one, else a constant.
   */
  reshapeTarget(from: readonly number[], to: readonly number[]): string {
    if (this.symbols.length === 0) return this.constant(to, 'int64', [to.length]);
    const labels = this.current.inputs[0];
    return this.list(this.reshapeTerms(labels && labels.length === from.length ? labels : from.map((n) => this.term(n)), to));
  }

  /**
   * Reshape merges or splits runs of adjacent dimensions. An output dimension that is a whole run
   * of input dimensions is their product (symbolic where they are); one of several split from a
   * run is a symbol of that run where its size is one ([B*T, C] -> [B, T, C]), else a constant.
   */
  reshapeTerms(from: readonly SizeTerm[], to: readonly number[]): SizeTerm[] {
    const terms: SizeTerm[] = [];
    let i = 0;
    let j = 0;
    while (j < to.length) {
      // The shortest runs from[i..i2) and to[j..j2) with equal products (no size is 0 here).
      let i2 = i;
      let j2 = j + 1;
      let pin = i2 < from.length ? termValue(from[i2++]!) : 1;
      let pout = to[j]!;
      while (pin !== pout) {
        if (pin < pout && i2 < from.length) pin *= termValue(from[i2++]!);
        else if (j2 < to.length) pout *= to[j2++]!;
        else throw new ZhuyiError(`reshape: cannot map ${fmtShape(from.map(termValue))} onto ${fmtShape(to)}`);
      }
      const run = from.slice(i, i2);
      const symbols = run.flatMap((t) => t.symbols);
      if (j2 - j === 1) terms.push(symbols.length ? { symbols, constant: run.reduce((c, t) => c * t.constant, 1) } : { symbols: [], constant: to[j]! });
      else for (const d of to.slice(j, j2)) terms.push(this.term(d, symbols));
      i = i2;
      j = j2;
    }
    return terms;
  }

  sliceBounds(starts: readonly number[], ends: readonly number[], dims: readonly number[]): [string, string] {
    const r = starts.length;
    // A parameter is cut at the model's own sizes (the query rows of an in-projection), never a batch's.
    if (this.symbols.length === 0 || this.current.parameters[0]) return [this.constant(starts, 'int64', [r]), this.constant(ends, 'int64', [r])];
    const labels = this.current.inputs[0];
    const symbolicDim = (k: number): boolean => (labels?.length === r ? labels[k]!.symbols.length > 0 : this.symbolOf(dims[k]!) !== undefined);
    // A bound equal to a symbolic size is read at run time (the first T rows of a position table);
    // one nearer a symbolic dimension's end than its start counts from the end (x[:, :-1] is -1
    // whatever T is); an end at the dimension's end is "to the end".
    const bound = (x: number, k: number, isEnd: boolean): SizeTerm => {
      const d = dims[k]!;
      if (isEnd && x >= d) return { symbols: [], constant: TO_THE_END };
      const s = this.symbolOf(x);
      if (s) return { symbols: [s], constant: 1 };
      return { symbols: [], constant: symbolicDim(k) && x > 0 && d - x < x ? x - d : x };
    };
    return [this.list(starts.map((x, k) => bound(x, k, false))), this.list(ends.map((x, k) => bound(x, k, true)))];
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

function valueInfo(name: string, dtype: DType, shape: readonly (number | string)[]): ValueInfoSpec {
  return { name, elemType: onnxDTypeCode(dtype), dims: shape };
}

export interface LoweredModel {
  bytes: Uint8Array;
  /** Graph input name of each graph value index that is an input. */
  inputNames: Map<number, string>;
  outputNames: string[];
  nodeCount: number;
  /** The symbolic sizes the model reads from its inputs (empty when lowered with concrete shapes). */
  symbols: string[];
  /** The model's nodes and initializers, as encoded (for tests and diagnostics). */
  nodes: readonly NodeSpec[];
  initializers: readonly TensorSpec[];
}

export interface LowerOptions {
  /**
   * Batch and sequence sizes become symbols (ONNX dim_params), so the model serves every such size:
   * each distinct size of 2 or more among the dimensions of the int32 and bool inputs (token ids,
   * masks, labels) is one symbol, and every input dimension of that size is declared with it. The
   * graph's reshape, expand, fill and slice sizes that equal a symbol (or a product of two) are
   * computed from the input's shape at run time. Two graphs that lower to the same bytes compute
   * the same thing, so a session is shared by exactly the graphs whose lowering is byte-identical.
   */
  symbolic?: boolean;
}

/** The symbolic sizes of a graph: see LowerOptions.symbolic. */
function findSymbols(graph: Graph, inputNames: Map<number, string>): SizeSymbol[] {
  const symbols: SizeSymbol[] = [];
  graph.values.forEach((v, i) => {
    if (v.kind !== 'input' || (v.meta.dtype !== 'int32' && v.meta.dtype !== 'bool')) return;
    v.meta.shape.forEach((n, axis) => {
      if (n > 1 && !symbols.some((s) => s.value === n)) symbols.push({ name: `s${symbols.length}`, value: n, input: inputNames.get(i)!, axis });
    });
  });
  return symbols;
}

/**
 * Labels every value's dimensions with the symbols they stand for, following sizes through the ops
 * that move them (reshape, permute, matmul, and elementwise ops by broadcast alignment) rather than by
 * value alone: a head size of 8 is not the batch size 8 because they are equal. Where no input
 * explains a size, it is a symbol if it equals one (products of symbols come from reshapes only:
 * a vocabulary of 40 is not S*B = 5*8). Labels only steer which sizes are computed at run
 * time; sessions are shared by byte-identical models, so a wrong guess costs a session, never a result.
 */
function labelGraph(graph: Graph, b: Builder, leafLabels?: (i: number, shape: readonly number[]) => SizeTerm[] | undefined): SizeTerm[][] {
  const labels: SizeTerm[][] = [];
  const exact = (n: number): SizeTerm => b.exactTerm(n);
  // The first symbolic labelling of each whole shape: a gradient's full/expand to [B*T] takes the
  // labels of the [B*T] value it stands beside, which no input of its own can tell.
  const byShape = new Map<string, SizeTerm[]>();
  graph.values.forEach((v, i) => {
    const out = v.meta.shape;
    // A parameter's sizes are the model's own (a feed-forward width of 64 is not 64 rows).
    if (v.kind === 'input') {
      labels[i] = leafLabels?.(i, out) ?? (v.parameter ? out.map((n) => ({ symbols: [], constant: n })) : out.map(exact));
      remember(out, labels[i]!);
      return;
    }
    const ins = v.inputs.map((j) => labels[j]!);
    let l: SizeTerm[] | null = v.op === 'full' || v.op === 'expand' ? byShape.get(out.join(',')) ?? null : null;
    if (l) {
      // An expand keeps what its own input tells, and takes the rest from the shape's labels.
      if (v.op === 'expand') l = l.map((t, k) => { const own = aligned(out[k]!, k, ins, out.length); return own.symbols.length ? own : t; });
    } else if (v.op === 'reshape') l = b.reshapeTerms(ins[0]!, out);
    else if (v.op === 'permute') l = (v.attrs.perm as number[]).map((p) => ins[0]![p]!);
    else if (v.op === 'gather') l = [...ins[1]!]; // the index's shape
    else if (v.op === 'indexSelect') l = ins[0]!.map((t, k) => (k === v.attrs.axis ? ins[1]![0]! : t));
    else if ((v.op === 'sum' || v.op === 'amax' || v.op === 'amin' || v.op === 'argmax' || v.op === 'argmin') && out.length === ins[0]!.length) {
      l = ins[0]!.map((t, k) => (out[k] === 1 && termValue(t) !== 1 ? { symbols: [], constant: 1 } : t)); // keepdim
    }
    else if (v.op === 'matmul' && ins[0]!.length >= 2 && ins[1]!.length >= 2) {
      const [a, c] = [ins[0]!, ins[1]!];
      l = out.map((n, k) => (k === out.length - 1 ? c[c.length - 1]! : k === out.length - 2 ? a[a.length - 2]! : aligned(n, k, [a.slice(0, -2), c.slice(0, -2)], out.length - 2)));
    }
    l ??= out.map((n, k) => aligned(n, k, ins, out.length));
    labels[i] = l.map((t, k) => (termValue(t) === out[k] ? t : exact(out[k]!)));
    remember(out, labels[i]!);
  });
  return labels;

  function remember(shape: readonly number[], l: SizeTerm[]): void {
    const key = shape.join(',');
    if (!byShape.has(key) && l.some((t) => t.symbols.length)) byShape.set(key, l);
  }

  /** Dimension k of a rank-r output: the label of an input dimension at the same place from the end with the same size. */
  function aligned(n: number, k: number, ins: readonly (readonly SizeTerm[])[], r: number): SizeTerm {
    let same: SizeTerm | undefined;
    for (const x of ins) {
      const t = x[x.length - (r - k)];
      if (t === undefined || termValue(t) !== n) continue;
      if (t.symbols.length) return t;
      same ??= t;
    }
    return same ?? exact(n);
  }
}

/** The model's name of each graph input, by value index: in0, in1, ... in order. */
function graphInputNames(graph: Graph): Map<number, string> {
  const names = new Map<number, string>();
  graph.values.forEach((v, i) => { if (v.kind === 'input') names.set(i, `in${names.size}`); });
  return names;
}

/** Each value's dimensions as the lowering sees them: 's0*s1', '4', ... (for tests and diagnostics). */
export function sizeLabels(graph: Graph): string[][] {
  const b = new Builder(findSymbols(graph, graphInputNames(graph)));
  return labelGraph(graph, b).map((dims) => dims.map((t) => [...t.symbols.map((s) => s.name), ...(t.constant !== 1 || t.symbols.length === 0 ? [String(t.constant)] : [])].join('*')));
}

/** Lowers a graph: inputs become graph inputs in order, every op its lowering, outputs graph outputs. */
export function lowerGraph(graph: Graph, options: LowerOptions = {}): LoweredModel {
  const inputNames = graphInputNames(graph);
  const symbols = options.symbolic ? findSymbols(graph, inputNames) : [];
  const b = new Builder(symbols);
  const names: string[] = new Array(graph.values.length);
  const inputs: ValueInfoSpec[] = [];
  const labels = symbols.length ? labelGraph(graph, b) : [];
  const declared = (i: number, shape: readonly number[]): (number | string)[] => shape.map((n, k) => labels[i]?.[k]?.symbols[0]?.name ?? n);
  graph.values.forEach((v, i) => {
    if (v.kind !== 'input') return;
    const name = inputNames.get(i)!;
    inputs.push(valueInfo(name, v.meta.dtype, declared(i, v.meta.shape)));
    names[i] = name;
  });
  lowerOps(graph, b, names, labels);
  // A graph output is the producing node's own value where it can be (an Identity would copy it:
  // for a training step that is every parameter and optimizer state, 3x the model's size per step).
  // It needs its own Identity when it is a graph input or an initializer, or repeats an earlier output.
  const produced = new Set(b.nodes.flatMap((n) => n.outputs));
  const taken = new Set<string>();
  const outputNames = graph.outputs.map((o, k) => {
    const value = names[o]!;
    if (produced.has(value) && !taken.has(value)) {
      taken.add(value);
      return value;
    }
    const name = `out${k}`;
    b.nodes.push({ opType: 'Identity', domain: '', inputs: [value], outputs: [name], name: `Identity_out${k}`, attrs: [] });
    return name;
  });
  // Symbolic outputs declare no sizes: one may be a product of symbols, or a constant only here.
  const outputShape = (k: number, shape: readonly number[]): (number | string)[] => (symbols.length ? shape.map((_, d) => `o${k}_${d}`) : [...shape]);
  const bytes = encodeModel({
    irVersion: irVersion(OPSET),
    opsets: opsetsOf(b, OPSET),
    producer: 'zhuyi',
    graphName: 'zhuyi',
    nodes: b.nodes,
    initializers: b.initializers,
    inputs,
    outputs: graph.outputs.map((o, k) => valueInfo(outputNames[k]!, graph.values[o]!.meta.dtype, outputShape(k, graph.values[o]!.meta.shape))),
  });
  return { bytes, inputNames, outputNames, nodeCount: b.nodes.length, symbols: symbols.map((s) => `${s.name}=${s.value}`), nodes: b.nodes, initializers: b.initializers };
}

function opsetsOf(b: Builder, version: number): { domain: string; version: number }[] {
  return [{ domain: '', version }, ...(b.nodes.some((n) => n.domain === MS_DOMAIN) ? [{ domain: MS_DOMAIN, version: 1 }] : [])];
}

/** Lowers every op of the graph in order; `names` holds the inputs' ONNX names and receives the ops'. */
function lowerOps(graph: Graph, b: Builder, names: string[], labels: readonly SizeTerm[][], parameterSizes = true): void {
  graph.values.forEach((v, i) => {
    if (v.kind === 'input') return;
    const def = getOp(v.op);
    if (!def.onnx) throw new ZhuyiError(`ort backend: op '${v.op}' has no ONNX lowering`);
    if (labels.length) {
      const parameters = v.inputs.map((j) => { const x = graph.values[j]!; return parameterSizes && x.kind === 'input' && x.parameter === true; });
      b.current = { inputs: v.inputs.map((j) => labels[j]!), out: labels[i]!, parameters };
    }
    names[i] = def.onnx(b, { inputs: v.inputs.map((j) => names[j]!), inMetas: v.inputs.map((j) => graph.values[j]!.meta), out: v.meta, attrs: v.attrs });
  });
}

/** A model input of an exported graph (see lowerForExport). */
export interface ExportInput {
  readonly name: string;
  /** Its graph value index, or undefined when the traced computation does not read it (declared all the same). */
  readonly index: number | undefined;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Per axis: the name of a size that varies (a dim_param such as 'batch_size'), or null for a fixed size. */
  readonly axes: readonly (string | null)[];
}

/** A traced graph lowered for export: the parts of an ONNX graph, ready to encode at an opset >= 18. */
export interface ExportedGraph {
  nodes: NodeSpec[];
  initializers: TensorSpec[];
  inputs: ValueInfoSpec[];
  outputs: ValueInfoSpec[];
  /** The extra operator domains the nodes use (ONNX Runtime's com.microsoft for its fused Gelu). */
  domains: string[];
}

/**
 * Lowers a traced graph as a standalone model: the named inputs are the graph inputs (int32 ones
 * declared int64, ONNX's index type, and cast), every other leaf an initializer (a weight under its
 * state-dict key from `weightNames`, a constant otherwise), the outputs are named. Each named axis
 * is a symbol: sizes of reshape, expand, fill and slice that equal its example size (or a product
 * of two) are read from the input's shape at run time, so the example sizes must be distinct from
 * each other and from the model's own sizes (the caller picks them so).
 */
export function lowerForExport(
  graph: Graph, inputs: readonly ExportInput[], outputs: readonly string[],
  weightNames: ReadonlyMap<unknown, string> = new Map(),
): ExportedGraph {
  const symbols: SizeSymbol[] = [];
  for (const input of inputs) {
    input.axes.forEach((axis, k) => {
      if (axis === null) return;
      const value = input.shape[k]!;
      const same = symbols.find((s) => s.name === axis);
      if (same && same.value !== value) throw new ZhuyiError(`export: axis '${axis}' is ${same.value} in input '${same.input}' and ${value} in '${input.name}'`);
      const clash = symbols.find((s) => s.name !== axis && s.value === value);
      if (clash) throw new ZhuyiError(`export: example sizes of '${clash.name}' and '${axis}' are both ${value}; trace with distinct sizes`);
      if (value < 2) throw new ZhuyiError(`export: the example size of axis '${axis}' (input '${input.name}') must be 2 or more, got ${value}`);
      if (!same) symbols.push({ name: axis, value, input: input.name, axis: k });
    });
  }
  const b = new Builder(symbols);
  const named = new Map<number, ExportInput>();
  for (const input of inputs) if (input.index !== undefined) named.set(input.index, input);
  // Only the named inputs carry batch and sequence sizes; weights and buffers have the model's own.
  const leafLabels = (i: number, shape: readonly number[]): SizeTerm[] | undefined => {
    if (named.has(i)) return undefined;
    return shape.map((n) => ({ symbols: [], constant: n }));
  };
  const labels = labelGraph(graph, b, leafLabels);
  const names: string[] = new Array(graph.values.length);
  const graphInputs: ValueInfoSpec[] = inputs.map((input) => {
    const dims = input.shape.map((n, k) => input.axes[k] ?? n);
    return input.dtype === 'int32' ? { name: input.name, elemType: onnxDTypeCode('int64'), dims } : valueInfo(input.name, input.dtype, dims);
  });
  const usedNames = new Set<string>(inputs.map((x) => x.name));
  graph.values.forEach((v, i) => {
    if (v.kind !== 'input') return;
    const input = named.get(i);
    if (input) {
      names[i] = input.dtype === 'int32' ? b.node('Cast', [input.name], { to: onnxDTypeCode('int32') })[0]! : input.name;
      return;
    }
    let name = weightNames.get(v.buffer) ?? b.fresh('const');
    while (usedNames.has(name)) name = `${name}_`;
    usedNames.add(name);
    b.initializers.push({ name, dims: [...v.meta.shape], dataType: onnxDTypeCode(v.meta.dtype), raw: new Uint8Array(v.buffer.buffer, v.buffer.byteOffset, v.buffer.byteLength) });
    names[i] = name;
  });
  // Example sizes differ from every model size, so a parameter cut at one (a learned position table's first T rows) is cut at run time.
  lowerOps(graph, b, names, labels, false);
  // Every output through an Identity of its own name (two outputs may be one value); its axes are
  // its labels: a symbol's name, a product's ('batch_size*num_choices'), else the fixed size.
  const graphOutputs = graph.outputs.map((o, k) => {
    const name = outputs[k]!;
    b.nodes.push({ opType: 'Identity', domain: '', inputs: [names[o]!], outputs: [name], name: `out_${name}`, attrs: [] });
    const axes = labels[o]!.map((t) => (t.symbols.length ? [...t.symbols.map((x) => x.name), ...(t.constant === 1 ? [] : [String(t.constant)])].join('*') : t.constant));
    return valueInfo(name, graph.values[o]!.meta.dtype, axes);
  });
  return { nodes: b.nodes, initializers: b.initializers, inputs: graphInputs, outputs: graphOutputs, domains: b.nodes.some((n) => n.domain === MS_DOMAIN) ? [MS_DOMAIN] : [] };
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
