/**
 * The fast backend: compiles each distinct graph structure once into an ONNX Runtime
 * InferenceSession and feeds realized tensors as inputs. Platform-neutral: the runtime module
 * (onnxruntime-node here, onnxruntime-web in a browser build) and the platform's defaults are
 * handed in by node.ts, the only file that touches Node APIs.
 */
import type * as Ort from 'onnxruntime-common';
import { JsBackend } from '../js/index.js';
import type { DType, TypedArray } from '../../tensor/dtype.js';
import { ZhuyiError } from '../../tensor/errors.js';
import type { Backend, Graph } from '../../tensor/realize.js';
import { graphKey, lowerGraph } from './builder.js';
import { checkOptions } from '../../tensor/options.js';

export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface OrtOptions {
  /** Intra-op threads; default ZHUYI_THREADS, else the machine's cores. */
  threads?: number;
  /**
   * Sessions kept in the LRU cache (default 256, ZHUYI_ORT_CACHE). A training run compiles one step
   * graph per bucket shape (30-40 on Multi30k) and each validation decode adds one per (rows, step)
   * shape (about 200 for 300 sentences); at 64 a validation evicted every training graph, which
   * then recompiled each epoch. A session of such a graph holds about 1.5 MB.
   */
  cacheSize?: number;
  /**
   * ONNX Runtime's per-node profiler: each session writes `<prefix>_<date>.json` (Chrome trace
   * format) when evicted, and the sessions still cached at `endOrtProfiling()` (Node calls it at
   * exit). Default '' (off), ZHUYI_ORT_PROFILE.
   */
  profilePrefix?: string;
  /** Execution providers in order of preference, e.g. ['cuda', 'cpu'] (default ZHUYI_EP split on commas, else ['cpu']). */
  executionProviders?: string[];
  /** ONNX Runtime graph optimizations (default 'all': fusions such as MatMul+Add, Gelu, transposes into GEMM). */
  graphOptimizationLevel?: GraphOptimizationLevel;
  /**
   * ONNX Runtime's CPU memory arena per session (default false). An arena keeps its peak allocation for
   * the session's lifetime, so the cached sessions of large graphs (training steps over many bucket
   * shapes) hold gigabytes: a Multi30k GRU+attention run reached 15 GB in 4 minutes with arenas and
   * 2.2 GB without, at the same step time (0.8 s for a 200 x 20 batch either way).
   */
  memoryArena?: boolean;
}

export interface OrtStats {
  /** Session runs (one per realize that reached ONNX Runtime). */
  runs: number;
  /** Realizes whose graph structure was already compiled. */
  hits: number;
  /** Realizes that lowered a graph and created a session. */
  misses: number;
  /** Total milliseconds spent lowering graphs and creating sessions. */
  compileMs: number;
  /** Graphs run on the js backend instead (zero-size tensors, which ONNX Runtime handles poorly). */
  fallbacks: number;
  /** Sessions currently in the cache. */
  cached: number;
}

/** The part of an onnxruntime module (node or web) the backend uses. */
export interface OrtRuntime {
  readonly InferenceSession: { create(model: Uint8Array, options?: Ort.InferenceSession.SessionOptions): Promise<Ort.InferenceSession> };
  readonly Tensor: new (type: Ort.Tensor.Type, data: TypedArray, dims: readonly number[]) => Ort.Tensor;
}

interface Compiled {
  session: Ort.InferenceSession;
  inputNames: Map<number, string>;
  outputNames: string[];
}

const ORT_TYPE: Record<DType, Ort.Tensor.Type> = { float32: 'float32', float64: 'float64', int32: 'int32', bool: 'bool' };

/** Sessions kept when no cacheSize is configured (see OrtOptions.cacheSize). */
export const DEFAULT_CACHE_SIZE = 256;

let platformDefaults: Required<OrtOptions> = { threads: 1, cacheSize: DEFAULT_CACHE_SIZE, executionProviders: ['cpu'], graphOptimizationLevel: 'all', memoryArena: false, profilePrefix: '' };
let overrides: OrtOptions = {};
let instance: OrtBackend | null = null;

/** The options in effect: platform defaults (cores, environment), then configureOrt's overrides. */
export function ortConfig(): Required<OrtOptions> {
  const set = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as OrtOptions;
  return { ...platformDefaults, ...set };
}

/**
 * Overrides ort options; a key set to undefined goes back to its default. Cached sessions are
 * dropped when threads, providers or optimization change, so the next realize picks them up.
 */
export function configureOrt(next: OrtOptions): void {
  next = checkOptions('configureOrt', next, { threads: 1, cacheSize: 1, profilePrefix: 1, executionProviders: 1, graphOptimizationLevel: 1, memoryArena: 1 });
  for (const key of ['threads', 'cacheSize'] as const) {
    const v = next[key];
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new ZhuyiError(`configureOrt: ${key} must be a positive integer, got ${v}`);
  }
  const before = JSON.stringify(sessionOptions(ortConfig()));
  overrides = { ...overrides, ...next };
  if (instance && JSON.stringify(sessionOptions(ortConfig())) !== before) instance.clear();
  instance?.evict();
}

function sessionOptions(o: Required<OrtOptions>): Ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: o.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: o.graphOptimizationLevel,
    executionProviders: o.executionProviders,
    enableCpuMemArena: o.memoryArena,
    ...(o.profilePrefix ? { enableProfiling: true, profileFilePrefix: o.profilePrefix } : {}),
  };
}

export class OrtBackend implements Backend {
  readonly name = 'ort';
  /** Insertion order is recency order: a hit moves its entry to the back, eviction takes the front. */
  private readonly cache = new Map<string, Promise<Compiled>>();
  private readonly fallback = new JsBackend();
  /** Live sessions created with profiling on: each writes its trace before it is released. */
  private readonly profiled = new Set<Compiled>();
  readonly stats: OrtStats = { runs: 0, hits: 0, misses: 0, compileMs: 0, fallbacks: 0, cached: 0 };

  constructor(private readonly ort: OrtRuntime) {}

  clear(): void {
    for (const c of this.cache.values()) this.release(c);
    this.cache.clear();
    this.stats.cached = 0;
  }

  private release(c: Promise<Compiled>): void {
    void c.then((x) => {
      if (this.profiled.delete(x)) x.session.endProfiling();
      return x.session.release();
    }).catch(() => {});
  }

  /** Writes the trace of every live profiled session (ONNX Runtime's endProfiling); they stop profiling. */
  endProfiling(): void {
    for (const x of this.profiled) x.session.endProfiling();
    this.profiled.clear();
  }

  /** Drops least recently used sessions beyond the cache size. */
  evict(): void {
    const limit = ortConfig().cacheSize;
    while (this.cache.size > limit) {
      const oldest = this.cache.keys().next().value as string;
      this.release(this.cache.get(oldest)!);
      this.cache.delete(oldest);
    }
    this.stats.cached = this.cache.size;
  }

  private compile(graph: Graph, key: string): Promise<Compiled> {
    const cached = this.cache.get(key);
    if (cached) {
      this.stats.hits++;
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    this.stats.misses++;
    const start = performance.now();
    const lowered = lowerGraph(graph);
    const options = sessionOptions(ortConfig());
    const made = this.ort.InferenceSession.create(lowered.bytes, options).then((session) => {
      this.stats.compileMs += performance.now() - start;
      const compiled = { session, inputNames: lowered.inputNames, outputNames: lowered.outputNames };
      if (options.enableProfiling) this.profiled.add(compiled);
      return compiled;
    });
    // A failed compile must not poison the cache: the next realize of this structure tries again.
    made.catch(() => {
      if (this.cache.get(key) === made) this.cache.delete(key);
      this.stats.cached = this.cache.size;
    });
    this.cache.set(key, made);
    this.evict();
    return made;
  }

  async run(graph: Graph): Promise<TypedArray[]> {
    // ONNX Runtime rejects or mishandles zero-size tensors in several kernels (Reshape, MatMul,
    // Concat); such graphs are tiny by definition, so the reference backend computes them.
    if (graph.values.some((v) => v.meta.shape.includes(0))) {
      this.stats.fallbacks++;
      return this.fallback.run(graph);
    }
    let compiled: Compiled;
    try {
      compiled = await this.compile(graph, graphKey(graph));
    } catch (e) {
      throw new ZhuyiError(`ort backend: could not compile a graph of ${graph.values.length} values (ops: ${opsOf(graph)}): ${(e as Error).message}`);
    }
    const feeds: Record<string, Ort.Tensor> = {};
    for (const [i, name] of compiled.inputNames) {
      const v = graph.values[i]!;
      // Zero-copy: the tensor wraps the realized buffer (bool as Uint8Array, which ORT reads as bool).
      if (v.kind === 'input') feeds[name] = new this.ort.Tensor(ORT_TYPE[v.meta.dtype], v.buffer, v.meta.shape);
    }
    this.stats.runs++;
    let results: Ort.InferenceSession.ReturnType;
    try {
      results = await compiled.session.run(feeds);
    } catch (e) {
      // Data-dependent failures land here, e.g. an index out of range in Gather or ScatterElements.
      throw new ZhuyiError(`ort backend: run failed (ops: ${opsOf(graph)}): ${(e as Error).message}`);
    }
    return compiled.outputNames.map((name, k) => {
      const data = results[name]!.data as TypedArray;
      const meta = graph.values[graph.outputs[k]!]!.meta;
      if (meta.dtype === 'bool' && !(data instanceof Uint8Array)) return Uint8Array.from(data as ArrayLike<number>, (x) => (x ? 1 : 0));
      return data;
    });
  }
}

function opsOf(graph: Graph): string {
  return [...new Set(graph.values.flatMap((v) => (v.kind === 'op' ? [v.op] : [])))].join(', ');
}

/** Creates the shared backend over a runtime module, with the platform's default options. */
export function installOrt(ort: OrtRuntime, defaults: Required<OrtOptions>): OrtBackend {
  platformDefaults = defaults;
  instance ??= new OrtBackend(ort);
  return instance;
}

/** Writes the profiles of the cached sessions now (see OrtOptions.profilePrefix); a no-op when none profile. */
export function endOrtProfiling(): void {
  instance?.endProfiling();
}

/** Counters of the ort backend (zeros before first use). */
export function ortStats(): OrtStats {
  return instance ? { ...instance.stats } : { runs: 0, hits: 0, misses: 0, compileMs: 0, fallbacks: 0, cached: 0 };
}

/** Zeroes the counters (not `cached`, which is the cache's size). */
export function resetOrtStats(): void {
  if (instance) Object.assign(instance.stats, { runs: 0, hits: 0, misses: 0, compileMs: 0, fallbacks: 0 });
}
