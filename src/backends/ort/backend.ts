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
   * ONNX Runtime's CPU memory arena per session: true, false, or 'auto' (the default). Without an
   * arena every run takes its intermediates from malloc and frees them; with one, a session keeps
   * its peak for its lifetime (a Multi30k GRU+attention run, ~40 sessions, reached 15 GB in 4
   * minutes). 'auto' gives a new session an arena only when the process heap is not tuned (see
   * heap.ts: the `zhuyi` command's heap already keeps freed pages, shared by all sessions) and the
   * process's resident memory is under `arenaBudgetMB`, so memory stays bounded either way.
   */
  memoryArena?: boolean | 'auto';
  /** With memoryArena 'auto': no new arena once resident memory exceeds this (default: a quarter of RAM, at most 8192 MB; ZHUYI_ORT_ARENA_BUDGET_MB). */
  arenaBudgetMB?: number;
  /**
   * Compile batch and sequence sizes as symbols (default true, ZHUYI_ORT_SYMBOLIC=0 turns it off):
   * every bucket shape of a training step, validation forward or decode step then shares one
   * session (see builder.ts lowerGraph). Off, each concrete shape compiles its own.
   */
  symbolicShapes?: boolean;
  /**
   * ONNX Runtime's memory pattern (default false in Node, ZHUYI_ORT_MEM_PATTERN=1 turns it on; true in browsers): with it a
   * session plans one block for all of a run's intermediates, per input shape. With symbolic shapes
   * every bucket shape brings a block of its own size, which a heap that keeps freed memory cannot
   * reuse for the next, larger one: a cmn-eng Transformer run peaked at 4.8 GB with it and 3.2 GB
   * without, at the same speed (see README, "Memory").
   */
  memoryPattern?: boolean;
}

/** What the platform tells the backend about its process (node.ts fills it; browsers leave it empty). */
export interface OrtPlatform {
  /** Freed memory stays in the process heap (glibc tuned by heap.ts): arenas would only hold more. */
  readonly heapTuned?: boolean;
  /** The process's resident memory in bytes. */
  readonly residentBytes?: () => number;
}

export interface OrtStats {
  /** Session runs (one per realize that reached ONNX Runtime). */
  runs: number;
  /** Realizes served by an existing session: the same shapes, or other shapes with the same symbolic model. */
  hits: number;
  /** Realizes that created a session (a new graph, or new bytes after symbolic lowering). */
  misses: number;
  /** Total milliseconds spent lowering graphs and creating sessions. */
  compileMs: number;
  /** Graphs run on the js backend instead (zero-size tensors, which ONNX Runtime handles poorly). */
  fallbacks: number;
  /** Concrete graph shapes currently in the cache (each holds a session, shared across shapes). */
  cached: number;
  /** Live ONNX Runtime sessions (fewer than `cached` when bucket shapes share a symbolic session). */
  sessions: number;
  /** Sessions created with ONNX Runtime's memory arena (memoryArena true, or 'auto' within budget). */
  arenaSessions: number;
  /** Bytes of the ONNX models behind the live sessions (what the cache's memory budget counts). */
  modelBytes: number;
}

/** The part of an onnxruntime module (node or web) the backend uses. */
export interface OrtRuntime {
  readonly InferenceSession: { create(model: Uint8Array, options?: Ort.InferenceSession.SessionOptions): Promise<Ort.InferenceSession> };
  readonly Tensor: new (type: Ort.Tensor.Type, data: TypedArray, dims: readonly number[]) => Ort.Tensor;
}

/** One ONNX Runtime session and the concrete shapes that use it. */
interface Shared {
  readonly hash: string;
  readonly bytes: Uint8Array;
  readonly session: Promise<Ort.InferenceSession>;
  refs: number;
}

/** A concrete graph's view of its session: its inputs' and outputs' names in the model. */
interface Compiled {
  session: Ort.InferenceSession;
  inputNames: Map<number, string>;
  outputNames: string[];
  shared: Shared;
}

/** FNV-1a over the model bytes, two lanes, and the length: a lookup key (hits are compared byte for byte). */
function hashBytes(bytes: Uint8Array): string {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < bytes.length; i++) {
    a = Math.imul(a ^ bytes[i]!, 0x01000193);
    b = Math.imul(b ^ bytes[i]!, 0x5bd1e995) ^ (b >>> 15);
  }
  return `${bytes.length}:${(a >>> 0).toString(36)}:${(b >>> 0).toString(36)}`;
}

function equalBytes(x: Uint8Array, y: Uint8Array): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

const ORT_TYPE: Record<DType, Ort.Tensor.Type> = { float32: 'float32', float64: 'float64', int32: 'int32', bool: 'bool' };

/** Sessions kept when no cacheSize is configured (see OrtOptions.cacheSize). */
export const DEFAULT_CACHE_SIZE = 256;

let platformDefaults: Required<OrtOptions> = { threads: 1, cacheSize: DEFAULT_CACHE_SIZE, executionProviders: ['cpu'], graphOptimizationLevel: 'all', memoryArena: 'auto', arenaBudgetMB: 2048, symbolicShapes: true, memoryPattern: false, profilePrefix: '' };
let platform: OrtPlatform = {};
let overrides: OrtOptions = {};
let instance: OrtBackend | null = null;

/** The options in effect: platform defaults (cores, environment), then configureOrt's overrides. */
export function ortConfig(): Required<OrtOptions> {
  const set = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as OrtOptions;
  return { ...platformDefaults, ...set };
}

/**
 * Overrides ort options; a key set to undefined goes back to its default. Cached sessions are
 * dropped when threads, providers, optimization or the arena change, so the next realize picks them up.
 */
export function configureOrt(next: OrtOptions): void {
  next = checkOptions('configureOrt', next, { threads: 1, cacheSize: 1, profilePrefix: 1, executionProviders: 1, graphOptimizationLevel: 1, memoryArena: 1, arenaBudgetMB: 1, symbolicShapes: 1, memoryPattern: 1 });
  for (const key of ['threads', 'cacheSize', 'arenaBudgetMB'] as const) {
    const v = next[key];
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new ZhuyiError(`configureOrt: ${key} must be a positive integer, got ${v}`);
  }
  if (next.memoryArena !== undefined && next.memoryArena !== true && next.memoryArena !== false && next.memoryArena !== 'auto') {
    throw new ZhuyiError(`configureOrt: memoryArena must be true, false or 'auto', got ${String(next.memoryArena)}`);
  }
  const before = sessionKnobs(ortConfig());
  overrides = { ...overrides, ...next };
  if (instance && sessionKnobs(ortConfig()) !== before) instance.clear();
  instance?.evict();
}

/** The options that shape a session (a change recompiles); cacheSize only evicts. */
function sessionKnobs(o: Required<OrtOptions>): string {
  const { cacheSize: _, ...rest } = o;
  return JSON.stringify(rest);
}

/** Whether the next session gets an arena (see OrtOptions.memoryArena). */
function wantsArena(o: Required<OrtOptions>): boolean {
  if (o.memoryArena !== 'auto') return o.memoryArena;
  if (platform.heapTuned) return false;
  const resident = platform.residentBytes?.();
  return resident === undefined || resident < o.arenaBudgetMB * 1024 * 1024;
}

function sessionOptions(o: Required<OrtOptions>): Ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: o.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: o.graphOptimizationLevel,
    executionProviders: o.executionProviders,
    enableCpuMemArena: wantsArena(o),
    enableMemPattern: o.memoryPattern,
    ...(o.profilePrefix ? { enableProfiling: true, profileFilePrefix: o.profilePrefix } : {}),
  };
}

export class OrtBackend implements Backend {
  readonly name = 'ort';
  /** Insertion order is recency order: a hit moves its entry to the back, eviction takes the front. */
  private readonly cache = new Map<string, Promise<Compiled>>();
  private readonly fallback = new JsBackend();
  /** Sessions by the bytes of their model: concrete shapes whose symbolic lowering is identical share one. */
  private readonly sessions = new Map<string, Shared[]>();
  /** Live sessions created with profiling on: each writes its trace before it is released. */
  private readonly profiled = new Map<Shared, Ort.InferenceSession>();
  readonly stats: OrtStats = { runs: 0, hits: 0, misses: 0, compileMs: 0, fallbacks: 0, cached: 0, arenaSessions: 0, sessions: 0, modelBytes: 0 };

  constructor(private readonly ort: OrtRuntime) {}

  clear(): void {
    for (const c of this.cache.values()) this.release(c);
    this.cache.clear();
    this.stats.cached = 0;
  }

  /** Drops one concrete shape's hold on its session; the session goes when no shape holds it. */
  private release(c: Promise<Compiled>): void {
    void c.then(({ shared }) => {
      if (--shared.refs > 0) return;
      const list = this.sessions.get(shared.hash) ?? [];
      list.splice(list.indexOf(shared), 1);
      if (list.length === 0) this.sessions.delete(shared.hash);
      this.updateSessionStats();
      return shared.session.then((session) => {
        if (this.profiled.delete(shared)) session.endProfiling();
        return session.release();
      });
    }).catch(() => {});
  }

  /** stats.sessions and stats.modelBytes from the live sessions. */
  private updateSessionStats(): void {
    let n = 0;
    let bytes = 0;
    for (const list of this.sessions.values()) {
      n += list.length;
      for (const x of list) bytes += x.bytes.length;
    }
    this.stats.sessions = n;
    this.stats.modelBytes = bytes;
  }

  /** Writes the trace of every live profiled session (ONNX Runtime's endProfiling); they stop profiling. */
  endProfiling(): void {
    for (const session of this.profiled.values()) session.endProfiling();
    this.profiled.clear();
  }

  /** Drops least recently used shapes beyond the cache size (and the sessions no shape holds). */
  evict(): void {
    const limit = ortConfig().cacheSize;
    while (this.cache.size > limit) {
      const oldest = this.cache.keys().next().value as string;
      this.release(this.cache.get(oldest)!);
      this.cache.delete(oldest);
    }
    this.stats.cached = this.cache.size;
  }

  /**
   * The session for a graph. Fast path: these exact shapes ran before. Else the graph is lowered
   * (with symbolic batch and sequence sizes unless configured off) and its bytes looked up: a
   * bucket shape whose lowering equals an earlier one's runs on that session; only new bytes compile.
   */
  private compile(graph: Graph, key: string): Promise<Compiled> {
    const cached = this.cache.get(key);
    if (cached) {
      this.stats.hits++;
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    const start = performance.now();
    const config = ortConfig();
    const lowered = lowerGraph(graph, { symbolic: config.symbolicShapes });
    const hash = hashBytes(lowered.bytes);
    let shared = this.sessions.get(hash)?.find((x) => equalBytes(x.bytes, lowered.bytes));
    if (shared) {
      this.stats.hits++;
      shared.refs++;
      this.stats.compileMs += performance.now() - start;
    } else {
      this.stats.misses++;
      const options = sessionOptions(config);
      if (options.enableCpuMemArena) this.stats.arenaSessions++;
      const session = this.ort.InferenceSession.create(lowered.bytes, options);
      const entry: Shared = { hash, bytes: lowered.bytes, session, refs: 1 };
      shared = entry;
      void session.then((created) => {
        this.stats.compileMs += performance.now() - start;
        if (options.enableProfiling) this.profiled.set(entry, created);
      }, () => {
        // A failed compile must not poison the cache: the next realize of these bytes tries again.
        const list = this.sessions.get(hash) ?? [];
        if (list.includes(entry)) list.splice(list.indexOf(entry), 1);
        if (list.length === 0) this.sessions.delete(hash);
        this.updateSessionStats();
      });
      this.sessions.set(hash, [...(this.sessions.get(hash) ?? []), entry]);
      this.updateSessionStats();
    }
    const holder = shared;
    const made = holder.session.then((session) => ({ session, inputNames: lowered.inputNames, outputNames: lowered.outputNames, shared: holder }));
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
export function installOrt(ort: OrtRuntime, defaults: Required<OrtOptions>, about: OrtPlatform = {}): OrtBackend {
  platformDefaults = defaults;
  platform = about;
  instance ??= new OrtBackend(ort);
  return instance;
}

/** Writes the profiles of the cached sessions now (see OrtOptions.profilePrefix); a no-op when none profile. */
export function endOrtProfiling(): void {
  instance?.endProfiling();
}

/** Counters of the ort backend (zeros before first use). */
export function ortStats(): OrtStats {
  return instance ? { ...instance.stats } : { runs: 0, hits: 0, misses: 0, compileMs: 0, fallbacks: 0, cached: 0, arenaSessions: 0, sessions: 0, modelBytes: 0 };
}

/** Zeroes the counters (not `cached`, which is the cache's size). */
export function resetOrtStats(): void {
  if (instance) Object.assign(instance.stats, { runs: 0, hits: 0, misses: 0, compileMs: 0, fallbacks: 0, arenaSessions: 0 });
}
