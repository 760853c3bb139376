/**
 * The fast backend: compiles each distinct graph structure once into an ONNX Runtime
 * InferenceSession and feeds realized tensors as inputs. onnxruntime-node is imported lazily
 * (only this file touches it), so importing zhuyi stays cheap and a browser build can swap in
 * onnxruntime-web.
 */
import { cpus } from 'node:os';
import type * as Ort from 'onnxruntime-node';
import { JsBackend } from '../js/index.js';
import type { DType, TypedArray } from '../../tensor/dtype.js';
import { ZhuyiError } from '../../tensor/errors.js';
import type { Backend, Graph } from '../../tensor/realize.js';
import { graphKey, lowerGraph } from './builder.js';

export interface OrtOptions {
  /** Intra-op threads; default ZHUYI_THREADS or the machine's cores. */
  threads?: number;
  /** Sessions kept in the LRU cache (default 64). */
  cacheSize?: number;
  /** Execution providers, e.g. ['cuda', 'cpu'] (default ZHUYI_EP split on commas, else ['cpu']). */
  executionProviders?: string[];
}

export interface OrtStats {
  /** Session runs (one per realize that reached ONNX Runtime). */
  runs: number;
  hits: number;
  misses: number;
  /** Total milliseconds spent lowering and creating sessions. */
  compileMs: number;
  /** Graphs run on the js backend instead (zero-size tensors, which ONNX Runtime handles poorly). */
  fallbacks: number;
  cached: number;
}

interface Compiled {
  session: Ort.InferenceSession;
  inputNames: Map<number, string>;
  outputNames: string[];
}

const ORT_TYPE: Record<DType, Ort.Tensor.Type> = { float32: 'float32', float64: 'float64', int32: 'int32', bool: 'bool' };

let options: Required<OrtOptions> = defaults();

function defaults(): Required<OrtOptions> {
  const env = Number(process.env.ZHUYI_THREADS);
  return {
    threads: Number.isInteger(env) && env > 0 ? env : cpus().length,
    cacheSize: 64,
    executionProviders: process.env.ZHUYI_EP ? process.env.ZHUYI_EP.split(',') : ['cpu'],
  };
}

/** Sets ort options (threads, cache size, providers). Existing sessions are dropped so they pick up the change. */
export function configureOrt(next: OrtOptions): void {
  options = { ...options, ...next };
  if (instance) instance.clear();
}

let instance: OrtBackend | null = null;

export class OrtBackend implements Backend {
  readonly name = 'ort';
  private readonly cache = new Map<string, Promise<Compiled>>();
  private readonly fallback = new JsBackend();
  readonly stats: OrtStats = { runs: 0, hits: 0, misses: 0, compileMs: 0, fallbacks: 0, cached: 0 };

  constructor(private readonly ort: typeof Ort) {}

  clear(): void {
    for (const c of this.cache.values()) void c.then((x) => x.session.release()).catch(() => {});
    this.cache.clear();
    this.stats.cached = 0;
  }

  private compile(graph: Graph, key: string): Promise<Compiled> {
    const cached = this.cache.get(key);
    if (cached) {
      this.stats.hits++;
      // LRU: move to the back.
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    this.stats.misses++;
    const start = performance.now();
    const lowered = lowerGraph(graph);
    const made = this.ort.InferenceSession.create(lowered.bytes, {
      intraOpNumThreads: options.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      executionProviders: options.executionProviders,
    }).then((session) => {
      this.stats.compileMs += performance.now() - start;
      return { session, inputNames: lowered.inputNames, outputNames: lowered.outputNames };
    });
    made.catch(() => this.cache.delete(key));
    this.cache.set(key, made);
    while (this.cache.size > options.cacheSize) {
      const oldest = this.cache.keys().next().value as string;
      void this.cache.get(oldest)!.then((x) => x.session.release()).catch(() => {});
      this.cache.delete(oldest);
    }
    this.stats.cached = this.cache.size;
    return made;
  }

  async run(graph: Graph): Promise<TypedArray[]> {
    if (graph.values.some((v) => v.meta.shape.includes(0))) {
      this.stats.fallbacks++;
      return this.fallback.run(graph);
    }
    let compiled: Compiled;
    try {
      compiled = await this.compile(graph, graphKey(graph));
    } catch (e) {
      throw new ZhuyiError(`ort backend: could not compile a graph of ${graph.values.length} values (ops: ${[...new Set(graph.values.flatMap((v) => (v.kind === 'op' ? [v.op] : [])))].join(', ')}): ${(e as Error).message}`);
    }
    const feeds: Record<string, Ort.Tensor> = {};
    for (const [i, name] of compiled.inputNames) {
      const v = graph.values[i]!;
      if (v.kind !== 'input') continue;
      feeds[name] = new this.ort.Tensor(ORT_TYPE[v.meta.dtype], v.buffer, [...v.meta.shape]);
    }
    this.stats.runs++;
    const results = await compiled.session.run(feeds);
    return compiled.outputNames.map((name, k) => {
      const data = results[name]!.data as TypedArray;
      const meta = graph.values[graph.outputs[k]!]!.meta;
      // bool outputs arrive as Uint8Array already; everything else matches the dtype's array type.
      if (meta.dtype === 'bool' && !(data instanceof Uint8Array)) return Uint8Array.from(data as ArrayLike<number>, (x) => (x ? 1 : 0));
      return data;
    });
  }
}

/** Loads onnxruntime-node and returns the shared backend. */
export async function createOrtBackend(): Promise<OrtBackend> {
  if (!instance) {
    const ort = (await import('onnxruntime-node')) as typeof Ort;
    instance = new OrtBackend(ort);
  }
  return instance;
}

/** Counters of the ort backend (zeros before first use). */
export function ortStats(): OrtStats {
  return instance ? { ...instance.stats } : { runs: 0, hits: 0, misses: 0, compileMs: 0, fallbacks: 0, cached: 0 };
}

export function resetOrtStats(): void {
  if (!instance) return;
  Object.assign(instance.stats, { runs: 0, hits: 0, misses: 0, compileMs: 0, fallbacks: 0 });
}
