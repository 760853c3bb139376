import type { Attrs, Meta } from '../ops/registry.js';
import type { TypedArray } from './dtype.js';
import { ZhuyiError } from './errors.js';
import type { Tensor } from './tensor.js';

/** A value of a graph handed to a backend: a realized input, or an op over earlier values. */
export type GraphValue =
  | { readonly kind: 'input'; readonly meta: Meta; readonly buffer: TypedArray; readonly parameter?: boolean }
  | { readonly kind: 'op'; readonly meta: Meta; readonly op: string; readonly attrs: Attrs; readonly inputs: readonly number[] };

/**
 * A subgraph in topological order. `outputs` index into `values`. Value numbering depends only on
 * the graph's structure and the order of the targets, so backends can key caches on it.
 */
export interface Graph {
  readonly values: readonly GraphValue[];
  readonly outputs: readonly number[];
}

/** The narrow interface every backend implements. */
export interface Backend {
  readonly name: string;
  /** Computes the graph's outputs. Input buffers must not be modified; outputs must be fresh buffers. */
  run(graph: Graph): Promise<TypedArray[]>;
}

const backends = new Map<string, Backend | (() => Promise<Backend>)>();
let active: Backend | null = null;
let activeName = 'js';

export function registerBackend(name: string, backend: Backend | (() => Promise<Backend>)): void {
  backends.set(name, backend);
}

/** Selects the backend that runs realize: 'js' (reference) or 'ort' (ONNX Runtime). */
export function setBackend(name: string): void {
  if (!backends.has(name)) throw new ZhuyiError(`setBackend: unknown backend '${name}', expected one of ${[...backends.keys()].join(', ')}`);
  activeName = name;
  active = null;
}

export function getBackend(): string {
  return activeName;
}

async function activeBackend(): Promise<Backend> {
  if (active) return active;
  const entry = backends.get(activeName);
  if (!entry) {
    throw new ZhuyiError(`realize: backend '${activeName}' is not registered; import the package root ('zhuyi'), which registers 'js' and 'ort', or call registerBackend('${activeName}', ...) first`);
  }
  active = typeof entry === 'function' ? await entry() : entry;
  backends.set(activeName, active);
  return active;
}

/** Collects the unrealized subgraph behind `targets` (iterative post-order DFS; deep graphs do not overflow the stack). */
export function buildGraph(targets: readonly Tensor[]): Graph {
  const index = new Map<Tensor, number>();
  const values: GraphValue[] = [];
  for (const target of targets) {
    if (index.has(target)) continue;
    const stack: [Tensor, number][] = [[target, 0]];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [t, next] = top;
      if (index.has(t)) { stack.pop(); continue; }
      if (t.buffer !== null) {
        index.set(t, values.length);
        values.push({ kind: 'input', meta: t.meta, buffer: t.buffer, ...(t.requiresGrad ? { parameter: true } : {}) });
        stack.pop();
        continue;
      }
      if (t.op === null) throw new ZhuyiError(`realize: leaf tensor ${t} has no values`);
      if (next < t.inputs.length) {
        top[1] = next + 1;
        const child = t.inputs[next]!;
        if (!index.has(child)) stack.push([child, 0]);
        continue;
      }
      index.set(t, values.length);
      values.push({ kind: 'op', meta: t.meta, op: t.op, attrs: t.attrs, inputs: t.inputs.map((x) => index.get(x)!) });
      stack.pop();
    }
  }
  return { values, outputs: targets.map((t) => index.get(t)!) };
}

/** Computes every unrealized target in one backend run and turns the targets into realized tensors. */
export async function realize(...tensors: Tensor[]): Promise<void> {
  const targets = [...new Set(tensors.filter((t) => t.buffer === null))];
  if (targets.length === 0) return;
  const graph = buildGraph(targets);
  const backend = await activeBackend();
  const buffers = await backend.run(graph);
  targets.forEach((t, i) => t.setRealized(buffers[i]!));
}
